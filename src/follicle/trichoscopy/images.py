"""Reading images safely: by content, with a pixel limit checked before decoding."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "TIFF")
MAX_PIXELS = 40_000_000


class ImageRefused(ValueError):
    """Not an image we accept, or too large to decode safely; the message says why."""


def read_rgb(path: Path | str | BinaryIO, max_pixels: int = MAX_PIXELS) -> npt.NDArray[np.uint8]:
    """Decode a JPEG, PNG or TIFF file to 8-bit RGB, refusing anything else or anything huge.

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
    return rgb
