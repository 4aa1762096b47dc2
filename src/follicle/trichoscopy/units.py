"""Which end of each hair leaves the skin, and which hairs leave it together (follicular
units)."""

from __future__ import annotations

import numpy as np

from follicle.trichoscopy.groups import linked_groups
from follicle.trichoscopy.hair import (
    Hair,
)

#: Hairs this close together grow about the same way (the scalp's hair stream)...
HAIR_STREAM_UM = 1500.0
#: ...and outvote a hair's own exit cue (each other hair's end meeting one of its ends counts
#: this much against the neighbours' agreement, -1 to 1) unless they disagree among
#: themselves, as around a whorl.
UNIT_VOTE_WEIGHT = 0.3


def _flipped(hair: Hair) -> Hair:
    """The hair with its ends swapped (built directly: ``replace`` is several times slower)."""
    return Hair(
        hair.end_x_px,
        hair.end_y_px,
        hair.x_px,
        hair.y_px,
        hair.length_um,
        hair.diameter_um,
        hair.terminal,
        hair.follicular_unit,
    )


def orient(hairs: list[Hair], unit_px: float, stream_px: float) -> list[Hair]:
    """Which end of each hair is its exit. Hairs of one unit leave the skin together, so an
    end where other hairs' ends meet is an exit; and hairs grow the way the hairs around
    them do (as far as those were told by their ends)."""
    from scipy.spatial import cKDTree  # (loaded on first analysis, as elsewhere)

    if len(hairs) < 2:
        return hairs
    starts = np.array([[h.x_px, h.y_px] for h in hairs], dtype=np.float64)
    ends = np.array([[h.end_x_px, h.end_y_px] for h in hairs], dtype=np.float64)
    every_end = cKDTree(np.concatenate([starts, ends]))
    axes = ends - starts
    lengths = np.hypot(*axes.T)
    # (other hairs' ends only: a hair's own near end is always there, its far end when short)
    own = 1.0 + (lengths <= unit_px)
    votes = (every_end.query_ball_point(starts, unit_px, return_length=True) - own) - (
        every_end.query_ball_point(ends, unit_px, return_length=True) - own
    )
    axes /= np.maximum(lengths, 1e-9)[:, None]
    growing = axes * np.sign(votes)[:, None]  # exit to cut end where the ends tell; else 0
    pairs = cKDTree((starts + ends) / 2).query_pairs(stream_px, output_type="ndarray")
    streams = np.zeros_like(axes)
    np.add.at(streams, pairs[:, 0], growing[pairs[:, 1]])
    np.add.at(streams, pairs[:, 1], growing[pairs[:, 0]])
    agreement = (axes * streams).sum(axis=1) / np.maximum(np.hypot(*streams.T), 1e-9)
    flips = UNIT_VOTE_WEIGHT * votes + agreement < 0
    return [_flipped(h) if flip else h for h, flip in zip(hairs, flips.tolist(), strict=True)]


def follicular_units(hairs: list[Hair], distance_px: float) -> list[Hair]:
    """Group hairs whose exit points lie within ``distance_px`` (single linkage)."""
    from scipy.spatial import cKDTree

    points = np.array([[h.x_px, h.y_px] for h in hairs], dtype=np.float64).reshape(-1, 2)
    close = cKDTree(points).query_pairs(distance_px, output_type="ndarray")
    units = linked_groups(len(hairs), close.tolist())
    return [
        Hair(h.x_px, h.y_px, h.end_x_px, h.end_y_px, h.length_um, h.diameter_um, h.terminal, unit)
        for h, unit in zip(hairs, units, strict=True)
    ]
