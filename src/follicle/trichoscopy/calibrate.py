"""The scale of a dermoscope setting from a photograph of a ruled target.

Every hair's length and width, and the density, rest on the micrometres per pixel. A clinic
gets it from the device's setting or, better, by photographing a stage micrometer or a ruler
through the same dermoscope at the same magnification and focus. This measures the spacing
of the target's finest ruling in pixels: the ruling's direction and rough period from the
image's power spectrum, then each line's centre to a fraction of a pixel across the ruling,
and the period as the slope of line centre against line number (a line missing or a mark
among the lines does not shift it).

>>> from follicle.trichoscopy.synth_calibration import CalibrationSpec, render_calibration
>>> rgb = render_calibration(CalibrationSpec(um_per_px=4.2, line_spacing_um=100.0))
>>> found = calibrate(rgb, line_spacing_um=100.0)
>>> round(found.um_per_px, 2), found.lines >= 10
(4.2, True)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

#: The scales the analyser accepts (services refuse an image whose scale is outside them).
MIN_UM_PER_PX = 0.5
MAX_UM_PER_PX = 50.0
#: Fewer lines than this do not fix a period well enough to calibrate from.
MIN_LINES = 5
#: Finer rulings than this (in pixels) are not resolved by the optics and the sensor.
MIN_PERIOD_PX = 4.0
#: Line centres further than this share of the period from an even ruling are not lines.
OUTLIER_FRACTION = 0.25
#: A ruling whose lines sit this far (share of the period, RMS) from even is refused.
MAX_RESIDUAL_FRACTION = 0.1
#: A ruling's spectral peak must stand this many times above the spectrum's typical level.
MIN_PEAK_RATIO = 20.0
#: An image whose brightness varies less than this (grey levels, SD) shows nothing.
MIN_CONTRAST = 1.0
#: The profile across the ruling is read in steps of this many pixels.
PROFILE_STEP_PX = 0.25


class CalibrationError(ValueError):
    """No even ruling could be measured in the image; the message says why."""


@dataclass(frozen=True)
class Calibration:
    """A measured scale, with what it rests on so a clinician can judge it."""

    um_per_px: float
    line_spacing_um: float
    period_px: float  # distance between neighbouring lines of the ruling
    lines: int  # lines whose centres were fitted
    angle_deg: float  # direction across the lines, from the image's x axis, 0-180
    residual_px: float  # RMS distance of the fitted centres from an even ruling
    uncertainty_pct: float  # standard error of the scale

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


def calibrate(rgb: npt.NDArray[Any], line_spacing_um: float) -> Calibration:
    """Micrometres per pixel from an image of a ruling whose neighbouring lines are
    ``line_spacing_um`` apart (the finest ruling in view: a stage micrometer's 10 or 100 µm,
    a ruler's 1000 µm)."""
    if not math.isfinite(line_spacing_um) or line_spacing_um <= 0:
        raise CalibrationError("line_spacing_um must be a positive number of micrometres")
    if rgb.ndim not in (2, 3) or min(rgb.shape[:2]) < 64:
        raise CalibrationError("the image must be at least 64 pixels each way")
    grey = _evened_grey(rgb)
    if float(grey.std()) < MIN_CONTRAST:
        raise CalibrationError("the image is blank: no ruling shows in it")
    angle, rough_period = _dominant_ruling(grey)
    profile = _profile_across(grey, angle)
    centres = _line_centres(profile, rough_period / PROFILE_STEP_PX) * PROFILE_STEP_PX
    period, lines, residual, stderr = _even_ruling(centres, rough_period)
    um_per_px = line_spacing_um / period
    if not MIN_UM_PER_PX <= um_per_px <= MAX_UM_PER_PX:
        raise CalibrationError(
            f"the ruling gives {um_per_px:.3g} um per pixel, outside {MIN_UM_PER_PX}-"
            f"{MAX_UM_PER_PX}: check line_spacing_um ({line_spacing_um:g} um between lines)"
        )
    return Calibration(
        um_per_px=um_per_px,
        line_spacing_um=line_spacing_um,
        period_px=period,
        lines=lines,
        angle_deg=math.degrees(angle) % 180.0,
        residual_px=residual,
        uncertainty_pct=100.0 * stderr / period,
    )


def _evened_grey(rgb: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Brightness with the slow changes of light (vignetting, uneven illumination) taken out."""
    image = np.asarray(rgb, dtype=np.float32)
    grey = image if image.ndim == 2 else image.mean(axis=2, dtype=np.float32)
    sigma = max(grey.shape) / 40.0
    slow = cv2.GaussianBlur(grey, (0, 0), sigma)
    return np.asarray(grey - slow, dtype=np.float32)


def _dominant_ruling(grey: npt.NDArray[np.float32]) -> tuple[float, float]:
    """The direction across the ruling (radians) and its period (pixels), from the strongest
    peak of the windowed image's power spectrum."""
    height, width = grey.shape
    window = np.outer(np.hanning(height), np.hanning(width)).astype(np.float32)
    power = np.abs(np.fft.rfft2(grey * window)) ** 2
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.hypot(fx, fy)
    # Periods from MIN_PERIOD_PX up to a fifth of the field (at least five lines in view).
    usable = (radius <= 1.0 / MIN_PERIOD_PX) & (radius >= 5.0 / min(height, width))
    if not usable.any():
        raise CalibrationError("the image is too small to hold five lines of a ruling")
    masked = np.where(usable, power, 0.0)
    peak_row, peak_col = np.unravel_index(int(np.argmax(masked)), masked.shape)
    peak = float(masked[peak_row, peak_col])
    typical = float(np.median(power[usable]))
    if peak < MIN_PEAK_RATIO * max(typical, 1e-12):
        raise CalibrationError(
            "no even ruling found: photograph a stage micrometer or ruler, in focus, "
            "with its lines filling the field"
        )
    row, col = _fundamental(masked, int(peak_row), int(peak_col))
    frequency = np.array([float(fx[0, col]), float(fy[row, 0])])
    for _ in range(REFINEMENTS):
        frequency = frequency + _frequency_correction(grey, frequency)
    return math.atan2(frequency[1], frequency[0]), 1.0 / float(np.hypot(*frequency))


#: A fraction of the peak's frequency holding this share of its power is the ruling's own
#: (thin lines spread their power over every multiple of their frequency about equally).
FUNDAMENTAL_SHARE = 0.25
#: The ruling is looked for at up to this many times longer periods than the peak's.
MAX_HARMONIC = 6


def _fundamental(power: npt.NDArray[np.float64], row: int, col: int) -> tuple[int, int]:
    """The spectrum bin of the ruling's own frequency, given its strongest peak (which for
    thin lines far apart may be a multiple of it)."""
    height = power.shape[0]
    peak = float(power[row, col])
    signed_row = row if row <= height // 2 else row - height
    for divisor in range(MAX_HARMONIC, 1, -1):
        guess_row, guess_col = round(signed_row / divisor), round(col / divisor)
        rows = [(guess_row + d) % height for d in (-1, 0, 1)]
        cols = [c for c in (guess_col - 1, guess_col, guess_col + 1) if 0 <= c < power.shape[1]]
        near = power[np.ix_(rows, cols)]
        if float(near.max()) >= FUNDAMENTAL_SHARE * peak:
            best = np.unravel_index(int(np.argmax(near)), near.shape)
            return rows[int(best[0])], cols[int(best[1])]
    return row, col


#: Times the ruling's frequency is refined from the drift of its phase across the image.
REFINEMENTS = 3
#: The image is cut into this many blocks each way to follow the ruling's phase.
PHASE_BLOCKS = 8


def _frequency_correction(
    grey: npt.NDArray[np.float32], frequency: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """How far the ruling's true frequency (cycles per pixel, x and y) is from ``frequency``.

    The spectrum's bins are a whole cycle across the image apart: an angle read from them
    alone is out by up to half a degree, enough to smear a fine ruling averaged along its
    lines. Demodulated at ``frequency``, the image's phase drifts across the field at the
    rate of the difference: the drift from each block to the next, averaged with each pair
    weighted by its strength (blocks beyond the ruling carry none, and no phase is unwrapped
    through them).
    """
    height, width = grey.shape
    rows, cols = np.mgrid[0:height, 0:width]
    wave = np.exp(-2j * math.pi * (frequency[0] * cols + frequency[1] * rows))
    block_h, block_w = height // PHASE_BLOCKS, width // PHASE_BLOCKS
    product = (grey * wave)[: block_h * PHASE_BLOCKS, : block_w * PHASE_BLOCKS]
    sums = product.reshape(PHASE_BLOCKS, block_h, PHASE_BLOCKS, block_w).sum(axis=(1, 3))
    drift_x = np.angle(np.sum(sums[:, 1:] * np.conj(sums[:, :-1])))
    drift_y = np.angle(np.sum(sums[1:, :] * np.conj(sums[:-1, :])))
    return np.array([drift_x / block_w, drift_y / block_h]) / (2.0 * math.pi)


def _profile_across(grey: npt.NDArray[np.float32], angle: float) -> npt.NDArray[np.float64]:
    """The image averaged along the lines: its mean brightness at each position across them
    (every PROFILE_STEP_PX pixels, from the smallest position in the image)."""
    height, width = grey.shape
    rows, cols = np.mgrid[0:height, 0:width]
    across = cols * math.cos(angle) + rows * math.sin(angle)
    bins = np.floor((across - across.min()) / PROFILE_STEP_PX).astype(np.intp).ravel()
    sums = np.bincount(bins, weights=grey.ravel().astype(np.float64))
    counts = np.bincount(bins)
    profile = sums / np.maximum(counts, 1)
    # The corners hold few pixels: only positions seen by a fair share of the image count.
    seen = counts >= 0.25 * counts.max()
    return np.where(seen, profile, np.nan)


def _line_centres(profile: npt.NDArray[np.float64], period: float) -> npt.NDArray[np.float64]:
    """Each line's centre (in profile steps, to a fraction of one): the centroid of its
    contrast within a quarter period either side of its extreme. Dark lines on a light
    target and light lines on a dark one are both read (the lines are the rarer tone)."""
    valid = np.flatnonzero(np.isfinite(profile))
    values = profile[valid[0] : valid[-1] + 1]
    values = np.where(np.isfinite(values), values, np.nanmedian(values))
    # Lines are narrower than the gaps between them, so they pull the mean their way.
    if float(np.median(values)) > float(values.mean()):
        values = -values
    half = max(1, round(period / 4.0))
    smooth = np.convolve(values, np.ones(3) / 3.0, mode="same")
    centres = []
    position = int(np.argmax(smooth[: math.ceil(period) + 1]))
    step = round(period)
    while position < len(values):
        lo, hi = max(0, position - half), min(len(values), position + half + 1)
        peak = lo + int(np.argmax(smooth[lo:hi]))
        lo, hi = max(0, peak - half), min(len(values), peak + half + 1)
        if hi - lo >= 2 * half + 1:
            window = values[lo:hi] - values[lo:hi].min()
            if window.sum() > 0:
                centres.append(lo + float((window * np.arange(hi - lo)).sum() / window.sum()))
        position = peak + step
    return np.asarray(valid[0] + np.array(centres, dtype=np.float64), dtype=np.float64)


def _even_ruling(
    centres: npt.NDArray[np.float64], rough_period: float
) -> tuple[float, int, float, float]:
    """Fit centre = first + period x line number. Returns the period, the lines fitted, the
    RMS residual and the period's standard error (pixels)."""
    if rough_period < MIN_PERIOD_PX:
        raise CalibrationError(f"the ruling is finer than {MIN_PERIOD_PX:g} pixels")
    period = rough_period
    kept = centres
    for _ in range(3):  # number the lines by the period, refit, renumber
        if len(kept) < MIN_LINES:
            break
        numbers = np.round((kept - kept[0]) / period)
        fitted = np.polyfit(numbers, kept, 1)
        period = float(fitted[0])
        residuals = kept - np.polyval(fitted, numbers)
        inside = np.abs(residuals) <= OUTLIER_FRACTION * period
        kept = kept[inside]
    if len(kept) < MIN_LINES:
        raise CalibrationError(
            f"only {len(kept)} lines of the ruling could be measured; at least {MIN_LINES} "
            "are needed"
        )
    numbers = np.round((kept - kept[0]) / period)
    design = np.stack([numbers, np.ones_like(numbers)], axis=1)
    solution, *_ = np.linalg.lstsq(design, kept, rcond=None)
    period = float(solution[0])
    residuals = kept - design @ solution
    dof = max(len(kept) - 2, 1)
    residual = float(math.sqrt(float(residuals @ residuals) / dof))
    spread = float(((numbers - numbers.mean()) ** 2).sum())
    stderr = residual / math.sqrt(max(spread, 1e-12))
    if residual > MAX_RESIDUAL_FRACTION * period:
        raise CalibrationError(
            f"the lines are not evenly spaced (they stray {residual:.2g} px from an even "
            f"ruling of {period:.3g} px): is the target flat and in focus?"
        )
    return period, len(kept), residual, stderr
