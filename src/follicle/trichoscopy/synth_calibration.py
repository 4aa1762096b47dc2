"""Synthetic photographs of a ruled calibration target (a stage micrometer or a ruler) seen
through a dermoscope, at an exactly known scale, for testing :mod:`calibrate`.

Lines of a set width and spacing, every few a longer and wider one, at any angle; a light
target with dark lines or the reverse; optical blur and pixel area, uneven light, sensor
noise. The lines are drawn from their exact geometry (no resampling), so the scale is known
to the last digit.

>>> rgb = render_calibration(CalibrationSpec(width_px=320, height_px=240))
>>> rgb.shape, rgb.dtype.name
((240, 320, 3), 'uint8')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr


@dataclass(frozen=True)
class CalibrationSpec:
    """What to render; the seed makes the noise reproducible."""

    seed: int = 0
    width_px: int = 1600
    height_px: int = 1250
    um_per_px: float = 5.0
    line_spacing_um: float = 100.0
    line_width_um: float = 12.0
    major_every: int = 10  # every this many lines is a longer, wider one (0: none)
    angle_deg: float = 3.0  # of the lines from the image's vertical
    offset_um: float = 17.0  # where the first line falls
    lines_cover: float = 0.6  # share of the field the lines run across (majors: more)
    ruling_um: float = 0.0  # how far the ruling reaches across its lines (0: the whole field)
    dark_lines: bool = True  # a light target with dark lines (a ruler); else the reverse
    blur_px: float = 1.2  # optical blur, Gaussian sigma
    vignetting: float = 0.25  # light lost at the corners
    noise_sd: float = 4.0  # sensor noise, grey levels


def render_calibration(spec: CalibrationSpec) -> npt.NDArray[np.uint8]:
    """The target as an RGB image."""
    rng = np.random.default_rng(spec.seed)
    rows, cols = np.mgrid[0 : spec.height_px, 0 : spec.width_px].astype(np.float64)
    angle = math.radians(spec.angle_deg)
    centre_x, centre_y = spec.width_px / 2.0, spec.height_px / 2.0
    # Across the lines and along them, in micrometres from the field's centre.
    across = ((cols - centre_x) * math.cos(angle) + (rows - centre_y) * math.sin(angle)) * (
        spec.um_per_px
    ) - spec.offset_um
    along = (-(cols - centre_x) * math.sin(angle) + (rows - centre_y) * math.cos(angle)) * (
        spec.um_per_px
    )
    number = np.round(across / spec.line_spacing_um)
    distance = np.abs(across - number * spec.line_spacing_um)
    major = (number % spec.major_every == 0) if spec.major_every else np.zeros_like(number, bool)
    width = np.where(major, 1.6 * spec.line_width_um, spec.line_width_um)
    minor_reach = 0.5 * min(spec.width_px, spec.height_px) * spec.um_per_px * spec.lines_cover
    reach = np.where(major, 1.3 * minor_reach, minor_reach)
    # Optical blur and the pixel's own area, as one Gaussian across the line (micrometres).
    sigma = spec.um_per_px * math.sqrt(spec.blur_px**2 + 1.0 / 12.0)
    coverage = ndtr((distance + width / 2) / sigma) - ndtr((distance - width / 2) / sigma)
    coverage *= ndtr((reach - np.abs(along)) / sigma)
    if spec.ruling_um > 0:  # a stage micrometer's scale: a millimetre or two, mid-field
        coverage *= ndtr((spec.ruling_um / 2 - np.abs(across + spec.offset_um)) / sigma)
    light, ink = (205.0, 45.0) if spec.dark_lines else (40.0, 210.0)
    grey = light + (ink - light) * coverage
    radius = np.hypot((cols - centre_x) / centre_x, (rows - centre_y) / centre_y) / math.sqrt(2)
    grey *= 1.0 - spec.vignetting * radius**2
    tint = np.array([1.0, 0.96, 0.9])  # the dermoscope's light is warm
    rgb = grey[:, :, None] * tint + rng.normal(0.0, spec.noise_sd, (*grey.shape, 3))
    return np.asarray(np.clip(np.round(rgb), 0, 255), dtype=np.uint8)
