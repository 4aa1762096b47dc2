"""Focus read from the image's own hairs: an image out of focus is said to be, a sharp one is
not, and an image without hairs has no reading (docs/trichoscopy.md, "Focus")."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.focus import OUT_OF_FOCUS_EDGE_UM, focus_warnings
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
from tests.support.server import run_follicle


@pytest.mark.parametrize(
    ("fitzpatrick", "hair_colour", "blur_sigma_px"),
    [(2, "black", 0.6), (5, "grey", 1.0), (3, "blond", 0.8)],
)
def test_a_sharp_image_reads_its_own_blur_and_is_not_warned(
    fitzpatrick: int, hair_colour: str, blur_sigma_px: float
) -> None:
    spec = TrichogramSpec(
        seed=40 + fitzpatrick,
        width_px=800,
        height_px=600,
        fitzpatrick=fitzpatrick,
        hair_colour=hair_colour,
        blur_sigma_px=blur_sigma_px,
    )
    result = analyze(render_trichogram(spec).rgb, spec.um_per_px)
    assert result.edge_spread_um is not None
    assert result.edge_spread_um == pytest.approx(blur_sigma_px * spec.um_per_px, abs=2.0)
    assert focus_warnings(result.edge_spread_um) == ()


def test_an_image_out_of_focus_is_warned_and_names_how_far() -> None:
    spec = TrichogramSpec(seed=44, width_px=800, height_px=600, blur_sigma_px=0.8)
    rgb = cv2.GaussianBlur(render_trichogram(spec).rgb, (0, 0), 3.0)  # ~16 µm in all
    result = analyze(rgb, spec.um_per_px)
    assert result.edge_spread_um is not None
    true_um = math.hypot(0.8, 3.0) * spec.um_per_px
    assert OUT_OF_FOCUS_EDGE_UM < result.edge_spread_um <= true_um  # read low, never high
    (warning,) = focus_warnings(result.edge_spread_um)
    assert f"about {result.edge_spread_um:.0f} µm" in warning


def test_no_hair_no_reading() -> None:
    skin = np.full((300, 400, 3), (205, 160, 126), dtype=np.uint8)
    result = analyze(skin, 5.0)
    assert result.hair_count == 0
    assert result.edge_spread_um is None
    assert focus_warnings(None) == ()


def test_the_cli_warns_of_an_image_out_of_focus(tmp_path: Path) -> None:
    spec = TrichogramSpec(seed=45, width_px=640, height_px=480)
    image = render_trichogram(spec).rgb
    sharp, blurred = tmp_path / "sharp.png", tmp_path / "blurred.png"
    cv2.imwrite(str(sharp), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(blurred), cv2.cvtColor(cv2.GaussianBlur(image, (0, 0), 3.0), cv2.COLOR_RGB2BGR))
    result = run_follicle(["analyze", str(sharp), str(blurred), "--um-per-px", "5", "--json"])
    assert result.returncode == 0, result.stderr
    assert f"follicle: warning: {blurred}: the image looks out of focus" in result.stderr
    assert str(sharp) not in result.stderr
