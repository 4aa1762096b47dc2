"""The overlay shows what was left out as well as what was counted: pale patches taken for
dandruff or scale are outlined, so grey hair piled up and taken for a flake shows as left out
(docs/trichoscopy.md, "Pale hair")."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.overlay import SET_ASIDE_BGR, draw_overlay
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram


def _inside(patch: tuple[tuple[int, int], ...], shape: tuple[int, ...]) -> np.ndarray:
    filled = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(filled, [np.array(patch, dtype=np.int32)], 1)
    return filled.astype(bool)


def test_flakes_are_outlined_as_left_out_on_the_overlay() -> None:
    spec = TrichogramSpec(
        seed=4, width_px=800, height_px=600, fitzpatrick=2, density_per_cm2=0, dandruff_flakes=8
    )
    rgb = render_trichogram(spec).rgb
    result = analyze(rgb, 5.0)
    assert len(result.set_aside_patches) >= 4
    skin_brightness = float(np.median(rgb.mean(axis=2)))
    for patch in result.set_aside_patches:
        inside = _inside(patch, rgb.shape)
        assert inside.sum() > 100  # a patch, not a speck
        assert float(np.median(rgb[inside].mean(axis=1))) > skin_brightness  # pale
    drawn = draw_overlay(rgb, result).astype(int)
    without = draw_overlay(rgb, replace(result, set_aside_patches=())).astype(int)
    changed = np.any(drawn != without, axis=2)
    changed[:200, :400] = False  # (the legend, which counts them)
    assert changed.sum() > 200
    # drawn in the patches' own colour (its lines' edges blend with what is under them)
    near = np.abs(drawn[changed] - np.array(SET_ASIDE_BGR)).max(axis=1) <= 40
    assert near.mean() > 0.3


def test_a_scalp_without_flakes_or_pale_hair_leaves_nothing_out() -> None:
    spec = TrichogramSpec(seed=5, width_px=800, height_px=600, dandruff_flakes=0)
    assert analyze(render_trichogram(spec).rgb, 5.0).set_aside_patches == ()


def test_grey_hair_piled_up_and_taken_for_a_flake_shows_as_left_out() -> None:
    """No flake in the scene: whatever is left out is hair, and it is outlined where a
    clinician will see it."""
    spec = TrichogramSpec(
        seed=2027020,
        fitzpatrick=3,
        hair_colour="grey",
        density_per_cm2=330.0,
        vellus_fraction=0.2,
        dandruff_flakes=0,
    )
    image = render_trichogram(spec)
    result = analyze(image.rgb, 5.0)
    assert result.set_aside_patches
    hair_pixels = np.zeros(image.rgb.shape[:2], dtype=np.uint8)
    for hair in image.hairs:
        exit_point = (round(hair.exit_x), round(hair.exit_y))
        cv2.line(hair_pixels, exit_point, (round(hair.end_x), round(hair.end_y)), 1, 3)
    for patch in result.set_aside_patches:
        assert hair_pixels[_inside(patch, image.rgb.shape)].any()
