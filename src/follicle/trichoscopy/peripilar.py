"""The brown peripilar sign: a soft brown halo round a follicular opening, seen in about half
of patients with androgenetic alopecia (Abdalla et al. 2024, Dermatol Pract Concept 14(1)).

A halo passes the hair threshold as a soft blob whose skeleton reads as two or three short
crossing "hairs". Such a piece lies in a patch about as faint as itself, where a hair stands
out from the skin at its sides; a vellus hair between two terminal hairs of its follicular
unit has stronger contrast beside it, not similar. So a candidate fainter than the image's
typical hair, with contrast on both sides at least half its own and not much more, is taken
for a halo (docs/trichoscopy.md, "The brown peripilar sign").

>>> import numpy as np
>>> contrast = np.zeros((40, 40), dtype=np.float32)
>>> contrast[:, 19:22] = 10.0  # a hair 3 px wide on bare skin
>>> hair = Hair(20.0, 5.0, 20.0, 35.0, 150.0, 15.0, False)
>>> side_contrast_ratios([hair], contrast, Scale(5.0)).round(2).tolist()
[[0.0, 0.0]]
>>> contrast[:, :] += 12.0  # the same piece in a patch about as faint as itself: a halo's
>>> side_contrast_ratios([hair], contrast, Scale(5.0)).round(2).tolist()
[[0.55, 0.55]]
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.hair import Hair, Scale
from follicle.trichoscopy.sifting import shaft_contrast

#: How far past a candidate's edge (px at the working scale) the contrast beside it is read:
#: past the blur of a hair's edge, within a halo 400 um and more across.
SIDE_GAP_PX = (3.0, 4.0, 5.0)
#: Where along the candidate it is read (as shares of its length): off its ends, which may
#: lie on another hair.
ALONG = np.linspace(0.3, 0.7, 9)
#: A candidate is a halo's piece when the contrast on its fainter side is over HALO_SIDE_LOW
#: of its own, on its stronger side under HALO_SIDE_HIGH (more is a neighbouring hair), and
#: it is fainter than HALO_FAINT_FRACTION of the image's typical hair. Chosen on the
#: benchmark's 192 scenes with halos at 60 % of openings and without (docs/trichoscopy.md):
#: true hairs' fainter side has a median of 0.06, the halos' pieces 0.65.
HALO_SIDE_LOW = 0.5
HALO_SIDE_HIGH = 1.6
HALO_FAINT_FRACTION = 0.7
MIN_HAIRS = 5  # (fewer tell no typical hair)


def side_contrast_ratios(
    hairs: list[Hair], contrast: npt.NDArray[np.float32], params: Scale
) -> npt.NDArray[np.float64]:
    """Each hair's contrast beside it, on its fainter and its stronger side (columns), over
    its contrast along its axis: medians over the middle of its length."""
    if not hairs:
        return np.zeros((0, 2))
    starts = np.array([[h.x_px, h.y_px] for h in hairs], dtype=np.float64)
    axis = np.array([[h.end_x_px, h.end_y_px] for h in hairs], dtype=np.float64) - starts
    length = np.maximum(np.hypot(axis[:, 0], axis[:, 1]), 1e-6)
    normal = np.stack([-axis[:, 1], axis[:, 0]], axis=1) / length[:, None]
    half_width = np.array([params.px(h.diameter_um) / 2 for h in hairs])
    centres = starts[:, None, :] + ALONG[None, :, None] * axis[:, None, :]

    def read(offsets_px: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
        values = []
        for offset in offsets_px:
            points = (centres + offset[:, None, None] * normal[:, None, :]).astype(np.float32)
            values.append(cv2.remap(contrast, points[..., 0], points[..., 1], cv2.INTER_LINEAR))
        return np.asarray(np.median(np.stack(values), axis=0), dtype=np.float64)

    core = np.maximum(read([np.zeros(len(hairs))]), 1e-6)
    left = read([-(half_width + gap) for gap in SIDE_GAP_PX])
    right = read([half_width + gap for gap in SIDE_GAP_PX])
    # the fainter side is chosen at each point along (neighbours cross either side)
    low = np.median(np.minimum(left, right) / core, axis=1)
    high = np.median(np.maximum(left, right), axis=1) / np.median(core, axis=1)
    return np.stack([low, high], axis=1)


def drop_halos(hairs: list[Hair], contrast: npt.NDArray[np.float32], params: Scale) -> list[Hair]:
    """Drop the pieces of peripilar halos read as hairs (see the module's docstring)."""
    if len(hairs) < MIN_HAIRS:
        return hairs
    shaft = shaft_contrast(hairs, contrast)
    faint = shaft < HALO_FAINT_FRACTION * float(np.median(shaft))
    sides = side_contrast_ratios(hairs, contrast, params)
    halo = faint & (sides[:, 0] > HALO_SIDE_LOW) & (sides[:, 1] < HALO_SIDE_HIGH)
    return [hair for hair, is_halo in zip(hairs, halo.tolist(), strict=True) if not is_halo]
