"""The analyser against ground truth, and on the inputs that should be refused or empty."""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import cv2
import numpy as np
import numpy.typing as npt
import pytest

import follicle.trichoscopy.analyze as analyze_module
import follicle.trichoscopy.masks as masks_module
from follicle.trichoscopy.analyze import AnalysisError, analyze
from follicle.trichoscopy.hair import MIN_COUNTED_SHAFT_UM
from follicle.trichoscopy.quality import FAINT_HAIR_RATIO
from follicle.trichoscopy.synth import (
    HAIR_RGB,
    PlannedHair,
    Trichogram,
    TrichogramSpec,
    View,
    render_trichogram,
    render_view,
    varied_specs,
)

SPARSE = {
    "width_px": 800,
    "height_px": 600,
    "density_per_cm2": 70,
    "follicular_unit_sizes": (1.0, 0.0, 0.0, 0.0),
    "dandruff_flakes": 0,
}


CASES = [
    (1, "black"),
    (2, "brown"),
    (3, "dyed_red"),
    (4, "grey"),
    (5, "blond"),
    (6, "black"),
    (6, "grey"),
    (2, "dyed_red"),
]


def _sparse(fitzpatrick: int, colour: str) -> Trichogram:
    return render_trichogram(
        TrichogramSpec(
            seed=40 + fitzpatrick,
            fitzpatrick=fitzpatrick,
            hair_colour=colour,
            vellus_fraction=0.0,
            **SPARSE,
        )
    )


@pytest.mark.parametrize(("fitzpatrick", "colour"), CASES)
def test_separate_hairs_are_found_and_measured_on_every_skin_and_colour(
    fitzpatrick: int, colour: str
) -> None:
    """A floor for every skin type and hair colour; the accuracy targets (count error <= 5 %,
    diameter error <= 5 um) are measured by `make bench`, which publishes where they are
    not met yet."""
    image = _sparse(fitzpatrick, colour)
    result = analyze(image.rgb, um_per_px=5.0)
    truth = image.counted_hairs
    assert 0.7 * len(truth) <= result.hair_count <= 2.2 * len(truth)
    true_mean = float(np.mean([h.diameter_um for h in truth]))
    assert result.mean_diameter_um is not None
    assert abs(result.mean_diameter_um - true_mean) <= 15
    assert result.terminal_count >= 0.8 * result.hair_count  # all true hairs are terminal


def test_pooled_count_over_skin_types_and_colours() -> None:
    truth = found = 0
    for fitzpatrick, colour in CASES:
        image = _sparse(fitzpatrick, colour)
        truth += len(image.counted_hairs)
        found += analyze(image.rgb, um_per_px=5.0).hair_count
    assert abs(found - truth) <= 0.4 * truth


@pytest.mark.xfail(
    strict=True,
    reason="known weakness: 2 of 8 scenes are off by one (a short piece of skin texture "
    "counts; a hair that starts on another's shaft is joined to it); see docs/trichoscopy.md",
)
def test_separate_hairs_are_counted_exactly() -> None:
    for fitzpatrick, colour in CASES:
        image = _sparse(fitzpatrick, colour)
        assert analyze(image.rgb, um_per_px=5.0).hair_count == len(image.counted_hairs)


@pytest.mark.xfail(
    strict=True,
    reason="known weakness: a fan of five or six hairs from one opening, crossing one another "
    "over a flake, gives pieces of the crossings counted as hairs (20 found, 14 true); see "
    "docs/trichoscopy.md",
)
def test_a_fan_of_crossing_hairs_over_a_flake_is_counted_within_a_fifth() -> None:
    """The analyser's docstring example until session 9 (a 600 x 450 scene)."""
    image = render_trichogram(TrichogramSpec(seed=3, width_px=600, height_px=450))
    result = analyze(image.rgb, um_per_px=5.0)
    assert abs(result.hair_count - len(image.counted_hairs)) <= 0.2 * len(image.counted_hairs)


def test_vellus_hairs_are_told_from_terminal_ones() -> None:
    thin = render_trichogram(
        TrichogramSpec(seed=7, vellus_fraction=1.0, vellus_diameter_um=(15.0, 22.0), **SPARSE)
    )
    thick = render_trichogram(
        TrichogramSpec(seed=7, vellus_fraction=0.0, terminal_diameter_um=(75.0, 5.0), **SPARSE)
    )
    thin_result, thick_result = analyze(thin.rgb, 5.0), analyze(thick.rgb, 5.0)
    assert thin_result.vellus_count > thin_result.terminal_count
    assert thick_result.terminal_count > 0.9 * thick_result.hair_count
    assert thin_result.mean_diameter_um is not None
    assert thin_result.mean_diameter_um < 30
    # (measured on the blurred image they read about 6 um too wide)
    true_mean = sum(h.diameter_um for h in thin.counted_hairs) / len(thin.counted_hairs)
    assert thin_result.mean_diameter_um == pytest.approx(true_mean, abs=5.0)


