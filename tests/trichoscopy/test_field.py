"""A round field of view with black around it (a dermatoscope on a phone): the black is not
scalp, its edge is not hair, and the area measured is the field's (docs/trichoscopy.md,
"Field of view")."""

from __future__ import annotations

import numpy as np
import pytest

from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.field import field_of_view
from follicle.trichoscopy.overlay import FIELD_BGR, draw_overlay
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram, varied_specs


def _in_a_round_field(rgb: np.ndarray, radius_share: float) -> np.ndarray:
    height, width = rgb.shape[:2]
    rows, cols = np.mgrid[:height, :width]
    framed = rgb.copy()
    framed[np.hypot(rows - height / 2, cols - width / 2) > radius_share * width] = 8
    return framed


@pytest.mark.parametrize("index", [0, 4, 9, 11])  # black hair on skin types I, V, IV, VI
def test_a_round_field_is_measured_without_its_black_surround(index: int) -> None:
    spec = varied_specs(12, seed=2026)[index]
    image = render_trichogram(spec)
    framed = _in_a_round_field(image.rgb, 0.4)
    field = field_of_view(framed, spec.um_per_px)
    assert field is not None
    assert 0.55 < field.share < 0.65  # the circle is 0.64 of the frame, less its edge
    whole = analyze(image.rgb, spec.um_per_px)
    seen = analyze(framed, spec.um_per_px)
    assert seen.field_share == field.share
    assert seen.area_cm2 == pytest.approx(whole.area_cm2 * field.share)
    # no hair found in the black, nor along its edge
    outside = field.inside == 0
    for hair in seen.hairs:
        middle = (round((hair.y_px + hair.end_y_px) / 2), round((hair.x_px + hair.end_x_px) / 2))
        assert not outside[middle]
    # the density is the scene's, within what a smaller area allows (without the field the
    # circle's edge gave 20-30 false hairs, and the density was read over the whole frame)
    assert seen.density_per_cm2 == pytest.approx(whole.density_per_cm2, rel=0.25)


def test_black_hair_at_the_frame_is_not_taken_for_a_field_edge() -> None:
    """Dense black hair on fair skin, many hairs cut by the frame: the scalp fills it."""
    for seed in range(4):
        spec = TrichogramSpec(seed=seed, fitzpatrick=1, density_per_cm2=350.0)
        rgb = render_trichogram(spec).rgb
        assert field_of_view(rgb, spec.um_per_px) is None
        assert analyze(rgb, spec.um_per_px).field_share == 1.0


def test_the_overlay_draws_the_fields_edge_and_the_legend_its_share() -> None:
    """A clinician checking the count by eye sees where the analyser stopped reading."""
    spec = varied_specs(12, seed=2026)[0]
    image = render_trichogram(spec)
    framed = _in_a_round_field(image.rgb, 0.4)
    result = analyze(framed, spec.um_per_px)
    (edge,) = result.field_outline
    height, width = framed.shape[:2]
    radii = [np.hypot(x - width / 2, y - height / 2) / width for x, y in edge]
    assert min(radii) > 0.36  # the circle (0.4 of the width), less its 100 um margin
    assert max(radii) < 0.41
    drawn = np.all(draw_overlay(framed, result) == FIELD_BGR, axis=-1)
    rows, cols = np.nonzero(drawn)
    on_circle = np.abs(np.hypot(cols - width / 2, rows - height / 2) / width - 0.39) < 0.02
    assert on_circle.sum() > 2 * np.pi * 0.39 * width  # all round it
    # the scalp filling the frame has no edge to draw
    whole = analyze(image.rgb, spec.um_per_px)
    assert whole.field_outline == ()
    assert not np.all(draw_overlay(image.rgb, whole) == FIELD_BGR, axis=-1).any()
