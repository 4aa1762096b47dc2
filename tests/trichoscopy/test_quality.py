"""Exposure, faint hair, and everything said together: an overexposed image (light skin gone
white in two or more channels) is warned of, as taken it is not; so is blond hair on skin of
its own colour, where thin hairs are missed, and not hair that stands out; the warnings of how
an image was saved, its exposure, its focus and its hairs' contrast come as one list
(docs/trichoscopy.md, "Exposure" and "Pale hair")."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest

from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.images import CHROMA_SUBSAMPLED, read_image
from follicle.trichoscopy.quality import (
    FAINT_HAIR_RATIO,
    OVEREXPOSED_SHARE,
    exposure_warnings,
    faint_hair_warnings,
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


def _dense_scalp_with_many_vellus(seed: int, skin: int, colour: str) -> TrichogramSpec:
    # (as the benchmark's 2028008, warned of: a noisy camera; until session 17 a scene of 250
    # hairs/cm2 and the default noise was, but the skin's spread no longer takes dense blond
    # hair for skin, and it stands out more)
    return TrichogramSpec(
        seed=seed,
        width_px=800,
        height_px=600,
        fitzpatrick=skin,
        hair_colour=colour,
        density_per_cm2=305.0,
        vellus_fraction=0.4,
        noise_sd=4.4,
    )


@pytest.mark.parametrize("seed", [61, 62, 63])
def test_blond_hair_on_skin_of_its_colour_is_warned_of_and_read_low(seed: int) -> None:
    image = render_trichogram(_dense_scalp_with_many_vellus(seed, 3, "blond"))
    result = analyze(image.rgb, 5.0)
    assert result.terminal_contrast_ratio is not None
    (warning,) = faint_hair_warnings(result.terminal_contrast_ratio)
    assert warning.startswith("shows its hairs only faintly")
    assert f"{result.terminal_contrast_ratio:.1f} times" in warning
    # why it is warned of: thin hairs are missed
    assert result.hair_count < 0.9 * len(image.counted_hairs)


@pytest.mark.parametrize(
    ("skin", "colour"), [(2, "blond"), (3, "black"), (3, "grey"), (5, "grey"), (6, "dyed_red")]
)
def test_hair_that_stands_out_from_the_skin_is_not_warned_of(skin: int, colour: str) -> None:
    image = render_trichogram(_dense_scalp_with_many_vellus(60, skin, colour))
    result = analyze(image.rgb, 5.0)
    assert result.terminal_contrast_ratio is not None
    assert result.terminal_contrast_ratio >= FAINT_HAIR_RATIO
    assert faint_hair_warnings(result.terminal_contrast_ratio) == ()


def test_too_few_terminal_hairs_say_nothing_of_contrast() -> None:
    spec = TrichogramSpec(seed=7, width_px=400, height_px=300, density_per_cm2=60.0)
    result = analyze(render_trichogram(spec).rgb, 5.0)
    assert sum(1 for h in result.hairs if h.terminal and h.length_um >= 200) < 5
    assert result.terminal_contrast_ratio is None
    assert faint_hair_warnings(result.terminal_contrast_ratio) == ()