def test_the_terminal_threshold_is_configurable() -> None:
    image = render_trichogram(TrichogramSpec(seed=8, vellus_fraction=0.4, **SPARSE))
    at_30 = analyze(image.rgb, 5.0, vellus_threshold_um=30)
    at_40 = analyze(image.rgb, 5.0, vellus_threshold_um=40)
    assert at_40.vellus_count >= at_30.vellus_count
    assert at_40.hair_count == at_30.hair_count
    assert at_40.as_contract("x.png")["vellus_threshold_um"] == 40


def test_density_follows_from_count_and_area() -> None:
    image = render_trichogram(TrichogramSpec(seed=9, **SPARSE))
    result = analyze(image.rgb, 5.0)
    contract = result.as_contract("a.png")
    assert contract["area_cm2"] == pytest.approx(800 * 600 * (5e-4) ** 2, rel=1e-3)
    assert contract["density_per_cm2"] == pytest.approx(
        contract["hair_count"] / contract["area_cm2"], rel=1e-2
    )
    assert sum(int(k) * v for k, v in contract["follicular_units"].items()) >= (
        contract["hair_count"] * 0.9
    )


def test_an_empty_image_has_no_hairs() -> None:
    blank = np.full((400, 600, 3), 200, dtype=np.uint8)
    result = analyze(blank, 5.0)
    assert result.hair_count == 0
    assert result.mean_diameter_um is None
    assert result.as_contract("blank.png")["diameter_cv"] is None


def test_bare_skin_with_texture_erythema_and_dots_has_few_false_hairs() -> None:
    skin = render_trichogram(
        TrichogramSpec(
            seed=5,
            density_per_cm2=0,
            dandruff_flakes=0,
            yellow_dots=20,
            erythema=0.6,
            width_px=800,
            height_px=600,
        )
    )
    assert analyze(skin.rgb, 5.0).hair_count <= 3


def test_dandruff_flakes_are_not_hairs() -> None:
    """Over twelve scenes on light and dark skin, so that one lucky scene does not pass for a
    fix. (Lobed flakes that a square as wide as the widest hair does not fit in gave 22 false
    hairs: a disc finds them.)"""
    false_hairs = 0
    for fitzpatrick in (2, 6):
        for seed in range(1, 7):
            skin = render_trichogram(
                TrichogramSpec(
                    seed=seed,
                    fitzpatrick=fitzpatrick,
                    density_per_cm2=0,
                    dandruff_flakes=10,
                    width_px=800,
                    height_px=600,
                )
            )
            false_hairs += analyze(skin.rgb, 5.0).hair_count
    assert false_hairs <= 12  # at most one a scene of ten flakes


@pytest.mark.parametrize("scale", [0.0, -5.0, 0.01, 500.0, float("nan")])
def test_an_implausible_scale_is_refused(scale: float) -> None:
    with pytest.raises(AnalysisError, match="um_per_px"):
        analyze(np.zeros((100, 100, 3), dtype=np.uint8), scale)


def test_a_100_megapixel_image_is_refused_without_decoding_it() -> None:
    huge = np.broadcast_to(np.zeros((1, 1, 3), dtype=np.uint8), (10_000, 10_000, 3))
    with pytest.raises(AnalysisError, match="100 megapixels"):
        analyze(huge, 5.0)


def test_non_rgb_input_is_refused() -> None:
    with pytest.raises(AnalysisError, match="RGB"):
        analyze(np.zeros((100, 100), dtype=np.uint8), 5.0)


BARE = TrichogramSpec(
    seed=3, width_px=400, height_px=300, density_per_cm2=0, dandruff_flakes=0, yellow_dots=0
)


def _hair(
    number: int, x: float, y: float, angle_deg: float, length_px: float, unit: int, first: bool
) -> PlannedHair:
    return PlannedHair(
        id=number,
        exit_x=x,
        exit_y=y,
        angle=math.radians(angle_deg),
        length_px=length_px,
        bend=0.0,
        diameter_um=65.0,
        colour=(28.0, 24.0, 24.0),
        taper=0.6,
        follicular_unit=unit,
        first_in_unit=first,
    )


def test_two_hairs_leaving_one_opening_are_two_hairs() -> None:
    """They touch where they leave the skin and part at 20 degrees: one Y-shaped outline."""
    hairs = [_hair(0, 100, 150, 0, 150, 0, True), _hair(1, 100, 153, 20, 140, 0, False)]
    image = render_view(BARE, hairs, View(seed=1))
    result = analyze(image.rgb, 5.0)
    assert result.hair_count == 2
    assert result.follicular_units["2"] == 1


