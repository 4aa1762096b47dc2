"""The scale of a dermoscope setting from a photograph of a ruled target.

Every hair's length and width, and the density, rest on the micrometres per pixel. A clinic
gets it from the device's setting or, better, by photographing a stage micrometer or a ruler
through the same dermoscope at the same magnification and focus. This measures the spacing
of the target's finest ruling in pixels: the ruling's direction from the image's power
spectrum (refined from the drift of its phase across the field), the image averaged along
the lines into a profile across them, the finest period at which every step along that
profile finds a line (the spectrum's peak may be a multiple of it, for thin lines, or a
fraction, for the longer mark every few lines), each line's centre to a fraction of a pixel,
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
    angle, peak_period = _dominant_ruling(grey)
    profile, noise = _profile_across(grey, angle)
    values, start = _ruling_profile(profile)
    rough_period, centres = _finest_ruling(values, noise, peak_period / PROFILE_STEP_PX)
    period, lines, residual, stderr = _even_ruling(
        (start + centres) * PROFILE_STEP_PX, rough_period * PROFILE_STEP_PX
    )
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
    """Brightness with the slow changes of light (vignetting, uneven illumination) taken out.

    Only changes slower than a sixth of the field: a ruling with a few lines across the field
    keeps its own frequency's power (a quicker evening would weaken it below its multiples).
    Smoothed at an eighth of the size, where so wide a blur is cheap.
    """
    image = np.asarray(rgb, dtype=np.float32)
    grey = image if image.ndim == 2 else image.mean(axis=2, dtype=np.float32)
    height, width = grey.shape
    small = cv2.resize(
        grey, (max(8, width // 8), max(8, height // 8)), interpolation=cv2.INTER_AREA
    )
    slow = cv2.GaussianBlur(small, (0, 0), min(height, width) / 12.0 / 8.0)
    light = cv2.resize(slow, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.asarray(grey - light, dtype=np.float32)


def _dominant_ruling(grey: npt.NDArray[np.float32]) -> tuple[float, float]:
    """The direction across the ruling (radians), from the strongest peak of the windowed
    image's power spectrum, and that peak's period (pixels: the ruling's own, or a multiple
    or a fraction of it, see :func:`_finest_ruling`)."""
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
    frequency = np.array([float(fx[0, peak_col]), float(fy[peak_row, 0])])
    for _ in range(REFINEMENTS):
        frequency = frequency + _frequency_correction(grey, frequency)
    return math.atan2(frequency[1], frequency[0]), 1.0 / float(np.hypot(*frequency))


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
    rows, cols = np.arange(height)[:, None], np.arange(width)[None, :]  # (broadcast, no grid)
    wave = np.exp(-2j * math.pi * (frequency[0] * cols + frequency[1] * rows))
    block_h, block_w = height // PHASE_BLOCKS, width // PHASE_BLOCKS
    product = (grey * wave)[: block_h * PHASE_BLOCKS, : block_w * PHASE_BLOCKS]
    sums = product.reshape(PHASE_BLOCKS, block_h, PHASE_BLOCKS, block_w).sum(axis=(1, 3))
    drift_x = np.angle(np.sum(sums[:, 1:] * np.conj(sums[:, :-1])))
    drift_y = np.angle(np.sum(sums[1:, :] * np.conj(sums[:-1, :])))
    return np.array([drift_x / block_w, drift_y / block_h]) / (2.0 * math.pi)


def _profile_across(
    grey: npt.NDArray[np.float32], angle: float
) -> tuple[npt.NDArray[np.float64], float]:
    """The image averaged along the lines: its mean brightness at each position across them
    (every PROFILE_STEP_PX pixels, from the smallest position in the image), and the noise
    of that mean (from two halves of the pixels: same lines, independent noise)."""
    height, width = grey.shape
    rows, cols = np.arange(height)[:, None], np.arange(width)[None, :]
    across = cols * math.cos(angle) + rows * math.sin(angle)
    bins = np.floor((across - across.min()) / PROFILE_STEP_PX).astype(np.intp).ravel()
    # (split at random: any regular split can line up with the ruling's angle)
    first = np.random.default_rng(0).random(height * width) < 0.5
    values = grey.ravel().astype(np.float64)
    size = int(bins.max()) + 1
    halves = []
    for half in (first, ~first):
        sums = np.bincount(bins[half], weights=values[half], minlength=size)
        halves.append((sums, np.bincount(bins[half], minlength=size)))
    counts = halves[0][1] + halves[1][1]
    profile = (halves[0][0] + halves[1][0]) / np.maximum(counts, 1)
    # The corners hold few pixels: only positions seen by a fair share of the image count.
    seen = counts >= 0.25 * counts.max()
    means = [sums[seen] / np.maximum(n[seen], 1) for sums, n in halves]
    difference = means[0] - means[1]
    noise = 1.4826 * float(np.median(np.abs(difference - np.median(difference)))) / 2.0
    return np.where(seen, profile, np.nan), noise


def _ruling_profile(profile: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], int]:
    """The profile's seen part, signed so that lines are peaks (dark lines on a light target
    and light lines on a dark one are both read: the lines are the rarer tone), and the step
    it starts at."""
    valid = np.flatnonzero(np.isfinite(profile))  # (never empty: the fullest bin is seen)
    values = profile[valid[0] : valid[-1] + 1]
    values = np.where(np.isfinite(values), values, np.nanmedian(values))
    # Lines are narrower than the gaps between them, so they pull the mean their way.
    if float(np.median(values)) > float(values.mean()):
        values = -values
    return np.asarray(values, dtype=np.float64), int(valid[0])


def _walk_lines(
    values: npt.NDArray[np.float64], period: float, noise: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Walk the profile a period at a time both ways from its highest peak, to where the
    ruling ends (a stage micrometer's scale may cross a part of the field); at each step,
    the centre of the line found within an eighth of a period of where it should be (the
    centroid of its contrast, to a fraction of a step) and its height above the background
    midway to the next lines (a narrower window's ends would still lie on a blurred line's
    flanks and make a fine ruling's lines look as low as noise). Where there is no line (the
    highest point near the step is on a slope) the height is 0. (The search stays close so
    that a walk at five sixths of the period does not reach the next line: see
    :func:`_finest_ruling`.) Centres come in order."""
    smooth = np.convolve(values, np.ones(3) / 3.0, mode="same")
    start = int(np.argmax(smooth))
    ahead = _walk_from(values, smooth, start, period, noise)
    behind = _walk_from(values[::-1], smooth[::-1], len(values) - 1 - start, period, noise)
    centres = np.concatenate([len(values) - 1 - behind[0][:0:-1], ahead[0]])
    heights = np.concatenate([behind[1][:0:-1], ahead[1]])
    return centres, heights


