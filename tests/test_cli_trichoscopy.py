"""`follicle analyze` as a clinic runs it: JSON lines, overlays, and bad files named."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
from tests.support.server import run_follicle

CONTRACT_KEYS = {
    "image",
    "width_px",
    "height_px",
    "um_per_px",
    "area_cm2",
    "hair_count",
    "density_per_cm2",
    "terminal_count",
    "vellus_count",
    "vellus_threshold_um",
    "mean_diameter_um",
    "diameter_cv",
    "follicular_units",
    "hairs",
    "seconds",
}


def _image(tmp_path: Path, name: str, seed: int) -> Path:
    image = render_trichogram(TrichogramSpec(seed=seed, width_px=640, height_px=480))
    path = tmp_path / name
    cv2.imwrite(str(path), cv2.cvtColor(image.rgb, cv2.COLOR_RGB2BGR))
    return path


def test_batch_with_a_bad_file_reports_it_and_analyses_the_rest(tmp_path: Path) -> None:
    good = [_image(tmp_path, f"site{i}.png", i) for i in range(3)]
    bad = tmp_path / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    overlays = tmp_path / "overlays"
    result = run_follicle(
        [
            "analyze",
            *map(str, good),
            str(bad),
            "--um-per-px",
            "5",
            "--json",
            "--overlay",
            str(overlays),
        ]
    )
    assert result.returncode != 0
    assert "corrupt.jpg" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(line["image"] for line in lines) == ["site0.png", "site1.png", "site2.png"]
    for line in lines:
        assert set(line) == CONTRACT_KEYS
        assert line["hair_count"] == len(line["hairs"])
        assert set(line["follicular_units"]) == {"1", "2", "3", "4"}
        assert all(h["class"] in {"terminal", "vellus"} for h in line["hairs"])
    for path in good:
        overlay = cv2.imread(str(overlays / f"{path.stem}.overlay.png"))
        assert overlay is not None
        original = cv2.imread(str(path))
        assert overlay.shape == original.shape
        assert np.count_nonzero(np.any(overlay != original, axis=2)) > 1000  # drawn on


def test_a_wrong_scale_is_refused_by_name(tmp_path: Path) -> None:
    path = _image(tmp_path, "site.png", 1)
    result = run_follicle(["analyze", str(path), "--um-per-px", "0"])
    assert result.returncode != 0
    assert "site.png" in result.stderr
    assert "um_per_px" in result.stderr


def test_readable_summary_without_json(tmp_path: Path) -> None:
    path = _image(tmp_path, "site.png", 2)
    result = run_follicle(["analyze", str(path), "--um-per-px", "5", "--vellus-threshold-um", "40"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("site.png: ")
    assert "hairs" in result.stdout


def test_calibrate_prints_the_scale_and_names_a_bad_spacing(tmp_path: Path) -> None:
    from follicle.trichoscopy.synth_calibration import CalibrationSpec, render_calibration

    path = tmp_path / "micrometer.png"
    rgb = render_calibration(CalibrationSpec(um_per_px=3.7, width_px=800, height_px=600))
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    result = run_follicle(["calibrate", str(path), "--line-spacing-um", "100", "--json"])
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["image"] == "micrometer.png"
    assert abs(found["um_per_px"] - 3.7) < 0.004
    refused = run_follicle(["calibrate", str(path), "--line-spacing-um", "1"])
    assert refused.returncode != 0
    assert "micrometer.png" in refused.stderr
    assert "line_spacing_um" in refused.stderr