@pytest.mark.parametrize("angle_deg", [60, 90, 120])
def test_two_hairs_leaving_one_opening_wide_apart_are_two_hairs(angle_deg: float) -> None:
    """A V: the outlines meet only at the opening, so the skeleton turns a corner there
    without a junction (read as one straight hair, it would run across skin and be lost)."""
    hairs = [_hair(0, 100, 150, 0, 150, 0, True), _hair(1, 100, 150, angle_deg, 140, 0, False)]
    image = render_view(BARE, hairs, View(seed=1))
    assert analyze(image.rgb, 5.0).hair_count == 2


@pytest.mark.parametrize("angle_deg", [60, 90])
def test_a_hair_leaving_the_skin_at_another_ones_cut_end_is_a_hair_of_its_own(
    angle_deg: float,
) -> None:
    first = _hair(0, 60, 150, 0, 150, 0, True)
    angle = math.radians(angle_deg)
    exit_x, exit_y = 210 + 8 * math.cos(angle), 150 + 8 * math.sin(angle)
    second = _hair(1, exit_x, exit_y, angle_deg, 120, 1, True)
    image = render_view(BARE, [first, second], View(seed=1))
    assert analyze(image.rgb, 5.0).hair_count == 2


@pytest.mark.parametrize("angles_deg", [(0, 6, 12, 18), (0, 8, 16)])
def test_grey_hairs_piled_on_dark_skin_are_not_taken_for_a_flake(
    angles_deg: tuple[float, ...],
) -> None:
    """Where they overlap they make a pale, whitish blob wider than any hair, as a flake does
    (all were lost)."""
    hairs = [
        replace(_hair(k, 80, 150 + 3 * k, angle, 170, 0, k == 0), colour=HAIR_RGB["grey"])
        for k, angle in enumerate(angles_deg)
    ]
    image = render_view(replace(BARE, fitzpatrick=6), hairs, View(seed=1))
    assert analyze(image.rgb, 5.0).hair_count == len(hairs)


def test_grey_hair_piled_against_a_flake_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmark scene 2027020 (dense grey hair on type III skin, with flakes): where a
    unit's grey hairs lie against a flake they make one pale blob with it, amorphous as a
    whole by the flake's lobes, and were left out with it (187 of 206 counted)."""
    image = render_trichogram(varied_specs(48, seed=2027)[20])
    truth = len(image.counted_hairs)
    assert analyze(image.rgb, 5.0).hair_count >= 0.95 * truth
    monkeypatch.setattr(masks_module, "PALE_HAIR_SHARE", 1.1)  # (no hair taken as pale)
    assert analyze(image.rgb, 5.0).hair_count < 0.92 * truth


