"""The scale from a photographed ruling: exact on synthetic targets of every kind a clinic
uses, and a clear refusal where there is no ruling to measure."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from follicle.trichoscopy.calibrate import CalibrationError, calibrate
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
from follicle.trichoscopy.synth_calibration import CalibrationSpec, render_calibration

#: Targets varied as clinics photograph them: stage micrometers (10-100 um) and rulers
#: (1 mm), at dermoscope scales from 1.5 to 12 um per pixel, any angle, dark or light
#: lines, with and without longer marks, blurred and noisy.
VARIED = [
    CalibrationSpec(seed=1, um_per_px=1.98, line_spacing_um=10.0, line_width_um=1.5,
                    angle_deg=179.9, major_every=0),
    CalibrationSpec(seed=2, um_per_px=10.9, line_spacing_um=1000.0, line_width_um=60.0,
                    angle_deg=70.6, blur_px=1.8),
    CalibrationSpec(seed=3, um_per_px=4.35, line_spacing_um=50.0, line_width_um=7.5,
                    angle_deg=11.6, dark_lines=False),
    CalibrationSpec(seed=4, um_per_px=10.66, line_spacing_um=100.0, angle_deg=127.3,
                    major_every=0, noise_sd=9.0),
    CalibrationSpec(seed=5, um_per_px=11.3, line_spacing_um=1000.0, line_width_um=60.0,
                    angle_deg=152.1, dark_lines=False, major_every=0),
    CalibrationSpec(seed=6, um_per_px=1.53, line_spacing_um=100.0, angle_deg=61.5,
                    dark_lines=False, major_every=5, blur_px=0.5),
    CalibrationSpec(seed=7, um_per_px=9.19, line_spacing_um=50.0, line_width_um=7.5,
                    angle_deg=34.8, blur_px=2.0),
    CalibrationSpec(seed=8, um_per_px=7.96, line_spacing_um=1000.0, line_width_um=60.0,
                    angle_deg=99.5, major_every=0, lines_cover=0.3),
]  # fmt: skip


@pytest.mark.parametrize("spec", VARIED, ids=lambda s: f"seed{s.seed}")
def test_scale_is_recovered_within_a_tenth_of_a_percent(spec: CalibrationSpec) -> None:
    found = calibrate(render_calibration(spec), spec.line_spacing_um)
    assert found.um_per_px == pytest.approx(spec.um_per_px, rel=1e-3)
    assert found.lines >= 5
    assert found.uncertainty_pct < 0.1


def test_thin_lines_far_apart_are_not_read_at_half_their_spacing() -> None:
    """Thin lines put as much power at twice their frequency as at it: the spectrum's peak
    alone would halve the scale."""
    spec = CalibrationSpec(um_per_px=8.0, line_spacing_um=1000.0, line_width_um=40.0,
                           major_every=0, angle_deg=99.0)  # fmt: skip
    found = calibrate(render_calibration(spec), spec.line_spacing_um)
    assert found.um_per_px == pytest.approx(8.0, rel=1e-3)
    assert found.period_px == pytest.approx(125.0, rel=1e-3)


@pytest.mark.parametrize(
    "spec",
    [
        # a ruler's half-millimetre marks between its millimetre ones, wide and dark
        CalibrationSpec(um_per_px=14.4, line_spacing_um=500.0, line_width_um=60.0,
                        major_every=2, angle_deg=107.0),
        # a micrometer's longer line every fifth, its lines too thin to show at full contrast
        CalibrationSpec(um_per_px=9.7, line_spacing_um=50.0, line_width_um=8.0,
                        major_every=5, angle_deg=91.0, width_px=1024, height_px=768),
        # wide lines with flat tops, a longer one every tenth
        CalibrationSpec(um_per_px=6.43, line_spacing_um=100.0, line_width_um=37.5,
                        major_every=10, angle_deg=73.0, blur_px=0.8),
    ],
    ids=["ruler-half-mm", "micrometer-fifths", "flat-topped"],
)  # fmt: skip
def test_longer_marks_do_not_hide_the_finest_ruling(spec: CalibrationSpec) -> None:
    """Marks every few lines put power at a fraction of the ruling's frequency, and may even
    be the spectrum's strongest peak; the scale is still that of the finest ruling."""
    found = calibrate(render_calibration(spec), spec.line_spacing_um)
    assert found.um_per_px == pytest.approx(spec.um_per_px, rel=1e-3)


def test_a_micrometer_scale_across_part_of_the_field() -> None:
    """A stage micrometer's scale is a millimetre of 10 um divisions: a third of the field at
    2 um per pixel, blank either side."""
    spec = CalibrationSpec(um_per_px=2.0, line_spacing_um=10.0, line_width_um=2.5,
                           major_every=10, ruling_um=1000.0, blur_px=0.8)  # fmt: skip
    found = calibrate(render_calibration(spec), spec.line_spacing_um)
    assert found.um_per_px == pytest.approx(2.0, rel=1e-3)
    assert 90 <= found.lines <= 101


def test_the_angle_is_refined_beyond_the_spectrum_s_bins() -> None:
    """A fine ruling at an angle between two spectrum bins smears when averaged along the
    bins' angle; the measured angle follows the lines to a hundredth of a degree."""
    spec = CalibrationSpec(um_per_px=7.34, line_spacing_um=100.0, angle_deg=133.456,
                           major_every=0)  # fmt: skip
    found = calibrate(render_calibration(spec), spec.line_spacing_um)
    assert found.angle_deg == pytest.approx(133.456, abs=0.01)
    assert found.residual_px < 0.05


def test_jpeg_and_uneven_light_do_not_move_the_scale() -> None:
    spec = CalibrationSpec(um_per_px=5.0, vignetting=0.5, noise_sd=12.0)
    encoded = cv2.imencode(".jpg", render_calibration(spec), [cv2.IMWRITE_JPEG_QUALITY, 60])[1]
    rgb = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    assert calibrate(rgb, 100.0).um_per_px == pytest.approx(5.0, rel=1e-3)


@pytest.mark.parametrize(
    ("rgb", "message"),
    [
        (np.full((400, 500, 3), 180, np.uint8), "blank"),
        (
            np.random.default_rng(0).integers(0, 256, (400, 500, 3)).astype(np.uint8),
            "no even ruling",
        ),
        (
            render_trichogram(TrichogramSpec(seed=3, width_px=800, height_px=600)).rgb,
            "no even ruling|not evenly spaced|fewer than 5 lines",
        ),
        (np.zeros((40, 40, 3), np.uint8), "at least 64 pixels"),
    ],
    ids=["blank", "noise", "scalp", "tiny"],
)
def test_no_ruling_is_refused_with_the_reason(rgb: np.ndarray, message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        calibrate(rgb, 100.0)


def test_a_spacing_that_gives_an_impossible_scale_is_named() -> None:
    rgb = render_calibration(CalibrationSpec(width_px=640, height_px=480))
    with pytest.raises(CalibrationError, match="line_spacing_um"):
        calibrate(rgb, 1.0)
    with pytest.raises(CalibrationError, match="positive"):
        calibrate(rgb, -100.0)
