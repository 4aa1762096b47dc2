"""The scale the analyser works at: an image at another scale is resampled to it first.

Every step of the analysis is tuned and benchmarked on images of 5 um per pixel, and some work
in pixels (the light blur, the skin's estimate on an eighth-size grid, the thinning). The same
scalps at 2.5 um per pixel (a 2 MP image of a 4 x 3 mm field, a common dermoscope setting) were
counted 16 % too high on average, blond hair up to twice over; at 10 um per pixel 5 % too low
(bench/bench_resolution.py). A finer image is averaged down to the working scale (by area, as
a coarser sensor would see it: a 12 um vellus hair is still 2.4 pixels wide there, and the
image is analysed in about a third of the time); a coarser one is enlarged to it (by cubic
interpolation: no detail is added, but every step sees a hair as many pixels wide as it was
tuned for). Either way the count's bias over those scalps fell to 1.5 % or less.

>>> import numpy as np
>>> rgb = np.zeros((1000, 1600, 3), dtype=np.uint8)
>>> work = working_scale(rgb, um_per_px=2.5)
>>> work.rgb.shape, work.um_per_px
((500, 800, 3), 5.0)
>>> work.points_to_original(np.array([[399.5, 249.5]]))  # the middle stays the middle
array([[799.5, 499.5]])
>>> working_scale(rgb, um_per_px=10.0).rgb.shape
(2000, 3200, 3)
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
#: An image within this share of the working scale is analysed as it is: resampling by a factor
#: near 1 only blurs it.
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


def working_size(width: int, height: int, um_per_px: float) -> tuple[int, int] | None:
    """The size (width, height) the image is analysed at; None: as it is."""
    ratio = um_per_px / WORKING_UM_PER_PX
    if abs(ratio - 1.0) <= SCALE_TOLERANCE:
        return None
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def working_scale(rgb: npt.NDArray[np.uint8], um_per_px: float) -> WorkingImage:
    """``rgb`` resampled to :data:`WORKING_UM_PER_PX`: averaged down when finer, enlarged when
    coarser; as it is when within :data:`SCALE_TOLERANCE` of it."""
    height, width = rgb.shape[:2]
    size = working_size(width, height, um_per_px)
    if size is None:
        return WorkingImage(rgb, um_per_px)
    finer = size[0] < width
    resampled = np.asarray(
        cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if finer else cv2.INTER_CUBIC),
        dtype=np.uint8,
    )
    x_factor, y_factor = width / size[0], height / size[1]
    # (the two factors differ by the rounding of the sizes, at most half a pixel in either)
    return WorkingImage(resampled, um_per_px * x_factor, x_factor, y_factor)
