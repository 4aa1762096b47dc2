"""How an image was saved, read from the file: what would cost the count is said, not hidden.

The analyser tells pale hair from skin largely by colour; the benchmark (docs/trichoscopy.md,
"How an image is saved") shows what greyscale, reduced colour resolution and strong
compression cost it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from follicle.trichoscopy.images import (
    CHROMA_SUBSAMPLED,
    LOSSY_TIFF,
    NO_COLOUR,
    PALETTE,
    jpeg_quality,
    read_image,
)
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
from tests.support.server import run_follicle
from tests.test_cli_trichoscopy import CONTRACT_KEYS


@pytest.fixture(scope="module")
def scalp() -> np.ndarray:
    spec = TrichogramSpec(seed=5, width_px=320, height_px=240, hair_colour="blond")
    return render_trichogram(spec).rgb


def _jpeg(rgb: np.ndarray, quality: int, sampling: int) -> bytes:
    ok, encoded = cv2.imencode(
        ".jpg",
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling],
    )
    assert ok
    return encoded.tobytes()


def _pillow(rgb: np.ndarray, fmt: str, mode: str = "RGB", **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert(mode).save(buffer, fmt, **options)
    return buffer.getvalue()


def test_lossless_and_full_colour_files_have_no_warning(scalp: np.ndarray) -> None:
    for content in (
        _pillow(scalp, "PNG"),
        _pillow(scalp, "TIFF"),
        _pillow(scalp, "TIFF", compression="tiff_lzw"),
        _jpeg(scalp, 90, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444),
        _jpeg(scalp, 75, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444),
    ):
        read = read_image(io.BytesIO(content))
        assert read.warnings == (), read.file_format
        assert read.rgb.shape == scalp.shape


@pytest.mark.parametrize(
    ("sampling", "named"),
    [
        (cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, "4:2:0"),
        (cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422, "4:2:2"),
    ],
)
def test_a_jpeg_with_colour_at_reduced_resolution_is_named(
    scalp: np.ndarray, sampling: int, named: str
) -> None:
    read = read_image(io.BytesIO(_jpeg(scalp, 95, sampling)))
    assert read.file_format == "JPEG"
    assert read.warnings == (CHROMA_SUBSAMPLED.format(sampling=named),)
    assert "pale (blond, grey) hairs" in read.warnings[0]


def test_a_strongly_compressed_jpeg_says_its_quality(scalp: np.ndarray) -> None:
    read = read_image(io.BytesIO(_jpeg(scalp, 50, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444)))
    assert len(read.warnings) == 1
    assert "strongly compressed JPEG (quality about 50)" in read.warnings[0]
    both = read_image(io.BytesIO(_jpeg(scalp, 60, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420)))
    assert len(both.warnings) == 2


@pytest.mark.parametrize("quality", [30, 50, 69, 70, 85, 95])
def test_the_jpeg_quality_is_read_from_its_tables(scalp: np.ndarray, quality: int) -> None:
    for content in (
        _pillow(scalp, "JPEG", quality=quality),
        _jpeg(scalp, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444),
    ):
        assert jpeg_quality(Image.open(io.BytesIO(content))) == quality


def test_greyscale_is_named_whether_saved_grey_or_as_three_equal_channels(
    scalp: np.ndarray,
) -> None:
    grey = cv2.cvtColor(scalp, cv2.COLOR_RGB2GRAY)
    for content in (
        _pillow(scalp, "PNG", mode="L"),
        _pillow(np.dstack([grey, grey, grey]), "PNG"),
        _pillow(scalp, "JPEG", mode="L", quality=95),
    ):
        read = read_image(io.BytesIO(content))
        assert NO_COLOUR in read.warnings
        assert read.rgb.shape == scalp.shape  # still analysed: the clinician decides


def test_a_palette_image_and_a_jpeg_inside_a_tiff_are_named(scalp: np.ndarray) -> None:
    assert read_image(io.BytesIO(_pillow(scalp, "PNG", mode="P"))).warnings == (PALETTE,)
    tiff = read_image(io.BytesIO(_pillow(scalp, "TIFF", compression="jpeg")))
    assert tiff.warnings == (LOSSY_TIFF,)


def test_the_cli_warns_on_stderr_and_keeps_the_json_line_as_contracted(
    tmp_path: Path, scalp: np.ndarray
) -> None:
    saved = tmp_path / "site.jpg"
    saved.write_bytes(_jpeg(scalp, 92, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420))
    lossless = tmp_path / "site.png"
    lossless.write_bytes(_pillow(scalp, "PNG"))
    result = run_follicle(["analyze", str(saved), str(lossless), "--um-per-px", "5", "--json"])
    assert result.returncode == 0, result.stderr
    assert f"follicle: warning: {saved}: the image is a JPEG with its colour" in result.stderr
    assert str(lossless) not in result.stderr
    lines = [line for line in result.stdout.splitlines() if line]
    assert len(lines) == 2
    assert all(set(json.loads(line)) == CONTRACT_KEYS for line in lines)
