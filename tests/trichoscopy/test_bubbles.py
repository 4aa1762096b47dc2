"""Air bubbles in the immersion fluid (docs/trichoscopy.md, "Air bubbles"): their rims are not
counted as hair, a hole left between crossing hairs is not taken for one, and the overlay
outlines them and the image is warned of."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

import follicle.trichoscopy.masks as masks_module
from follicle.cli_trichoscopy import analyze_one
from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.bubbles import without_bubble_rims
from follicle.trichoscopy.hair import Scale
from follicle.trichoscopy.overlay import AIR_BUBBLE_BGR, draw_overlay
from follicle.trichoscopy.synth import render_trichogram, varied_specs


@pytest.mark.parametrize("index", [8, 9])  # blond hair on skin type III, black on IV
def test_the_rims_of_air_bubbles_are_not_counted_as_hair(
    index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = replace(varied_specs(12, seed=2026)[index], air_bubbles=6)
    image = render_trichogram(spec)
    without_bubbles = analyze(render_trichogram(replace(spec, air_bubbles=0)).rgb, 5.0)
    result = analyze(image.rgb, 5.0)
    assert len(result.air_bubble_outlines) >= 5
    assert abs(result.hair_count - without_bubbles.hair_count) <= 3
    # not looked for, each ring was read as several hairs
    monkeypatch.setattr(masks_module, "without_bubble_rims", lambda mask, params: (mask, ()))
    assert analyze(image.rgb, 5.0).hair_count - without_bubbles.hair_count >= 15


@pytest.mark.parametrize("corners", [3, 4, 5])
def test_a_hole_between_crossing_hairs_is_not_a_bubble(corners: int) -> None:
    """Hairs crossing one another enclose a polygon, on its enclosing circle only at its
    corners; the mask is left as it is."""
    mask = np.zeros((400, 400), np.uint8)
    angles = np.linspace(0, 2 * np.pi, corners, endpoint=False)
    points = [(200 + 110 * np.cos(a), 200 + 110 * np.sin(a)) for a in angles]
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        # each side a hair 12 px wide reaching past the corners
        dx, dy = (x1 - x0) * 0.2, (y1 - y0) * 0.2
        start, end = (round(x0 - dx), round(y0 - dy)), (round(x1 + dx), round(y1 + dy))
        cv2.line(mask, start, end, 1, 12)
    kept, rings = without_bubble_rims(mask, Scale(5.0))
    assert rings == ()
    assert np.array_equal(kept, mask)


def test_a_bubble_crossed_by_a_hair_inside_is_still_found() -> None:
    """A hair lying across the inside of a bubble, touching its rim, cuts a bay into the
    hole; the rim is still found, and the hair is kept."""
    mask = np.zeros((300, 300), np.uint8)
    cv2.circle(mask, (150, 150), 80, 1, 7)
    cv2.line(mask, (110, 80), (150, 200), 1, 10)  # inside, touching the rim at one end
    kept, rings = without_bubble_rims(mask, Scale(5.0))
    assert len(rings) == 1
    assert kept[150, 150 - 80] == 0  # the rim
    assert kept[140, 130] == 1  # the hair


def test_a_bubble_cut_by_the_frame_is_found() -> None:
    """Its ring closes round a hole with the frame; the circle is fitted to the rest."""
    mask = np.zeros((300, 300), np.uint8)
    cv2.circle(mask, (30, 150), 70, 1, 6)  # its centre 30 px in: about a third is cut off
    kept, rings = without_bubble_rims(mask, Scale(5.0))
    assert len(rings) == 1
    assert kept[150, 100] == 0  # the rim
    assert not kept.any()


def test_a_bubble_cut_by_the_frame_with_bays_in_its_edge_is_found() -> None:
    """Hairs lying inside it cut bays into the hole's edge and pull the circle fitted to
    the rest a few pixels off; the rim is looked for either side of it."""
    mask = np.zeros((300, 300), np.uint8)
    cv2.circle(mask, (150, 270), 70, 1, 6)  # the frame cuts its lower part
    cv2.line(mask, (95, 240), (140, 299), 1, 10)  # hairs inside, touching its rim
    cv2.line(mask, (90, 262), (120, 299), 1, 10)
    kept, rings = without_bubble_rims(mask, Scale(5.0))
    assert len(rings) == 1
    assert kept[200, 150] == 0  # the rim's top
    assert kept[285, 128] == 1  # a hair


def test_a_bubble_a_hair_cuts_across_is_found_once() -> None:
    """A hair right across it splits the hole in two, neither round: each is a part of the
    circle and the hair's straight edge, and the circle most of its edge lies on is the
    bubble's."""
    mask = np.zeros((300, 300), np.uint8)
    cv2.circle(mask, (150, 150), 80, 1, 6)
    cv2.line(mask, (40, 120), (260, 170), 1, 12)  # across the bubble, beyond its rim
    kept, rings = without_bubble_rims(mask, Scale(5.0))
    assert len(rings) == 1
    assert kept[150 + 80, 150] == 0  # the rim, either side
    assert kept[150 - 80, 150] == 0
    assert kept[145, 150] == 1  # the hair, inside the bubble
    assert kept[122, 50] == 1  # ...and beyond it


