"""Exposure, and everything said together: an overexposed image (light skin gone white in two
or more channels) is warned of, as taken it is not; the warnings of how an image was saved,
its exposure and its focus come as one list (docs/trichoscopy.md, "Exposure")."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest

from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.images import CHROMA_SUBSAMPLED, read_image
from follicle.trichoscopy.quality import (
    OVEREXPOSED_SHARE,
    exposure_warnings,
    image_warnings,
    overexposed_share,
)
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram


@pytest.fixture(scope="module")
def fair_scalp() -> np.ndarray:
    spec = TrichogramSpec(seed=50, width_px=640, height_px=480, fitzpatrick=1)
    return render_trichogram(spec).rgb


def test_an_image_as_taken_is_not_overexposed(fair_scalp: np.ndarray) -> None:
    assert overexposed_share(fair_scalp) <= OVEREXPOSED_SHARE
    assert exposure_warnings(fair_scalp) == ()


def test_fair_skin_gone_white_is_warned_of_with_its_share(fair_scalp: np.ndarray) -> None:
    brighter = cv2.convertScaleAbs(fair_scalp, alpha=1.3)
    share = overexposed_share(brighter)
    assert share > OVEREXPOSED_SHARE
    (warning,) = exposure_warnings(brighter)
    assert warning.startswith(f"is overexposed ({100 * share:.0f} % of it white")


def test_every_warning_comes_in_one_list(fair_scalp: np.ndarray) -> None:
    bgr = cv2.cvtColor(cv2.convertScaleAbs(fair_scalp, alpha=1.3), cv2.COLOR_RGB2BGR)
    blurred = cv2.GaussianBlur(bgr, (0, 0), 3.0)
    options = [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]
    read = read_image(io.BytesIO(cv2.imencode(".jpg", blurred, options)[1].tobytes()))
    found = image_warnings(read, analyze(read.rgb, 5.0))
    assert found[0] == CHROMA_SUBSAMPLED.format(sampling="4:2:0")
    assert found[1].startswith("is overexposed")
    assert found[2].startswith("looks out of focus")
    assert len(found) == 3
