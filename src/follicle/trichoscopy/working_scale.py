"""The scale the analyser works at: an image finer than it is averaged down to it first.

Every step of the analysis is tuned and benchmarked on images of 5 um per pixel, and some work
in pixels (the light blur, the skin's estimate on an eighth-size grid, the thinning). The same
scalp at 2.5 um per pixel (a 2 MP image of a 4 x 3 mm field, a common dermoscope setting) was
counted 14 % too high on average, blond hair up to twice over (bench/bench_resolution.py).
Averaging such an image down to the working scale makes it the image the analyser knows: a
12 um vellus hair is still 2.4 pixels wide there, and the image is analysed in about a third
of the time. An image coarser than the working scale is analysed as it is.

>>> import numpy as np
>>> rgb = np.zeros((1000, 1600, 3), dtype=np.uint8)
>>> work = working_scale(rgb, um_per_px=2.5)
>>> work.rgb.shape, work.um_per_px
((500, 800, 3), 5.0)
>>> work.points_to_original(np.array([[399.5, 249.5]]))  # the middle stays the middle
array([[799.5, 499.5]])
>>> working_scale(rgb, um_per_px=5.0).rgb is rgb
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

#: The scale (um per pixel) the analyser is tuned and benchmarked at.
WORKING_UM_PER_PX = 5.0
#: An image finer than the working scale by less than this share is analysed as it is: averaging
#: by a factor near 1 only blurs it.
SCALE_TOLERANCE = 0.05


@dataclass(frozen=True)
class WorkingImage:
    """The image the analyser works on, its scale, and how its pixels map to the original's."""

    rgb: npt.NDArray[np.uint8]
    um_per_px: float
    x_factor: float = 1.0  # original pixels per working pixel, across...
    y_factor: float = 1.0  # ...and down

    @property
    def resampled(self) -> bool:
        return self.x_factor != 1.0 or self.y_factor != 1.0

    def points_to_original(self, points: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        """Points (an (n, 2) array of x, y; pixel centres at whole numbers) in the original
        image's pixels."""
        factors = np.array([self.x_factor, self.y_factor])
        return np.asarray((np.asarray(points, dtype=np.float64) + 0.5) * factors - 0.5)


def working_scale(rgb: npt.NDArray[np.uint8], um_per_px: float) -> WorkingImage:
    """``rgb`` averaged down to :data:`WORKING_UM_PER_PX` when it is finer (by area, so each
    working pixel is the mean of the original pixels it covers, as a coarser sensor would see
    them); as it is otherwise."""
    if um_per_px >= WORKING_UM_PER_PX * (1.0 - SCALE_TOLERANCE):
        return WorkingImage(rgb, um_per_px)
    height, width = rgb.shape[:2]
    shrink = um_per_px / WORKING_UM_PER_PX
    new_width, new_height = max(1, round(width * shrink)), max(1, round(height * shrink))
    small = np.asarray(
        cv2.resize(rgb, (new_width, new_height), interpolation=cv2.INTER_AREA), dtype=np.uint8
    )
    x_factor, y_factor = width / new_width, height / new_height
    # (the two factors differ by the rounding of the sizes, at most half a pixel in either)
    return WorkingImage(small, um_per_px * x_factor, x_factor, y_factor)