def test_two_overlapping_bubbles_are_both_found() -> None:
    mask = np.zeros((320, 420), np.uint8)
    cv2.circle(mask, (150, 160), 90, 1, 6)
    cv2.circle(mask, (270, 160), 90, 1, 6)
    kept, rings = without_bubble_rims(mask, Scale(5.0))
    assert len(rings) == 2
    assert not kept.any()


def test_hairs_meeting_at_the_frame_are_not_a_bubble() -> None:
    """Two hairs from one exit close a hole with the frame; a circle fitted to its edge
    (two straight sides) fits only a part of it."""
    mask = np.zeros((300, 300), np.uint8)
    cv2.line(mask, (150, 120), (40, 299), 1, 12)
    cv2.line(mask, (150, 120), (260, 299), 1, 12)
    kept, rings = without_bubble_rims(mask, Scale(5.0))
    assert rings == ()
    assert np.array_equal(kept, mask)


def test_bubbles_are_drawn_over_the_scene_and_change_no_hair() -> None:
    spec = replace(varied_specs(12, seed=2026)[4], air_bubbles=6)
    assert render_trichogram(spec).hairs == render_trichogram(replace(spec, air_bubbles=0)).hairs


def test_the_overlay_outlines_the_bubbles() -> None:
    spec = replace(varied_specs(12, seed=2026)[4], air_bubbles=6)
    rgb = render_trichogram(spec).rgb
    result = analyze(rgb, spec.um_per_px)
    drawn = draw_overlay(rgb, result).astype(int)
    without = draw_overlay(rgb, replace(result, air_bubble_outlines=())).astype(int)
    changed = np.any(drawn != without, axis=2)
    changed[:250, :600] = False  # (the legend)
    assert changed.sum() > 200
    near = np.abs(drawn[changed] - np.array(AIR_BUBBLE_BGR)).max(axis=1) <= 40
    assert near.mean() > 0.3


def test_an_image_with_bubbles_is_warned_of_and_one_without_is_not(tmp_path: Path) -> None:
    """Rings that do not close (cut by the frame, crossed by a hair) are still read as hair,
    so the clinician is told to press the bubbles out and take the image again."""
    spec = replace(varied_specs(12, seed=2026)[9], air_bubbles=6)
    for bubbles, warned in ((6, True), (0, False)):
        path = tmp_path / f"site-{bubbles}.png"
        rgb = render_trichogram(replace(spec, air_bubbles=bubbles)).rgb
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        analysed = analyze_one(str(path), spec.um_per_px, 30.0, None)
        about_bubbles = [w for w in analysed.warnings if "air bubble" in w]
        assert bool(about_bubbles) is warned
        if warned:
            assert about_bubbles[0].startswith("shows 6 air bubbles in the immersion fluid")
