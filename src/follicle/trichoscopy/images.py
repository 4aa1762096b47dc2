"""Reading images safely: by content, with a pixel limit checked before decoding; and what in
the way a file was saved may cost the count its accuracy."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "TIFF")
MAX_PIXELS = 40_000_000
#: A JPEG saved below about this quality is warned of. In the benchmark (docs/trichoscopy.md,
#: "How an image is saved") JPEGs at quality 75-95 with full colour resolution counted as the
#: lossless images did, within the images' own run-to-run spread; at 60 and 50 the worst
#: pale-haired image went from 15 % to 21-23 % off.
LOWEST_JPEG_QUALITY = 70
#: The IJG (libjpeg) luminance quantisation table at quality 50, summed: a file's own table
#: against it gives the quality it was saved at (or its equivalent, for a camera's own table).
_IJG_LUMINANCE_SUM = 3688

NO_COLOUR = (
    "has no colour (greyscale): blond and grey hair on light skin is told from the skin by its "
    "colour, and will be missed; take the image in colour"
)
PALETTE = (
    "was saved with a palette of at most 256 colours: faint hairs may merge into the skin; "
    "save it as a full-colour PNG or TIFF"
)
CHROMA_SUBSAMPLED = (
    "is a JPEG with its colour stored at reduced resolution ({sampling}): pale (blond, grey) "
    "hairs lying close together may be counted as one; save as PNG or TIFF, or as JPEG with "
    "full colour resolution (4:4:4), or dye light hair before imaging"
)
STRONGLY_COMPRESSED = (
    "is a strongly compressed JPEG (quality about {quality}): faint and pale hairs may be "
    "missed; save at quality {lowest} or more, or as PNG or TIFF"
)
LOSSY_TIFF = (
    "is a TIFF holding JPEG-compressed pixels: its colour may be stored at reduced resolution; "
    "save the TIFF uncompressed or losslessly compressed"
)


class ImageRefused(ValueError):
    """Not an image we accept, or too large to decode safely; the message says why."""


@dataclass(frozen=True)
class ReadImage:
    """The decoded pixels, the file's format, and warnings about how it was saved (each a
    sentence's predicate: "the image <warning>")."""

    rgb: npt.NDArray[np.uint8]
    file_format: str
    warnings: tuple[str, ...]


def read_rgb(path: Path | str | BinaryIO, max_pixels: int = MAX_PIXELS) -> npt.NDArray[np.uint8]:
    """Decode a JPEG, PNG or TIFF file to 8-bit RGB, refusing anything else or anything huge."""
    return read_image(path, max_pixels).rgb


def read_image(path: Path | str | BinaryIO, max_pixels: int = MAX_PIXELS) -> ReadImage:
    """Decode a JPEG, PNG or TIFF file to 8-bit RGB, refusing anything else or anything huge,
    and say what in the way it was saved may cost the analysis its accuracy.

    The format is recognised from the content, not the name, and the pixel count is read from
    the header and checked before any pixel is decoded (a decompression bomb stops here).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Any = Image.open(path, formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(f"too many pixels to decode safely ({exc})") from None
    except UnidentifiedImageError:
        raise ImageRefused("not a JPEG, PNG or TIFF image (checked by content)") from None
    except OSError as exc:
        raise ImageRefused(f"cannot be read ({exc.strerror or exc})") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRefused(
                f"{width}x{height} is {width * height / 1e6:.0f} megapixels; "
                f"the limit is {max_pixels / 1e6:.0f}"
            )
        try:
            # Apply the camera's orientation tag, since re-encoding drops the tag itself.
            upright = ImageOps.exif_transpose(image)
            rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8)
        except (OSError, ValueError) as exc:
            raise ImageRefused(f"is damaged or truncated ({exc})") from None
        found = saving_warnings(image, rgb)
        return ReadImage(rgb, str(image.format), found)


def saving_warnings(image: Any, rgb: npt.NDArray[np.uint8]) -> tuple[str, ...]:
    """What in the way ``image`` (an open Pillow image, decoded to ``rgb``) was saved may cost
    the count: no colour, a palette, colour at reduced resolution, strong compression.

    The analyser tells pale hair from skin largely by colour, so these matter most for blond
    and grey hair (docs/trichoscopy.md, "How an image is saved")."""
    found = []
    if image.mode in ("1", "L", "LA", "I", "I;16", "F") or _grey(rgb):
        found.append(NO_COLOUR)
    elif image.mode in ("P", "PA"):
        found.append(PALETTE)
    if image.format == "JPEG":
        sampling = jpeg_chroma_sampling(image)
        if sampling not in (None, "4:4:4"):
            found.append(CHROMA_SUBSAMPLED.format(sampling=sampling))
        quality = jpeg_quality(image)
        if quality is not None and quality < LOWEST_JPEG_QUALITY:
            found.append(STRONGLY_COMPRESSED.format(quality=quality, lowest=LOWEST_JPEG_QUALITY))
    elif image.format == "TIFF" and str(image.info.get("compression", "")).startswith("jpeg"):
        found.append(LOSSY_TIFF)
    return tuple(found)


def _grey(rgb: npt.NDArray[np.uint8]) -> bool:
    """A colour file holding a greyscale picture (every pixel's three channels equal)."""
    sample = rgb[::7, ::7]
    return bool(
        (sample[..., 0] == sample[..., 1]).all() and (sample[..., 1] == sample[..., 2]).all()
    )


def jpeg_chroma_sampling(image: Any) -> str | None:
    """How a colour JPEG stores its colour against its brightness: "4:4:4" (full resolution),
    "4:2:2" (half across), "4:2:0" (half across and down), or the factors themselves; None when
    the file is not a three-component JPEG."""
    layers = getattr(image, "layer", None)
    if not layers or len(layers) != 3:
        return None
    (_, luma_h, luma_v, _), *chroma = layers
    across = {luma_h // max(h, 1) for _, h, _, _ in chroma}
    down = {luma_v // max(v, 1) for _, _, v, _ in chroma}
    named = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (4, 1): "4:1:1"}
    if len(across) == 1 and len(down) == 1:
        key = (across.pop(), down.pop())
        return named.get(key, f"1/{key[0]} across, 1/{key[1]} down")
    return "mixed"


def jpeg_quality(image: Any) -> int | None:
    """The IJG quality (1-100) a JPEG's luminance table corresponds to, or None without one.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> Image.new("RGB", (16, 16), "tan").save(buffer, "JPEG", quality=60)
    >>> jpeg_quality(Image.open(buffer))
    60
    """
    tables = getattr(image, "quantization", None)
    if not tables or 0 not in tables:
        return None
    scale_pct = 100.0 * sum(tables[0]) / _IJG_LUMINANCE_SUM
    quality = (200.0 - scale_pct) / 2.0 if scale_pct <= 100 else 5000.0 / scale_pct
    return int(max(1, min(100, round(quality))))
