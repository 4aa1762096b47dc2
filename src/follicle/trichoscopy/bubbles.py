"""Air bubbles in the immersion fluid: their rims are not hair.

Contact dermoscopy puts a drop of fluid between the lens and the skin, and it often holds air
bubbles. Light leaving the skin is bent away at a bubble's edge, so each shows as a thin dark
ring, as dark as a hair and about as wide as a vellus one; read as hair, a ring gave about
four false hairs (arcs of it) on the benchmark's images. A ring is found as a hole in the
hair mask that is round, with the mask all round it: a hole left between crossing hairs is a
polygon, and hairs do not close round one. A bubble the frame cuts closes round a hole with
the frame, and its circle is fitted to the rest of the hole's edge. A hole neither circle fits
gets a second chance: the circle most of its edge lies on, found by RANSAC (a hair right
across a bubble splits its hole in two, each part circle and part straight; two bubbles
overlapping close round holes bounded by arcs of both). Its rim is taken out of
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
#: A bubble the frame cuts has this share of the rest of its edge on the circle fitted to it
#: at least: what the frame closes between two hairs fits a circle less well.
BUBBLE_MIN_ON_FITTED = 0.5
#: Bubbles from this wide (inside their rim) up: a smaller ring closes into a dot.
BUBBLE_MIN_HOLE_UM = 60.0
#: A rim at most this share of the bubble's radius wide, plus a pixel or two of blur...
BUBBLE_MAX_RIM_SHARE = 0.25
#: ...found just outside the hole in this share of directions at least (all round it)...
RIM_CLOSED_SHARE = 0.9
#: ...and ending within that width in this share (elsewhere hairs cross or touch it).
RIM_THIN_SHARE = 0.6
#: The rim of a bubble the frame cuts is looked for this many pixels either side of the
#: circle fitted to the rest of its edge; and every rim is taken out this much wider either
#: side (its blurred edges, left, made short false hairs).
RIM_SEARCH_PX = 3
#: A hole neither circle fits gets a second chance: the circle most of its edge lies on (of
#: this many through three of its edge's points), when at least this share of it does.
SECOND_CHANCE_DRAWS = 64
#: ...each scored on about this many of the edge's points, spread evenly along it.
SECOND_CHANCE_SCORED = 128
BUBBLE_MIN_ON_SECOND = 0.4
#: Circles this close (centres and radii, in pixels summed) are one bubble.
SAME_BUBBLE_PX = 6.0
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
    found: list[tuple[float, float, float]] = []
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
        circle = _bubble_circle(points, at_frame)
        if circle is None:
            continue
        x, y, radius, slack = circle
        if any(abs(x - a) + abs(y - b) + abs(radius - r) <= SAME_BUBBLE_PX for a, b, r in found):
            continue  # (one bubble closing round two holes: two overlapping, or a hair across)
        rim = _rim_width(mask, (x, y), radius, slack)
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
            math.ceil(outer - radius + 2 + 2 * RIM_SEARCH_PX),
        )
        rings.append(_circle_outline(x, y, outer))
        found.append((x, y, radius))
    return kept, tuple(rings)


def _bubble_circle(
    edge: npt.NDArray[np.float64], at_frame: npt.NDArray[np.bool_]
) -> tuple[float, float, float, int] | None:
    """The circle a hole's edge (x, y; ``at_frame`` where the frame closes it) lies on, if it
    is round enough to be a bubble's: (x, y, radius, how many pixels either side of it its rim
    is looked for), or None."""
    points = edge[~at_frame]
    cut = bool(at_frame.any())
    if cut:  # cut by the frame: the circle through the rest of its edge
        circle = _fitted_circle(points)
        if circle is None:
            return None
        x, y, radius = circle
        slack = RIM_SEARCH_PX  # (bays in the edge pull the fit a few pixels off)
    else:
        (x, y), radius = cv2.minEnclosingCircle(points.astype(np.float32))
        slack = 0  # (it touches the edge)
    # Round where it meets the rim: hairs lying inside the bubble or crossing its rim cut
    # bays into the hole, but most of its edge stays on the circle.
    if _share_on(points, x, y, radius) >= (BUBBLE_MIN_ON_FITTED if cut else BUBBLE_MIN_ON_CIRCLE):
        return _closed_within(edge[at_frame], x, y, radius, slack)
    # A second chance: the circle most of the edge lies on (a bubble a hair cuts across
    # closes round two holes, each a part of its circle and the hair's straight edge; two
    # bubbles overlapping, round holes bounded by arcs of both).
    best = _circle_on_most(points)
    if best is None or _share_on(points, *best) < BUBBLE_MIN_ON_SECOND:
        return None
    # (it runs within ON_CIRCLE_PX of most of the edge, so the rim is looked for that far)
    return _closed_within(edge[at_frame], *best, math.ceil(ON_CIRCLE_PX))


def _closed_within(
    frame_edge: npt.NDArray[np.float64], x: float, y: float, radius: float, slack: int
) -> tuple[float, float, float, int] | None:
    """The circle, if the frame closes the hole within it (along a chord of the bubble cut
    off): the skin outside a ring the frame cuts is closed by the frame too, but beyond it."""
    beyond = np.hypot(frame_edge[:, 0] - x, frame_edge[:, 1] - y) > radius + slack + ON_CIRCLE_PX
    return None if beyond.any() else (x, y, radius, slack)


def _share_on(points: npt.NDArray[np.float64], x: float, y: float, radius: float) -> float:
    off = np.abs(np.hypot(points[:, 0] - x, points[:, 1] - y) - radius)
    return float(np.mean(off <= ON_CIRCLE_PX))


def _circle_on_most(points: npt.NDArray[np.float64]) -> tuple[float, float, float] | None:
    """Of circles through three of ``points`` (chosen by a fixed draw, so the result is
    the same every time), the one most of them lie on: RANSAC."""
    if len(points) < 8:
        return None
    draw = np.random.default_rng(0).integers(0, len(points), size=(SECOND_CHANCE_DRAWS, 3))
    a, b, c = points[draw[:, 0]], points[draw[:, 1]], points[draw[:, 2]]
    d = 2 * (
        a[:, 0] * (b[:, 1] - c[:, 1])
        + b[:, 0] * (c[:, 1] - a[:, 1])
        + c[:, 0] * (a[:, 1] - b[:, 1])
    )
    ok = np.abs(d) > 1e-6  # (not in a line)
    a, b, c, d = a[ok], b[ok], c[ok], d[ok]
    sa, sb, sc = (a**2).sum(axis=1), (b**2).sum(axis=1), (c**2).sum(axis=1)
    xs = (sa * (b[:, 1] - c[:, 1]) + sb * (c[:, 1] - a[:, 1]) + sc * (a[:, 1] - b[:, 1])) / d
    ys = (sa * (c[:, 0] - b[:, 0]) + sb * (a[:, 0] - c[:, 0]) + sc * (b[:, 0] - a[:, 0])) / d
    radii = np.hypot(a[:, 0] - xs, a[:, 1] - ys)
    if not len(radii):
        return None
    scored = points[:: max(1, len(points) // SECOND_CHANCE_SCORED)]  # (an even spread)
    off = np.abs(
        np.hypot(scored[None, :, 0] - xs[:, None], scored[None, :, 1] - ys[:, None])
        - radii[:, None]
    )
    best = int(np.argmax((off <= ON_CIRCLE_PX).sum(axis=1)))
    return float(xs[best]), float(ys[best]), float(radii[best])


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
    mask: npt.NDArray[np.uint8], centre: tuple[float, float], radius: float, slack: int = 0
) -> float | None:
    """How wide the mask is just outside the hole, all round it (the median over directions),
    or None when it is not a rim: open somewhere, or wider than a bubble's rim."""
    height, width = mask.shape
    limit = BUBBLE_MAX_RIM_SHARE * radius + 3
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    steps = np.arange(-slack, limit + 1.0)
    xs = centre[0] + np.outer(np.cos(angles), radius + 1 + steps)
    ys = centre[1] + np.outer(np.sin(angles), radius + 1 + steps)
    cols = np.round(xs).astype(int)
    rows = np.round(ys).astype(int)
    # (directions leaving the frame where the rim is due are not judged: the frame cut the
    # bubble there)
    seen = (
        (cols[:, slack] >= 0)
        & (cols[:, slack] < width)
        & (rows[:, slack] >= 0)
        & (rows[:, slack] < height)
    )
    if seen.mean() < MIN_SHARE_IN_FRAME:
        return None
    within = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    on = mask[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)] > 0
    on = np.where(within, on, False)[seen]
    # The rim begins within ``slack`` pixels of the circle either way (a circle fitted to an
    # edge with bays in it is off by that much).
    starts = np.argmax(on[:, : 2 * slack + 1], axis=1)
    closed = on[np.arange(len(on)), starts]
    if closed.mean() < RIM_CLOSED_SHARE:
        return None  # not closed all round (the hole's edge is not round after all)
    from_rim = np.where(np.arange(on.shape[1])[None, :] >= starts[:, None], on, True)
    ends = np.argmin(np.concatenate([from_rim, np.zeros((len(on), 1), bool)], axis=1), axis=1)
    runs = (ends - starts)[closed]
    # A thin rim where no hair crosses it: in most directions it ends within the limit.
    if np.mean(runs <= limit) < RIM_THIN_SHARE:
        return None
    return float(np.median(runs))


def _circle_outline(x: float, y: float, radius: float) -> tuple[tuple[int, int], ...]:
    angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    return tuple((round(x + radius * math.cos(a)), round(y + radius * math.sin(a))) for a in angles)
