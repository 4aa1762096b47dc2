"""How sharp an image is, read from its own hairs: how far their edges are spread.

A dermoscope lifted off the skin, or a scalp not pressed flat, gives an image out of focus:
thin (vellus) hairs fade below the threshold and every shaft reads wider. The analysis says so
instead of counting on regardless.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import erfinv

from follicle.trichoscopy.sampling import light_evened_distance

#: Profiles across each hair at these fractions of its length: its middle, away from the
#: tapered exit and the cut end.
ALONG = np.linspace(0.3, 0.7, 9)
STEP_PX = 0.5
#: Each profile reaches this far past the hair's edge (blur of up to ~3 px fits inside).
MARGIN_PX = 8.0
MIN_LENGTH_PX = 8.0
#: The rise is read over this distance, so the sensor's noise is not read as an edge.
SLOPE_PX = 1.0
#: The median needs no more hairs than this (evenly spread over the wider half).
MAX_HAIRS = 60
#: Profiles whose plateau stands less than this far above the skin (light-evened colour
#: distance, 0-255 scale) are too faint for their slope to be read over the noise.
MIN_PLATEAU = 10.0
#: Edges read as spread wider than this (µm on the skin, as :func:`edge_spread_px` reads
#: them) are warned of. On the benchmark images (docs/trichoscopy.md, "Focus"), as taken they
#: read 1.6-5.4 µm (none warned); blurred to about 6.5 µm in all (diameter error just over its
#: 5 µm target) 3.6-7.3 µm; to about 8.5 µm (diameter error 5.8 µm, terminal/vellus 95 %
#: right against 99 %, count 2 % low) 4.9-9.1 µm; to about 13 µm (count error doubled, 15 %
#: of hairs misclassified) 7.9-12.9 µm: strong blur is read low, so the bound sits below it.
OUT_OF_FOCUS_EDGE_UM = 7.0

OUT_OF_FOCUS = (
    "looks out of focus (hair edges spread over about {spread:.0f} µm): thin and vellus hairs "
    "may be missed and diameters read too wide; press the dermoscope flat and take it again"
)


def edge_spread_px(
    diff: npt.NDArray[np.float32],
    gain: npt.NDArray[np.float32],
    starts: npt.NDArray[np.float64],
    ends: npt.NDArray[np.float64],
    widths_px: npt.NDArray[np.float64],
) -> float | None:
    """The image's blur as the standard deviation (px) of a Gaussian that spreads its hairs'
    edges as much, or None with no hair to read it on.

    Across a step of height h blurred by a Gaussian of standard deviation s, the steepest
    rise over a distance d is h erf(d / (2 sqrt(2) s)); so s follows from the plateau and the
    steepest rise over :data:`SLOPE_PX`, read on profiles across the wider half of the hairs
    (``starts`` and ``ends`` are their (x, y) end points, ``widths_px`` their shaft widths),
    whose plateau is reached between their edges; the median over hairs. ``diff`` is each
    pixel's colour difference from the skin and ``gain`` its light-evening gain, unblurred.

    On the benchmark images as taken (blur 2.5-5.5 µm) it reads within -1.0 to +0.2 µm for
    eight in ten (median -0.05 µm); blurred further it reads low, by a median 1.2 µm at 8.5 µm
    and 2.6 µm at 13 µm.

    >>> import cv2
    >>> diff = np.zeros((60, 60, 3), np.float32)
    >>> diff[:, 25:35] = -60.0  # a dark hair 10 px wide, running down
    >>> blurred = cv2.GaussianBlur(diff, (0, 0), 1.5)
    >>> gain = np.ones((60, 60), np.float32)
    >>> ends = np.array([[30.0, 5.0]]), np.array([[30.0, 55.0]])
    >>> round(edge_spread_px(blurred, gain, *ends, np.array([10.0])), 1)
    1.5
    """
    if len(widths_px) == 0:
        return None
    wide = widths_px >= np.median(widths_px)
    vector = ends[wide] - starts[wide]
    length = np.hypot(vector[:, 0], vector[:, 1])
    kept = length >= MIN_LENGTH_PX
    if not kept.any():
        return None
    every = max(1, math.ceil(int(kept.sum()) / MAX_HAIRS))
    origin = starts[wide][kept][::every]
    vector, length = vector[kept][::every], length[kept][::every]
    reach = widths_px[wide][kept][::every] / 2 + MARGIN_PX
    normal = np.stack([-vector[:, 1], vector[:, 0]], axis=1) / length[:, None]
    # Every profile samples the same offsets; a narrower hair's ends past its reach are
    # left out.
    half = math.ceil(float(reach.max()) / STEP_PX)
    offsets = np.arange(-half, half + 1) * STEP_PX
    centres = origin[:, None, :] + ALONG[None, :, None] * vector[:, None, :]
    points = centres[:, :, None, :] + offsets[None, None, :, None] * normal[:, None, None, :]
    xs = points[..., 0].reshape(-1, len(offsets)).astype(np.float32)
    ys = points[..., 1].reshape(-1, len(offsets)).astype(np.float32)
    profiles = light_evened_distance((diff, gain), ys, xs).astype(np.float64)
    own = np.repeat(np.ceil(reach / STEP_PX).astype(np.intp), len(ALONG))
    inside = np.abs(np.arange(-half, half + 1))[None, :] <= own[:, None]
    rows = np.arange(len(profiles))[:, None]
    sides = np.concatenate(
        [
            profiles[rows, half - own[:, None] + np.arange(4)[None, :]],
            profiles[rows, half + own[:, None] - np.arange(4)[None, :]],
        ],
        axis=1,
    )
    above = profiles - np.median(sides, axis=1)[:, None]
    # The 92nd percentile inside each profile's own reach (places outside sort first).
    ordered = np.sort(np.where(inside, above, -np.inf), axis=1)
    count = 2 * own + 1
    plateau = ordered[rows[:, 0], len(offsets) - count + (0.92 * (count - 1)).astype(np.intp)]
    # The steepest rise over SLOPE_PX: across a step of height h blurred by a Gaussian of
    # standard deviation s, it is h erf(d / (2 sqrt(2) s)) over a distance d.
    k = round(SLOPE_PX / STEP_PX)
    rise = np.abs(above[:, k:] - above[:, :-k])
    steepest = np.where(inside[:, k:] & inside[:, :-k], rise, 0.0).max(axis=1)
    readable = (plateau > MIN_PLATEAU) & (steepest > 0)
    share = np.clip(steepest / np.maximum(plateau, 1e-6), 1e-6, 0.999)
    spread = SLOPE_PX / (2 * math.sqrt(2) * erfinv(share))
    by_hair = np.where(readable, spread, np.nan).reshape(-1, len(ALONG))
    read = np.isfinite(by_hair).any(axis=1)
    if not read.any():
        return None
    return float(np.median(np.nanmedian(by_hair[read], axis=1)))


def focus_warnings(edge_spread_um: float | None) -> tuple[str, ...]:
    """A warning when the hairs' edges are spread wider than :data:`OUT_OF_FOCUS_EDGE_UM`."""
    if edge_spread_um is None or edge_spread_um <= OUT_OF_FOCUS_EDGE_UM:
        return ()
    return (OUT_OF_FOCUS.format(spread=edge_spread_um),)
