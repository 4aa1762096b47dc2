"""Air bubbles in the immersion fluid: their rims are not hair.

Contact dermoscopy puts a drop of fluid between the lens and the skin, and it often holds air
bubbles. Light leaving the skin is bent away at a bubble's edge, so each shows as a thin dark
ring, as dark as a hair and about as wide as a vellus one; read as hair, a ring gave about
four false hairs (arcs of it) on the benchmark's images. A ring is found as a hole in the
hair mask that is round, with the mask all round it: a hole left between crossing hairs is a
polygon, and hairs do not close round one. A bubble the frame cuts closes round a hole with
the frame, and its circle is fitted to the rest of the hole's edge. Its rim is taken out of
the mask; a hair crossing the rim loses that piece and is joined across it as across any
crossing.

>>> import numpy as np, cv2
>>> from follicle.trichoscopy.hair import Scale
>>> mask = np.zeros((300, 300), np.uint8)
>>> _ = cv2.circle(mask, (150, 150), 60, 1, 6)  # a ring 120 px across, its rim 6 px wide
>>> _ = cv2.line(mask, (20, 40), (280, 60), 1, 12)  # a hair
>>> kept, rings = without_bubble_rims(mask, Scale(5.0))
>>> len(rings), int(kept[150, 90]), int(kept[50, 150])  # the rim gone, the hair kept
(1, 0, 1)
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.hair import PatchOutlines, Scale

#: A hole with at least this share of its edge on its enclosing circle (within ON_CIRCLE_PX)
#: may be a bubble: a hole between crossing hairs is a polygon, on its circle at its corners.
BUBBLE_MIN_ON_CIRCLE = 0.3
ON_CIRCLE_PX = 2.0
#: Bubbles from this wide (inside their rim) up: a smaller ring closes into a dot.
BUBBLE_MIN_HOLE_UM = 60.0
#: A rim at most this share of the bubble's radius wide, plus a pixel or two of blur...
BUBBLE_MAX_RIM_SHARE = 0.25
#: ...found just outside the hole in this share of directions at least (all round it)...
RIM_CLOSED_SHARE = 0.9
#: ...and ending within that width in this share (elsewhere hairs cross or touch it).
RIM_THIN_SHARE = 0.6
#: A bubble with less of its circle than this in the frame is not judged (too little rim).
MIN_SHARE_IN_FRAME = 0.3


def without_bubble_rims(
    mask: npt.NDArray[np.uint8], params: Scale
) -> tuple[npt.NDArray[np.uint8], PatchOutlines]:
    """``mask`` without the rims of air bubbles, and the bubbles' outlines (x, y)."""
    # (framed with hair: a bubble the frame cuts then closes round a hole too)
    framed = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    contours, hierarchy = cv2.findContours(framed, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return mask, ()
    height, width = mask.shape
    min_area = math.pi * (params.px(BUBBLE_MIN_HOLE_UM) / 2) ** 2
    min_edge = 2 * params.px(BUBBLE_MIN_HOLE_UM)  # (a hole that wide has a longer edge)
    kept = mask
    rings: list[tuple[tuple[int, int], ...]] = []
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        if parent < 0 or len(contour) < min_edge:
            continue  # (an outer edge, as holes have a parent; or a small hole)
        area = cv2.contourArea(contour)
        if area < min_area:
            continue
        points = contour[:, 0, :].astype(np.float64) - 1.0
        at_frame = (
            (points[:, 0] < 0)
            | (points[:, 1] < 0)
            | (points[:, 0] > width - 1)
            | (points[:, 1] > height - 1)
        )
        if at_frame.any():  # cut by the frame: the circle through the rest of its edge
            points = points[~at_frame]
            circle = _fitted_circle(points)
            if circle is None:
                continue
            x, y, radius = circle
        else:
            (x, y), radius = cv2.minEnclosingCircle(points.astype(np.float32))
        # Round where it meets the rim: hairs lying inside the bubble or crossing its rim cut
        # bays into the hole, but most of its edge stays on the circle.
        off = np.abs(np.hypot(points[:, 0] - x, points[:, 1] - y) - radius)
        if np.mean(off <= ON_CIRCLE_PX) < BUBBLE_MIN_ON_CIRCLE:
            continue
        rim = _rim_width(mask, (x, y), radius)
        if rim is None:
            continue
        if kept is mask:
            kept = mask.copy()
        outer = radius + rim + 1.5
        cv2.circle(
            kept,
            (round(x), round(y)),
            round((radius + outer) / 2),
            0,
            math.ceil(outer - radius + 2),
        )
        rings.append(_circle_outline(x, y, outer))
    return kept, tuple(rings)


def _fitted_circle(points: npt.NDArray[np.float64]) -> tuple[float, float, float] | None:
    """The least-squares circle through ``points`` (x, y, radius)."""
    if len(points) < 8:
        return None
    xs, ys = points[:, 0], points[:, 1]
    design = np.column_stack([xs, ys, np.ones_like(xs)])
    (d, e, f), *_ = np.linalg.lstsq(design, -(xs**2 + ys**2), rcond=None)
    x, y = -d / 2, -e / 2
    squared = x * x + y * y - f
    if squared <= 0:
        return None
    return float(x), float(y), math.sqrt(squared)


def _rim_width(
    mask: npt.NDArray[np.uint8], centre: tuple[float, float], radius: float
) -> float | None:
    """How wide the mask is just outside the hole, all round it (the median over directions),
    or None when it is not a rim: open somewhere, or wider than a bubble's rim."""
    height, width = mask.shape
    limit = BUBBLE_MAX_RIM_SHARE * radius + 3
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    steps = np.arange(0.0, limit + 1.0)
    xs = centre[0] + np.outer(np.cos(angles), radius + 1 + steps)
    ys = centre[1] + np.outer(np.sin(angles), radius + 1 + steps)
    cols = np.round(xs).astype(int)
    rows = np.round(ys).astype(int)
    # (directions leaving the frame first are not judged: the frame cut the bubble there)
    seen = (cols[:, 0] >= 0) & (cols[:, 0] < width) & (rows[:, 0] >= 0) & (rows[:, 0] < height)
    if seen.mean() < MIN_SHARE_IN_FRAME:
        return None
    within = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    on = mask[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)] > 0
    on = np.where(within, on, False)[seen]
    if on[:, 0].mean() < RIM_CLOSED_SHARE:
        return None  # not closed all round (the hole's edge is not round after all)
    runs = np.argmin(np.concatenate([on, np.zeros((len(on), 1), bool)], axis=1), axis=1)
    # A thin rim where no hair crosses it: in most directions it ends within the limit.
    if np.mean(runs <= limit) < RIM_THIN_SHARE:
        return None
    return float(np.median(runs))


def _circle_outline(x: float, y: float, radius: float) -> tuple[tuple[int, int], ...]:
    angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    return tuple((round(x + radius * math.cos(a)), round(y + radius * math.sin(a))) for a in angles)
