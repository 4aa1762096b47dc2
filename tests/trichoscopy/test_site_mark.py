"""The tattoo dot marking the site (docs/trichoscopy.md, "The site's tattoo dot"): it is found,
not counted as hair, outlined on the overlay, and found in none of the benchmark's scenes
without one, not even in clumps of black or dyed hair as wide."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

import follicle.trichoscopy.analyze as analyze_module
from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.hair import Analysis
from follicle.trichoscopy.overlay import SITE_MARK_BGR, draw_overlay
from follicle.trichoscopy.site_mark import site_marks
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram, varied_specs


def _changed(spec: TrichogramSpec) -> np.ndarray:
    """Where drawing the dot changed the image."""
    plain = render_trichogram(replace(spec, site_mark_um=0.0)).rgb.astype(int)
    dotted = render_trichogram(spec).rgb.astype(int)
    return np.abs(dotted - plain).max(axis=2) > 0


@pytest.mark.parametrize("index", [0, 5, 9])  # black on type I, dyed red on VI, black on IV
def test_a_tattoo_dot_is_found_and_not_counted_as_hair(
    index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = replace(varied_specs(12, seed=2026)[index], site_mark_um=800.0)
    image = render_trichogram(spec)
    without_dot = analyze(render_trichogram(replace(spec, site_mark_um=0.0)).rgb, 5.0)
    result = analyze(image.rgb, 5.0)
    assert len(result.site_mark_outlines) == 1
    outline = np.array(result.site_mark_outlines[0], dtype=np.int32)
    rows, cols = np.nonzero(_changed(spec))
    centre = (float(cols.mean()), float(rows.mean()))
    assert cv2.pointPolygonTest(outline, centre, False) > 0
    # counted as the scene without the dot is; the area is the frame's
    assert abs(result.hair_count - without_dot.hair_count) <= 2
    assert result.area_cm2 == without_dot.area_cm2
    # on the dot, as many hairs as truly lie there are counted; not looked for, pieces of
    # the dot's rim were read as hairs besides
    truly_on_dot = sum(
        _on(outline, (h.exit_x, h.exit_y), (h.end_x, h.end_y)) for h in image.counted_hairs
    )
    assert _counted_on(outline, result) == truly_on_dot
    monkeypatch.setattr(analyze_module, "site_marks", lambda *args, **kwargs: None)
    assert _counted_on(outline, analyze(image.rgb, 5.0)) - truly_on_dot >= 3


def _on(outline: np.ndarray, start: tuple[float, float], end: tuple[float, float]) -> bool:
    """Whether a shaft from ``start`` to ``end`` touches the dot (within 10 pixels of its
    outline at an end or its middle)."""
    middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    return any(
        cv2.pointPolygonTest(outline, (float(x), float(y)), True) > -10
        for x, y in (start, end, middle)
    )


def _counted_on(outline: np.ndarray, analysis: Analysis) -> int:
    return sum(_on(outline, (h.x_px, h.y_px), (h.end_x_px, h.end_y_px)) for h in analysis.hairs)


@pytest.mark.parametrize(("seed", "index"), [(2028, 45), (2029, 13)])
def test_wide_clumps_of_dyed_or_black_hair_are_not_taken_for_a_mark(seed: int, index: int) -> None:
    """The two benchmark scenes where a disc as wide as a mark fits in a clump of hair (dyed
    red, black): neither the clump's colour nor its darkness is that of ink under the skin."""
    spec = varied_specs(48, seed=seed)[index]
    assert site_marks(render_trichogram(spec).rgb, spec.um_per_px) is None


def test_the_dot_lies_under_the_hairs_and_changes_nothing_else() -> None:
    """The generator's dot is part of the skin: the hairs (the truth) and every pixel away
    from it are as without it, so a benchmark image with a dot differs only by the dot."""
    spec = TrichogramSpec(seed=11, site_mark_um=600.0)
    plain = render_trichogram(replace(spec, site_mark_um=0.0))
    dotted = render_trichogram(spec)
    assert dotted.hairs == plain.hairs
    changed = _changed(spec)
    radius_px = 600.0 / 2 / spec.um_per_px
    assert np.pi * (0.8 * radius_px) ** 2 < changed.sum() < np.pi * (1.5 * radius_px) ** 2
    rows, cols = np.nonzero(changed)
    assert rows.max() - rows.min() < 3 * radius_px
    assert cols.max() - cols.min() < 3 * radius_px


def test_the_overlay_outlines_the_dot_and_the_legend_names_it() -> None:
    spec = replace(varied_specs(12, seed=2026)[0], site_mark_um=800.0)
    rgb = render_trichogram(spec).rgb
    result = analyze(rgb, spec.um_per_px)
    drawn = draw_overlay(rgb, result).astype(int)
    without = draw_overlay(rgb, replace(result, site_mark_outlines=())).astype(int)
    changed = np.any(drawn != without, axis=2)
    legend = changed[:250, :600].copy()
    changed[:250, :600] = False
    assert legend.any()  # a line more in the legend
    assert changed.sum() > 200
    near = np.abs(drawn[changed] - np.array(SITE_MARK_BGR)).max(axis=1) <= 40
    assert near.mean() > 0.3
