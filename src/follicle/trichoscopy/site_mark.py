"""The tattoo dot that marks the site: found, so that it is not read as hair, and left out of
the area measured.

The phototrichogram finds the same square centimetre again at each visit by a small tattoo
dot in it. Seen through the dermatoscope the dot is a blue-black patch 0.3-1 mm across: far
wider than a hair, and, when large, taken into the estimate of the skin around it, so that
only its rim stood out, read as a ring of false hairs (about 5 a dot on the benchmark's
images, up to 20). It is found as a patch of colour far from the skin's that a disc wider
than any clump of hair fits in, against the skin's colour judged over millimetres.

>>> import numpy as np
>>> rgb = np.full((600, 800, 3), (205, 160, 126), np.uint8)
>>> yy, xx = np.mgrid[:600, :800]
>>> rgb[np.hypot(yy - 300, xx - 400) < 60] = (70, 70, 90)  # a dot 0.6 mm across at 5 um/px
>>> marks = site_marks(rgb, um_per_px=5.0)
>>> len(marks.outlines), int(marks.mask[300, 400]), int(marks.mask[300, 200])
(1, 1, 0)
>>> rgb[np.hypot(yy - 300, xx - 400) < 60] = (25, 22, 22)  # as dark as black hair: a clump
>>> site_marks(rgb, um_per_px=5.0) is None
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.hair import PatchOutlines, simplified_outline

#: A disc this wide fits in a site mark, and in no clump of hair: on the benchmark's 96
#: images of its first two sets the widest disc in what is as dark as a clump is 264 um.
SITE_MARK_CORE_UM = 300.0
#: A site mark's colour lies at least this far from the skin's (CIELAB, delta E): on the
#: darkest skin (Fitzpatrick VI) blue-black ink is about 24 away, mostly in its blueness.
SITE_MARK_DELTA_E = 12.0
#: Bluer than the skin around it by this much (CIELAB b*), and at least this light (L*): the
#: two tell a mark from a clump of dyed or black hair as wide (b* 3 bluer; L* 7).
SITE_MARK_BLUER = 8.0
SITE_MARK_MIN_LIGHTNESS = 14.0
#: The skin's colour is its median over a square this wide: far wider than a mark.
SKIN_WINDOW_UM = 2500.0
#: The mark's soft edge (ink spread in the dermis) is taken with it this far out.
SITE_MARK_RIM_UM = 100.0
#: Looked for at this fraction of the size.
SCALE = 8


@dataclass(frozen=True)
class SiteMarks:
    """Where the site marks are (1, in the image's pixels) and their outlines (x, y)."""

    mask: npt.NDArray[np.uint8]
    outlines: PatchOutlines


def site_marks(
    rgb: npt.NDArray[np.uint8],
    um_per_px: float,
    inside: npt.NDArray[np.uint8] | None = None,
) -> SiteMarks | None:
    """The site marks in ``rgb`` (within the field of view ``inside``, when given), or None.

    Looked for in one pixel of every SCALE each way (a hair sampled so is a thin line, and
    no disc of the mark's width fits in it): well under a millisecond on most images.
    """
    height, width = rgb.shape[:2]
    px = um_per_px * SCALE  # (µm per pixel here)
    core_px = SITE_MARK_CORE_UM / px
    small = np.ascontiguousarray(rgb[SCALE // 2 :: SCALE, SCALE // 2 :: SCALE])
    if min(small.shape[:2]) < 3 * core_px:
        return None
    lab = _lab(small)
    skin = _skin_lab(small, SKIN_WINDOW_UM / px)
    delta = lab - skin
    far = np.sqrt((delta**2).sum(axis=2)) > SITE_MARK_DELTA_E
    candidate = (far & (delta[:, :, 0] < 0)).astype(np.uint8)
    if inside is not None:
        candidate &= inside[SCALE // 2 :: SCALE, SCALE // 2 :: SCALE]
    framed = cv2.copyMakeBorder(candidate, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    centres = cv2.distanceTransform(framed, cv2.DIST_L2, 5)[1:-1, 1:-1] >= core_px / 2
    if not centres.any():
        return None
    count, labels = cv2.connectedComponents(centres.astype(np.uint8), connectivity=8)
    marks = np.zeros_like(candidate)
    for label in range(1, count):
        core = labels == label
        colour = np.median(lab[core], axis=0)
        bluer = colour[2] - float(np.median(skin[core][:, 2]))
        # Ink under the skin is bluer than the skin around it (the epidermis scatters the
        # blue back), and never as dark as a shaft lying on it: a black or dyed clump is not.
        if bluer < -SITE_MARK_BLUER and colour[0] >= SITE_MARK_MIN_LIGHTNESS:
            marks[core] = 1
    if not marks.any():
        return None
    # All the discs that fit, and the mark's soft edge: the mark without the hairs touching it.
    reach = core_px / 2 + SITE_MARK_RIM_UM / px
    side = 2 * math.ceil(reach) + 1
    grown = cv2.dilate(marks, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    outlines, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    mask = np.zeros((height, width), dtype=np.uint8)
    full_size = [np.round((outline + 0.5) * SCALE).astype(np.int32) for outline in outlines]
    cv2.drawContours(mask, full_size, -1, 1, thickness=cv2.FILLED)
    return SiteMarks(mask, tuple(simplified_outline(outline) for outline in full_size))


def _lab(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """CIELAB (L 0-100; a and b about 0 for grey) from 8-bit sRGB."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).astype(np.float32)
    lab[:, :, 0] *= 100.0 / 255.0
    lab[:, :, 1:] -= 128.0
    return lab


def _skin_lab(rgb: npt.NDArray[np.uint8], window_px: float) -> npt.NDArray[np.float32]:
    """The skin's colour around each pixel: the median over ``window_px`` (in CIELAB), worked
    out at a further quarter size (a median filter's time grows with its window)."""
    height, width = rgb.shape[:2]
    tiny = cv2.resize(rgb, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    side = max(3, 2 * round(window_px / 4 / 2) + 1)
    median = _lab(np.asarray(cv2.medianBlur(tiny, side), dtype=np.uint8))
    return np.asarray(
        cv2.resize(median, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32
    )
