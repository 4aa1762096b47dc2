"""The scalp's honeycomb pigment network (docs/trichoscopy.md, "The honeycomb pigment
network"): the generator draws it as part of the skin, the analyser does not read it as hair,
and where it hides blond hair the image is warned of as showing its hairs faintly."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.hair import FAINT_HAIR_RATIO
from follicle.trichoscopy.quality import faint_hair_warnings
from follicle.trichoscopy.synth import (
    HONEYCOMB_MESH_UM,
    TrichogramSpec,
    View,
    render_trichogram,
    varied_specs,
)
from tests.support.scalp_features import darkening


def test_the_network_is_brown_lines_round_holes_of_its_mesh() -> None:
    spec = TrichogramSpec(seed=3, fitzpatrick=4, density_per_cm2=0.0, honeycomb=0.8)
    taken = darkening(spec, View(seed=spec.seed), "honeycomb")
    assert taken.min() >= -1  # it only darkens (rounding aside)...
    lines = taken.mean(axis=2) >= 6
    blue, green, red = (float(taken[..., c][lines].mean()) for c in (2, 1, 0))
    assert blue > green > red  # ...and blue most: melanin's colour, brown
    # the holes between the lines are cells of the mesh's size
    _, _, stats, _ = cv2.connectedComponentsWithStats((~lines).astype(np.uint8), 4)
    cells = stats[1:, cv2.CC_STAT_AREA]
    cells = cells[cells >= 20]
    mesh_um = 5.0 * np.sqrt(np.median(cells) * 2 / np.sqrt(3))  # a hexagon's spacing
    assert len(cells) > 300
    assert HONEYCOMB_MESH_UM[0] * 0.6 <= mesh_um <= HONEYCOMB_MESH_UM[1]


def test_the_network_belongs_to_the_scalp_the_same_at_every_visit() -> None:
    """Another visit's light, noise and flakes are its own; the network is the skin's."""
    spec = TrichogramSpec(
        seed=8, fitzpatrick=5, honeycomb=0.7, width_px=500, height_px=400, dandruff_flakes=0
    )
    first = darkening(spec, View(seed=1), "honeycomb")
    second = darkening(spec, View(seed=2), "honeycomb")
    assert np.count_nonzero(first.mean(axis=2) >= 6) > 0.1 * first[..., 0].size
    assert np.abs(first - second).max() <= 2


def test_the_network_changes_nothing_but_the_skin() -> None:
    spec = varied_specs(6, seed=2026)[3]
    plain, pigmented = render_trichogram(spec), render_trichogram(replace(spec, honeycomb=0.9))
    assert plain.hairs == pigmented.hairs
    assert replace(spec, honeycomb=0.0) == spec  # (none by default: the benchmark unchanged)


@pytest.mark.parametrize("fitzpatrick", [1, 3, 6])
def test_a_network_on_bare_scalp_is_not_read_as_hair(fitzpatrick: int) -> None:
    spec = TrichogramSpec(
        seed=5, fitzpatrick=fitzpatrick, density_per_cm2=0.0, dandruff_flakes=0, honeycomb=1.0
    )
    assert analyze(render_trichogram(spec).rgb, spec.um_per_px).hair_count <= 1


def test_blond_hair_hidden_by_a_network_is_warned_of() -> None:
    """Blond hair on type III skin differs from it in colour much as the network's lines do:
    the skin's spread taken in by the network, the hair stands out about half as much, thin
    hairs are lost, and the image is warned of (the count is then 34 % low, against 7 %)."""
    spec = varied_specs(48, seed=2027)[8]
    assert (spec.fitzpatrick, spec.hair_colour) == (3, "blond")
    image = render_trichogram(spec)
    truth = len(image.counted_hairs)
    plain = analyze(image.rgb, spec.um_per_px)
    pigmented = analyze(render_trichogram(replace(spec, honeycomb=0.7)).rgb, spec.um_per_px)
    assert plain.terminal_contrast_ratio is not None
    assert pigmented.terminal_contrast_ratio is not None
    assert plain.terminal_contrast_ratio >= FAINT_HAIR_RATIO
    assert pigmented.terminal_contrast_ratio < 0.7 * plain.terminal_contrast_ratio
    assert faint_hair_warnings(pigmented.terminal_contrast_ratio)
    assert pigmented.hair_count < plain.hair_count - 0.15 * truth
