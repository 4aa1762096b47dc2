"""Reading the colour difference from the skin: its length per pixel, and interpolated along
profiles across hairs (shared by the analysis and the focus reading)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

_SUM_CHANNELS = np.ones((1, 3), dtype=np.float32)
#: cv2.remap takes maps of fewer rows than this.
_REMAP_ROWS = 16_384


def channel_norm(vectors: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """The length of each pixel's three-channel vector."""
    return np.asarray(
        cv2.sqrt(cv2.transform(cv2.multiply(vectors, vectors), _SUM_CHANNELS)), dtype=np.float32
    )


def light_evened_distance(
    colour: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    rows: npt.NDArray[np.float32],
    cols: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    """The light-evened colour distance from the skin at each (row, col), interpolated;
    ``colour`` holds each pixel's colour difference from the skin and its light-evening gain."""
    diff, gain = colour
    profiles = np.empty(rows.shape, dtype=np.float32)
    for top in range(0, len(rows), _REMAP_ROWS):
        r, c = rows[top : top + _REMAP_ROWS], cols[top : top + _REMAP_ROWS]
        sampled = cv2.remap(diff, c, r, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        profiles[top : top + _REMAP_ROWS] = channel_norm(sampled) * cv2.remap(
            gain, c, r, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    return profiles
