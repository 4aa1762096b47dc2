"""Shaft widths from profiles across them: the area under each colour-distance profile over its
plateau, sub-pixel whatever the blur."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.chains import (
    principal_axes,
)
from follicle.trichoscopy.sampling import light_evened_distance


def profile_widths(
    colour: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    segments: list[npt.NDArray[np.int64]],
    reaches_px: list[float],
) -> npt.NDArray[np.float64]:
    """Shaft width of each segment from profiles across it: area under the profile over its
    plateau (0 where a segment is too short or shows no shaft).

    Profiles are of the colour distance from the skin (``colour`` holds the colour difference
    and the light-evening gain), not the whitened distance: a specular line along a light
    hair's core changes its whitened colour more than its distance.

    The integral of a blurred profile equals contrast x width whatever the blur, so this is
    sub-pixel and little biased by optics; a specular line along the shaft lowers the
    integral only a little because the plateau is read from the brighter part of the profile.
    Every profile of the image is measured at once (a few array operations per image, not a
    dozen per segment); each samples every half pixel from -reach to +reach of its segment.
    """
    widths = np.zeros(len(segments))
    measured = [i for i, points in enumerate(segments) if len(points) >= 3]
    samples = {i: math.ceil((2 * reaches_px[i] + 0.25) / 0.5) for i in measured}
    # In batches of similar profile length (each batch samples as far as its longest).
    measured.sort(key=samples.__getitem__)
    while measured:
        longest = samples[measured[0]] * SAMPLES_SPREAD
        batch = [i for i in measured if samples[i] <= longest]
        measured = measured[len(batch) :]
        widths[batch] = _profile_widths_of(
            colour,
            [segments[i] for i in batch],
            np.array([reaches_px[i] for i in batch]),
            np.array([samples[i] for i in batch]),
        )
    return widths


#: Profiles measured together are at most this many times longer than the shortest.
SAMPLES_SPREAD = 1.3


def _profile_widths_of(
    colour: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    segments: list[npt.NDArray[np.int64]],
    reaches: npt.NDArray[np.float64],
    samples_of: npt.NDArray[np.intp],
) -> npt.NDArray[np.float64]:
    """:func:`profile_widths` of segments (3 points or more) whose profiles take
    ``samples_of`` samples."""
    measured = range(len(segments))
    sizes = np.array([len(points) for points in segments])
    points = np.concatenate(segments)
    owner = np.repeat(np.arange(len(measured)), sizes)
    directions = principal_axes(points, owner, len(measured))
    # Neighbouring profiles all but repeat each other: every other one on longer segments.
    position = np.arange(len(points)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    kept = (sizes[owner] <= 12) | (position % 2 == 0)
    points, owner = points[kept], owner[kept]
    samples = samples_of[owner]
    most = int(samples.max())
    normals = directions[owner][:, ::-1].astype(np.float32) * np.array(
        [1.0, -1.0], dtype=np.float32
    )
    offsets = np.arange(most, dtype=np.float32)[None, :] * np.float32(0.5) - reaches[owner][
        :, None
    ].astype(np.float32)
    rows = points[:, 0:1].astype(np.float32) + offsets * normals[:, 0:1]
    cols = points[:, 1:2].astype(np.float32) + offsets * normals[:, 1:2]
    profiles = light_evened_distance(colour, rows, cols)
    sampled = np.arange(most)[None, :] < samples[:, None]
    # The baseline: the median of the first and last sixth (at least 2 samples each side).
    edge = np.maximum(2, samples // 6)
    step = np.arange(int(edge.max()))[None, :]
    in_edge = step < edge[:, None]
    left = np.take_along_axis(profiles, np.minimum(step, most - 1), axis=1)
    right = np.take_along_axis(
        profiles, np.clip(samples[:, None] - edge[:, None] + step, 0, most - 1), axis=1
    )
    sides = np.sort(
        np.concatenate([np.where(in_edge, left, np.inf), np.where(in_edge, right, np.inf)], axis=1),
        axis=1,
    )
    each = np.arange(len(profiles))
    baseline = 0.5 * (sides[each, edge - 1] + sides[each, edge])
    above = np.clip(profiles - baseline[:, None], 0, None)
    # The plateau: the 92nd percentile of what is above the baseline (unsampled places sort
    # first, below every sample).
    ordered = np.sort(np.where(sampled, above, -1.0), axis=1)
    plateau = ordered[each, most - samples + (0.92 * (samples - 1)).astype(np.intp)]
    valid = plateau > 1e-3
    per_profile = np.where(sampled, above, 0.0).sum(axis=1)[valid] * 0.5 / plateau[valid]
    return medians(per_profile, owner[valid], len(segments))


def medians(
    values: npt.NDArray[Any], owner: npt.NDArray[np.integer[Any]], count: int
) -> npt.NDArray[np.float64]:
    """The median of each owner's values (0 for an owner with none)."""
    order = np.lexsort((values, owner))
    values, owner = values[order].astype(np.float64), owner[order]
    counts = np.bincount(owner, minlength=count)
    firsts = np.cumsum(counts) - counts
    found = counts > 0
    medians = np.zeros(count)
    lower = (firsts + (counts - 1) // 2)[found]
    upper = (firsts + counts // 2)[found]
    medians[found] = 0.5 * (values[lower] + values[upper])
    return medians