def test_on_dark_hair_a_flakes_straight_edge_is_not_kept_as_hair(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Benchmark scene 2028026 (black hair on type III skin, with flakes): a straight stretch
    of a flake's edge runs one way as a shaft does; kept there, it was counted as hair."""
    image = render_trichogram(varied_specs(48, seed=2028)[26])
    truth = len(image.counted_hairs)
    counted = analyze(image.rgb, 5.0).hair_count
    monkeypatch.setattr(masks_module, "PALE_HAIR_SHARE", 0.0)  # (every hair taken as pale)
    assert analyze(image.rgb, 5.0).hair_count - truth > abs(counted - truth) + 2


def test_a_hair_cut_by_the_frame_is_counted_with_its_length_in_the_frame() -> None:
    """Only about 90 um of it is in the frame (the contract counts from 50 um)."""
    image = render_view(BARE, [_hair(0, -100, 150, 0, 118, 0, True)], View(seed=1))
    (truth,) = image.counted_hairs
    result = analyze(image.rgb, 5.0)
    assert result.hair_count == 1
    assert result.hairs[0].length_um == pytest.approx(truth.in_frame_length_um, abs=30)


def _blond(seed: int, fitzpatrick: int, density_per_cm2: float, flakes: int) -> Trichogram:
    return render_trichogram(
        TrichogramSpec(
            seed=seed,
            fitzpatrick=fitzpatrick,
            hair_colour="blond",
            width_px=800,
            height_px=600,
            density_per_cm2=density_per_cm2,
            dandruff_flakes=flakes,
        )
    )


def test_blond_hair_on_light_brown_skin_is_found() -> None:
    """Blond hair differs from type III skin mostly in colour, hardly in brightness."""
    image = _blond(53, fitzpatrick=3, density_per_cm2=150, flakes=0)
    result = analyze(image.rgb, 5.0)
    assert result.hair_count >= 0.75 * len(image.counted_hairs)


@pytest.mark.parametrize("light", [0.6, 0.4])
def test_a_scalp_taken_darker_reads_as_it_does_in_full_light(light: float) -> None:
    """A dim dermoscope or a short exposure scales every channel down; the skin's own
    variation shrinks with it, so judging it against a fixed floor lost pale hair (blond on
    type III skin: 44 % of it at 40 % of the light, before session 15)."""
    truth = full = dim = 0
    for seed in (53, 54, 55, 56):
        image = _blond(seed, fitzpatrick=3, density_per_cm2=200, flakes=2)
        darker = cv2.convertScaleAbs(image.rgb, alpha=light)
        truth += len(image.counted_hairs)
        full += analyze(image.rgb, 5.0).hair_count
        dim += analyze(darker, 5.0).hair_count
    assert abs(dim - full) <= 0.08 * truth
    assert abs(dim - truth) <= 0.12 * truth


def test_dense_blond_hair_on_the_darkest_skin_is_not_taken_for_dandruff() -> None:
    """Piled blond hair is paler than type VI skin, as dandruff is, but not whitish."""
    truth = found = 0
    for seed in (61, 62, 63):
        image = _blond(seed, fitzpatrick=6, density_per_cm2=250, flakes=4)
        truth += len(image.counted_hairs)
        found += analyze(image.rgb, 5.0).hair_count
    assert abs(found - truth) <= 0.15 * truth


@pytest.mark.parametrize("fitzpatrick", [2, 4])
def test_dark_hairs_lying_on_a_flake_are_counted_whole(fitzpatrick: int) -> None:
    """The flake and the hairs on it make one pale blob wider than any hair; the hairs'
    stretches across it were taken away with the flake (each hair was found as two pieces,
    one either side)."""
    from follicle.trichoscopy import synth

    spec = replace(BARE, fitzpatrick=fitzpatrick, width_px=480, height_px=360)
    rng = np.random.default_rng(fitzpatrick)
    canvas = synth._skin(spec, rng)
    synth._flake(canvas, rng, 250.0, 187.0, 50.0)  # about 500 um across
    lengths_px = (230.0, 210.0)
    for (x, y, angle_deg), length in zip(
        ((140, 170, -12), (150, 205, 12)), lengths_px, strict=True
    ):
        angle = math.radians(angle_deg)
        points = np.array(
            [[x, y], [x + length * math.cos(angle), y + length * math.sin(angle)]], dtype=float
        )
        synth._draw_hair(canvas, points, 13.0, HAIR_RGB["black"], taper=0.6)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 0.8) + rng.normal(0, 3.0, canvas.shape)
    rgb = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    result = analyze(rgb, 5.0)
    assert result.hair_count == 2
    assert sorted(h.length_um for h in result.hairs) == pytest.approx(
        sorted(5.0 * length for length in lengths_px), rel=0.15
    )


@functools.cache
def _dense_grey_field() -> tuple[npt.NDArray[np.uint8], int]:
    """A 4 x 3 mm field (800 x 600 px) from the middle of benchmark scalp 2026047 (dense grey
    hair on type VI skin) and its true count: the hairs with 50 um or more of shaft in it."""
    image = render_trichogram(varied_specs(48, seed=2026)[47])
    left, top, width, height = 400, 325, 800, 600
    box = (left, top, width, height)
    truth = sum(h.length_within_um(box, 5.0) >= MIN_COUNTED_SHAFT_UM for h in image.hairs)
    field = np.ascontiguousarray(image.rgb[top : top + height, left : left + width])
    return field, truth


def test_a_dense_grey_small_field_is_counted_within_a_sixth() -> None:
    """Pale hair covering much of a small field: two rounds of the skin's estimate took much
    of it for skin (35 of 70 found, warned of as faint); the second look counts it."""
    field, truth = _dense_grey_field()
    result = analyze(field, um_per_px=5.0)
    assert abs(result.hair_count - truth) <= truth / 6
    assert result.terminal_contrast_ratio is not None
    assert result.terminal_contrast_ratio >= FAINT_HAIR_RATIO


def test_without_the_second_look_the_dense_grey_field_reads_half_and_is_warned_of(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(analyze_module, "FAINT_HAIR_RATIO", 0.0)  # (no image is faint)
    field, truth = _dense_grey_field()
    result = analyze(field, um_per_px=5.0)
    assert result.hair_count < 0.6 * truth
    assert result.terminal_contrast_ratio is not None
    assert result.terminal_contrast_ratio < FAINT_HAIR_RATIO
