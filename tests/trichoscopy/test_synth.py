"""The synthetic trichogram generator: reproducible, varied, and exact about its truth."""

from __future__ import annotations

import numpy as np
import pytest

from follicle.trichoscopy.synth import (
    HAIR_RGB,
    MIN_COUNTED_SHAFT_UM,
    SKIN_RGB,
    TrichogramSpec,
    render_trichogram,
    varied_specs,
)

SMALL = {"width_px": 480, "height_px": 360}


def test_same_seed_same_image_and_truth() -> None:
    spec = TrichogramSpec(seed=11, **SMALL)
    first, second = render_trichogram(spec), render_trichogram(spec)
    assert np.array_equal(first.rgb, second.rgb)
    assert first.hairs == second.hairs
    assert not np.array_equal(first.rgb, render_trichogram(TrichogramSpec(seed=12, **SMALL)).rgb)


def test_a_hair_counts_when_50_um_of_shaft_is_in_frame() -> None:
    hairs = [
        h
        for seed in range(6)
        for h in render_trichogram(TrichogramSpec(seed=seed, density_per_cm2=350)).hairs
    ]
    assert any(not h.counted for h in hairs)  # some barely enter the frame
    for hair in hairs:
        assert hair.counted == (hair.in_frame_length_um >= MIN_COUNTED_SHAFT_UM)


def test_density_follows_the_spec() -> None:
    low = render_trichogram(TrichogramSpec(seed=1, density_per_cm2=60))
    high = render_trichogram(TrichogramSpec(seed=1, density_per_cm2=300))
    assert len(high.counted_hairs) > 3 * len(low.counted_hairs)


def test_vellus_and_terminal_diameters_are_both_present() -> None:
    image = render_trichogram(TrichogramSpec(seed=2, vellus_fraction=0.3))
    diameters = [h.diameter_um for h in image.counted_hairs]
    assert min(diameters) < 30 < max(diameters)
    assert all(5 < d < 120 for d in diameters)


@pytest.mark.parametrize("fitzpatrick", sorted(SKIN_RGB))
def test_every_skin_type_renders_its_tone(fitzpatrick: int) -> None:
    image = render_trichogram(
        TrichogramSpec(seed=3, fitzpatrick=fitzpatrick, density_per_cm2=20, **SMALL)
    )
    median = np.median(image.rgb.reshape(-1, 3), axis=0)
    assert np.abs(median - np.array(SKIN_RGB[fitzpatrick])).max() < 40


def test_the_benchmark_set_covers_every_skin_type_and_hair_colour() -> None:
    specs = varied_specs(48)
    assert {s.fitzpatrick for s in specs} == set(SKIN_RGB)
    assert {s.hair_colour for s in specs} == set(HAIR_RGB)
    densities = [s.density_per_cm2 for s in specs]
    assert min(densities) < 100
    assert max(densities) > 300