def _walk_from(
    values: npt.NDArray[np.float64],
    smooth: npt.NDArray[np.float64],
    start: int,
    period: float,
    noise: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`_walk_lines` forward from the peak at ``start`` (its first entries: that peak)."""
    half = max(1, round(period * 0.45))
    search = max(1, round(period / 8.0))
    centres, heights = [], []
    anchor, steps, misses = float(start), 0, 0
    while (expected := round(anchor + steps * period)) < len(values) and misses < RULING_END:
        lo, hi = max(0, expected - search), min(len(values), expected + search + 1)
        peak = lo + int(np.argmax(smooth[lo:hi]))
        lo, hi = max(0, peak - half), min(len(values), peak + half + 1)
        # On a slope: the highest point is at the search's edge and the profile goes on
        # rising beyond it (a flat top's edge may be highest by noise alone).
        edge = {expected - search: -1, expected + search: 1}.get(peak, 0)
        on_slope = edge != 0 and (
            0 <= peak + edge < len(values) and smooth[peak + edge] > smooth[peak] + noise
        )
        if on_slope or hi - lo < 2 * half + 1:
            heights.append(0.0)
            steps, misses = steps + 1, misses + 1
            continue
        # Above the straight line between the window's ends: light still sloping across a
        # wide window would pull a centroid over a flat baseline its way.
        ends = np.linspace(values[lo], values[hi - 1], hi - lo)
        above = values[lo:hi] - ends
        heights.append(float(above.max()))
        # The line's upper half only: noise across a wide window would weigh in too.
        window = np.clip(above - 0.5 * above.max(), 0.0, None)
        if above.max() < LINE_NOISE_RATIO * noise or window.sum() <= 0:
            steps, misses = steps + 1, misses + 1  # noise, not a line
            continue
        centres.append(lo + float((window * np.arange(hi - lo)).sum() / window.sum()))
        anchor, steps, misses = centres[-1], 1, 0  # (a centroid: a noisy peak would drift)
    found = heights[: len(heights) - misses]  # (the steps beyond the ruling's end)
    return np.array(centres, dtype=np.float64), np.array(found, dtype=np.float64)


#: This many steps in a row without a line end the ruling.
RULING_END = 3


#: The ruling is looked for at whole fractions and multiples of the spectral peak's period,
#: up to this many times: thin lines far apart put as much power at each multiple of their
#: frequency as at it, and longer marks every few lines put power at fractions of it.
MAX_HARMONIC = 6
#: At a ruling's period nearly every step finds a line: the weakest tenth of them at least
#: this share of the strongest tenth (a ruler's half-millimetre marks against its
#: millimetre ones; where a step finds no line, its height is the noise's).
EVEN_SHARE = 0.05
#: ...and this many times the profile's noise (steps that find only noise are even too).
LINE_NOISE_RATIO = 6.0


def _finest_ruling(
    values: npt.NDArray[np.float64], noise: float, peak_period: float
) -> tuple[float, npt.NDArray[np.float64]]:
    """The finest period (profile steps) at which every step finds a line, and the centres
    of the lines found.

    The spectrum's strongest peak may be a multiple of the ruling's frequency (thin lines far
    apart) or a fraction of it (the longer mark every fifth or tenth line); walked at a
    multiple of the period, every other step finds nothing, and at a fraction, every step
    finds a line but lines lie between them, found by a finer walk.
    """
    candidates = sorted(
        {
            peak_period * multiple / part
            for multiple in range(1, MAX_HARMONIC + 1)
            for part in range(1, MAX_HARMONIC + 1)
        }
    )
    shortest = MIN_PERIOD_PX / PROFILE_STEP_PX
    longest = len(values) / (MIN_LINES - 1)
    most_lines = 0
    for period in candidates:
        if not shortest <= period <= longest:
            continue
        centres, heights = _walk_lines(values, period, noise)
        most_lines = max(most_lines, len(centres))
        if len(heights) < MIN_LINES or len(centres) < 2:
            continue
        # Wide lines reach a walk at five sixths of the period, which re-centres on each:
        # then the lines are further apart than its steps.
        spacing = float(np.median(np.diff(centres)))
        if abs(spacing - period) > period / 8.0:
            continue
        weakest, strongest = np.percentile(heights, [10, 90])
        if weakest >= max(EVEN_SHARE * strongest, LINE_NOISE_RATIO * noise):
            return period, centres
    if most_lines < MIN_LINES:
        raise CalibrationError(
            f"fewer than {MIN_LINES} lines of a ruling in the field: photograph a finer ruling "
            "(a stage micrometer) or more of it"
        )
    raise CalibrationError(
        "no even ruling found: every line should be sharp and the lines should cross the field"
    )


def _even_ruling(
    centres: npt.NDArray[np.float64], rough_period: float
) -> tuple[float, int, float, float]:
    """Fit centre = first + period x line number. Returns the period, the lines fitted, the
    RMS residual and the period's standard error (pixels)."""
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
