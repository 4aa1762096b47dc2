"""Reading image files: by content, never by name, and never decoding a bomb."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from follicle.trichoscopy.images import ImageRefused, read_rgb


def _save(tmp_path: Path, name: str, fmt: str) -> Path:
    path = tmp_path / name
    rgb = np.zeros((40, 60, 3), dtype=np.uint8)
    rgb[:, :, 0] = 200
    Image.fromarray(rgb).save(path, format=fmt)
    return path


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_accepted_formats_decode_to_rgb(tmp_path: Path, fmt: str) -> None:
    rgb = read_rgb(_save(tmp_path, "image.any", fmt))
    assert rgb.shape == (40, 60, 3)
    assert rgb.dtype == np.uint8
    assert rgb[0, 0, 0] > 150


def test_the_name_does_not_decide(tmp_path: Path) -> None:
    fake = tmp_path / "photo.jpg"
    fake.write_text("<html><script>alert(1)</script></html>")
    with pytest.raises(ImageRefused, match="not a JPEG, PNG or TIFF"):
        read_rgb(fake)
    gif = tmp_path / "photo.png"
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    with pytest.raises(ImageRefused, match="not a JPEG, PNG or TIFF"):
        read_rgb(gif)


def test_a_truncated_image_is_refused(tmp_path: Path) -> None:
    path = _save(tmp_path, "whole.png", "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(path.read_bytes()[:60])
    with pytest.raises(ImageRefused):
        read_rgb(cut)


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A tiny file that claims a huge image: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_100_megapixel_file_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    _png_header_only(bomb, 10_000, 10_000)
    assert bomb.stat().st_size < 1000
    with pytest.raises(ImageRefused, match=r"100 megapixels|too many pixels"):
        read_rgb(bomb)
