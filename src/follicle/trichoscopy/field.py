"""The dermoscope's field of view: the part of the image that is scalp.

A dermatoscope on a phone, and many camera adapters, image a round field with black around
it. That black is not skin: its edge would be read as hair all round the circle, and the
scalp's area (and so the density) would be taken as the whole frame's. The black is found
as dark regions reaching the frame that are wider than any hair or pile of hairs (a black
hair at the frame is as dark, but narrow), and everything else is the field.

>>> import numpy as np
>>> rgb = np.full((400, 400, 3), 180, np.uint8)
>>> yy, xx = np.mgrid[:400, :400]
>>> rgb[np.hypot(yy - 200, xx - 200) > 190] = 5  # black corners around a round field
>>> field = field_of_view(rgb, um_per_px=5.0)
>>> field is not None and 0.5 < field.share < 0.71  # the round field, less a margin
True
>>> field_of_view(np.full((400, 400, 3), 180, np.uint8), um_per_px=5.0) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.hair import PatchOutlines, simplified_outline

#: Darker than this share of the scalp's median brightness, and than OUTSIDE_MAX_LEVEL, a
#: pixel may lie outside the field (the black around a lens is near 0-30 grey levels; the
#: darkest skin in the benchmark is about 60).
OUTSIDE_SHARE_OF_SCALP = 0.5
OUTSIDE_MAX_LEVEL = 45.0
#: ...and it does when it is wider than any hair where it reaches into the image (a disc
#: this wide fits in it: a hair is 150 µm wide at most) and a disc as wide as a clump of black
#: hairs fits in it somewhere (OUTSIDE_CORE_UM).
OUTSIDE_MIN_WIDTH_UM = 200.0
OUTSIDE_CORE_UM = 300.0
#: Less than this share of the image so found is left as it is (a dark corner of vignetting).
OUTSIDE_MIN_SHARE = 0.01
#: The field's edge is blurred and darkened by the lens: the field is taken this far inside it.
EDGE_MARGIN_UM = 100.0
#: The field is looked for at this fraction of the size, and only when at least this share
#: of the frame's edge is dark in runs (a round field's black reaches it at the corners at
#: least; a hair crossing the edge darkens a block or two).
SCALE = 8
FRAME_MIN_DARK_SHARE = 0.02
FRAME_MIN_RUN = 4


@dataclass(frozen=True)
class FieldOfView:
    """Where the scalp is seen (1) and what share of the frame that is."""

    inside: npt.NDArray[np.uint8]
    share: float

    def outline(self) -> PatchOutlines:
        """The field's edge (x, y), to draw on the overlay: what lies outside was not read. (It
        is found at 1/SCALE size, so its edge is in steps of that many pixels.)"""
        traced, _ = cv2.findContours(self.inside, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        return tuple(simplified_outline(edge) for edge in traced)


def field_of_view(rgb: npt.NDArray[np.uint8], um_per_px: float) -> FieldOfView | None:
    """The field of view, or None when the scalp fills the frame (the usual case).

    Worked out at an eighth of the size; the frame's edge is looked at first, and most
    images stop there (under a millisecond).
    """
    height, width = rgb.shape[:2]
    if min(height, width) < 8 * SCALE:
        return None
    centre = rgb[height // 4 : -(height // 4) : SCALE, width // 4 : -(width // 4) : SCALE]
    level = min(OUTSIDE_MAX_LEVEL, OUTSIDE_SHARE_OF_SCALP * float(np.median(centre.mean(axis=2))))
    if _frame_dark_share(rgb, level) < FRAME_MIN_DARK_SHARE:
        return None
    # (one pixel in SCALE each way: averaging them all took 7 ms; a hair sampled so is a thin
    # line, taken out below as a hair is)
    small = np.ascontiguousarray(rgb[SCALE // 2 :: SCALE, SCALE // 2 :: SCALE])
    dark = (cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) < level).astype(np.uint8)
    rows, cols = dark.shape
    px = um_per_px * SCALE  # (µm per pixel here)
    # Wider than any hair (opened by a disc of the width), and wider than a clump somewhere.
    opened = _opened(dark, OUTSIDE_MIN_WIDTH_UM / px)
    core = cv2.distanceTransform(dark, cv2.DIST_L2, 5) >= OUTSIDE_CORE_UM / px / 2
    _, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    outside_labels = [
        label
        for label in np.unique(labels[core]).tolist()
        if label > 0 and _at_frame(stats[label], (rows, cols))
    ]
    outside = np.asarray(np.isin(labels, outside_labels), dtype=np.uint8)
    if outside.mean() < OUTSIDE_MIN_SHARE:
        return None
    margin = max(1, round(EDGE_MARGIN_UM / px))
    grown = cv2.dilate(outside, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    inside = np.asarray(
        cv2.resize(1 - grown, (width, height), interpolation=cv2.INTER_NEAREST), dtype=np.uint8
    )
    return FieldOfView(inside, float(inside.mean()))


def _frame_dark_share(rgb: npt.NDArray[np.uint8], level: float) -> float:
    """The share of the frame's edge (in blocks of SCALE pixels) darker than ``level`` in
    runs of FRAME_MIN_RUN blocks or more (a hair crossing the edge darkens one or two)."""
    strips = [rgb[:SCALE], rgb[-SCALE:], rgb[:, :SCALE].transpose(1, 0, 2)]
    strips.append(rgb[:, -SCALE:].transpose(1, 0, 2))
    in_runs = 0
    blocks = 0
    for strip in strips:
        length = strip.shape[1] // SCALE
        grey = strip[:, : length * SCALE].reshape(SCALE, length, SCALE, 3).mean(axis=(0, 2, 3))
        dark = np.concatenate([[0], (grey < level).astype(np.int8), [0]])
        steps = np.diff(dark)
        runs = np.flatnonzero(steps == -1) - np.flatnonzero(steps == 1)
        in_runs += int(runs[runs >= FRAME_MIN_RUN].sum())
        blocks += length
    return in_runs / max(blocks, 1)


def _at_frame(box: npt.NDArray[np.int32], shape: tuple[int, int]) -> bool:
    x, y, w, h = (int(v) for v in box[:4])
    return x == 0 or y == 0 or x + w == shape[1] or y + h == shape[0]


def _opened(mask: npt.NDArray[np.uint8], width_px: float) -> npt.NDArray[np.uint8]:
    """The parts of ``mask`` a disc ``width_px`` wide fits in."""
    side = max(3, 2 * round(width_px / 2) + 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    return np.asarray(cv2.morphologyEx(mask, cv2.MORPH_OPEN, disc), dtype=np.uint8)
