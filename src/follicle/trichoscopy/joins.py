"""Pieces of one shaft split by thresholding, or cut in two by a hair lying across it, joined
into one hair."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.chains import (
    JOIN_WITHIN_DEG,
    crossing,
)
from follicle.trichoscopy.hair import (
    MAX_HAIR_DIAMETER_UM,
    Hair,
    Scale,
)
from follicle.trichoscopy.sifting import (
    MIN_SHAFT_CONTRAST_SD,
    pixels_along,
)
from follicle.trichoscopy.skin import SKIN_SD


def join_broken(hairs: list[Hair], params: Scale, contrast: npt.NDArray[np.float32]) -> list[Hair]:
    """Join pieces of one shaft that thresholding split into separate shapes, or that a
    hair lying across it cut in two (where ``contrast`` shows a shaft all across the gap)."""
    from scipy.spatial import cKDTree  # loads on first analysis, not when the server starts

    max_gap = params.px(MAX_HAIR_DIAMETER_UM)
    while len(hairs) > 1:
        ends = np.array(
            [[h.x_px, h.y_px] for h in hairs] + [[h.end_x_px, h.end_y_px] for h in hairs],
            dtype=np.float64,
        )
        axes = ends[len(hairs) :] - ends[: len(hairs)]
        axes /= np.maximum(np.hypot(*axes.T), 1e-9)[:, None]
        # (each pair of ends, lower end index first, as the hairs they belong to)
        close = np.sort(cKDTree(ends).query_pairs(max_gap, output_type="ndarray"), axis=1)
        close %= len(hairs)
        close = close[close[:, 0] != close[:, 1]]
        candidates = sorted(
            set(map(tuple, close[~crossing(axes[close[:, 0]], axes[close[:, 1]])].tolist()))
        )
        used: set[int] = set()
        merged: list[Hair] = []
        for i, j in candidates:
            if i in used or j in used:
                continue
            joined = _join_pair(hairs[i], hairs[j], max_gap, params, contrast)
            if joined is not None:
                used.update((i, j))
                merged.append(joined)
        if not merged:
            break
        hairs = [h for k, h in enumerate(hairs) if k not in used] + merged
    return hairs


SHORT_GAP_UM = 60.0  # pieces this close are joined whatever lies between them


def _faintest_between(
    start: npt.NDArray[np.float64], stop: npt.NDArray[np.float64], contrast: npt.NDArray[Any]
) -> float:
    """The lowest contrast on the line from ``start`` to ``stop`` (x, y), 9 samples."""
    ends = np.array([[start[1], start[0], stop[1], stop[0]]], dtype=np.float64)
    rows, cols = pixels_along(ends, 9, (contrast.shape[0], contrast.shape[1]))
    return float(contrast[rows, cols].min())


def _join_pair(
    a: Hair,
    b: Hair,
    max_gap_px: float,
    params: Scale,
    contrast: npt.NDArray[np.float32],
) -> Hair | None:
    pa = np.array([[a.x_px, a.y_px], [a.end_x_px, a.end_y_px]])
    pb = np.array([[b.x_px, b.y_px], [b.end_x_px, b.end_y_px]])
    da, db = pa[1] - pa[0], pb[1] - pb[0]
    la, lb = float(np.hypot(*da)), float(np.hypot(*db))
    if la < 1 or lb < 1:
        return None
    ua, ub = da / la, db / lb
    if abs(float(np.dot(ua, ub))) < math.cos(math.radians(JOIN_WITHIN_DEG)):
        return None
    # the closest pair of ends must be a short gap, in line with both pieces
    ends = [(ia, ib, float(np.hypot(*(pb[ib] - pa[ia])))) for ia in (0, 1) for ib in (0, 1)]
    ia, ib, gap = min(ends, key=lambda e: e[2])
    if gap > max_gap_px:
        return None
    heading_a = (pa[ia] - pa[1 - ia]) / la  # towards the gap
    heading_b = (pb[1 - ib] - pb[ib]) / lb  # away from it
    if float(np.dot(heading_a, heading_b)) < math.cos(math.radians(JOIN_WITHIN_DEG)):
        return None  # a V from one opening, not one shaft broken in two
    if (
        gap > params.px(SHORT_GAP_UM)
        and _faintest_between(pa[ia], pb[ib], contrast) < MIN_SHAFT_CONTRAST_SD * SKIN_SD
    ):
        return None  # skin shows in a wider gap: two hairs in line
    width_px = max(a.diameter_um, b.diameter_um) / params.um_per_px
    for point in (pb[0], pb[1]):
        offset = point - pa[0]
        if abs(float(offset[0] * ua[1] - offset[1] * ua[0])) > 0.5 * width_px + 2.0:
            return None
    # the pieces must not overlap along the line (that would be two parallel hairs)
    along = [float(np.dot(p - pa[0], ua)) for p in pb]
    if min(along) < la - 2 and max(along) > 2:
        return None
    far = [pa[1 - ia], pb[1 - ib]]
    length_um = a.length_um + b.length_um + gap * params.um_per_px
    diameter = (a.diameter_um * a.length_um + b.diameter_um * b.length_um) / (
        a.length_um + b.length_um
    )
    return Hair(
        float(far[0][0]),
        float(far[0][1]),
        float(far[1][0]),
        float(far[1][1]),
        length_um,
        diameter,
        a.terminal if a.length_um >= b.length_um else b.terminal,
    )
