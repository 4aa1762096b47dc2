"""The analyser's array helpers against the straightforward library calls they replace for
speed: each must give the same answer, whatever the input."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from scipy import ndimage

from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.chains import _corner_pieces, _junction_clusters, _nonzero, _walk
from follicle.trichoscopy.hair import Hair, Scale
from follicle.trichoscopy.joins import join_broken
from follicle.trichoscopy.masks import _hysteresis, _wider_than, hysteresis_thresholds, quantiles
from follicle.trichoscopy.sifting import drop_bridges, drop_faint, split_bundles
from follicle.trichoscopy.skin import CLIPPED, skin_contrast
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
from follicle.trichoscopy.units import _flipped, orient
from follicle.trichoscopy.widths import profile_widths


@pytest.mark.parametrize("size", [1, 2, 7, 100, 1001])
def test_quantiles_by_partial_sort_equal_numpy(size: int) -> None:
    values = np.random.default_rng(size).normal(size=size).astype(np.float32)
    qs = (0.0, 0.25, 0.5, 0.75, 0.92, 0.95, 1.0)
    assert quantiles(values, *qs) == pytest.approx(
        [float(np.quantile(values, q)) for q in qs], rel=1e-6, abs=1e-6
    )


def test_nonzero_by_a_flat_scan_equals_numpy_in_the_same_order() -> None:
    image = (np.random.default_rng(1).random((300, 400)) > 0.97).astype(np.uint8)
    rows, cols = _nonzero(image)
    expected_rows, expected_cols = np.nonzero(image)
    assert np.array_equal(rows, expected_rows)
    assert np.array_equal(cols, expected_cols)
    empty_rows, empty_cols = _nonzero(np.zeros((5, 5), dtype=np.uint8))
    assert len(empty_rows) == len(empty_cols) == 0


def test_junction_clusters_looked_up_equal_the_painted_image() -> None:
    """The lookup gives what painting each junction's 5x5 neighbourhood with its cluster on
    an image of the frame's size gave, at the frame's edges too."""
    rng = np.random.default_rng(5)
    height, width = 120, 160
    junctions = np.unique(rng.integers(0, [height, width], size=(90, 2)), axis=0)
    rows, cols = junctions[:, 0], junctions[:, 1]
    points = np.stack(np.nonzero(np.ones((height, width))), axis=1)
    found = _junction_clusters(rows, cols, points)
    from scipy.sparse.csgraph import connected_components

    close = np.abs(junctions[:, None] - junctions[None, :]).max(axis=2) <= 5
    _, cluster = connected_components(close, directed=False)
    painted = np.zeros((height + 4, width + 4), dtype=np.int64)
    for dr in range(-2, 3):
        for dc in range(-2, 3):
            painted[rows + 2 + dr, cols + 2 + dc] = cluster + 1
    expected = painted[2:-2, 2:-2][points[:, 0], points[:, 1]]
    assert (expected > 0).sum() > 1000
    assert len(np.unique(expected)) > 10
    assert np.array_equal(found, expected)


def test_hysteresis_by_flood_fill_equals_labelling() -> None:
    image = render_trichogram(TrichogramSpec(seed=4, width_px=640, height_px=480)).rgb
    contrast = skin_contrast(image).hairlike
    low, high = hysteresis_thresholds(contrast)
    found = _hysteresis(contrast, low, high)
    # 8-connected, as the hairs' shapes are labelled everywhere else
    labels, _ = ndimage.label(contrast > low, structure=np.ones((3, 3)))
    expected = np.isin(labels, np.unique(labels[contrast > high])) & (labels > 0)
    assert expected.sum() > 1000  # hairs were found at all
    assert np.array_equal(found.astype(bool), expected)
    # noise only: nothing reaches the strong threshold
    noise = np.random.default_rng(2).random((50, 60)).astype(np.float32)
    assert not _hysteresis(noise, 0.5, 2.0).any()


def test_profile_widths_measured_together_equal_one_at_a_time() -> None:
    image = render_trichogram(TrichogramSpec(seed=5, width_px=640, height_px=480)).rgb
    views = skin_contrast(image)
    colour = (views.diff, views.gain)
    rng = np.random.default_rng(3)
    segments = []
    for _ in range(40):
        start = rng.uniform([20, 20], [460, 620])
        direction = rng.normal(size=2)
        direction /= np.hypot(*direction)
        steps = np.arange(int(rng.integers(2, 40)))[:, None]
        segments.append(np.rint(start + steps * direction).astype(np.int64).clip(0, 470))
    reaches = rng.uniform(3.0, 30.0, size=40).tolist()
    together = profile_widths(colour, segments, reaches)
    one_at_a_time = [
        profile_widths(colour, [segment], [reach])[0]
        for segment, reach in zip(segments, reaches, strict=True)
    ]
    assert together == pytest.approx(one_at_a_time, rel=1e-5, abs=1e-6)
    assert np.all(together[[len(s) < 3 for s in segments]] == 0)


def _line(start: tuple[int, int], stop: tuple[int, int]) -> np.ndarray:
    """The pixels (row, col) of a straight 8-connected line, in order."""
    steps = max(abs(stop[0] - start[0]), abs(stop[1] - start[1]))
    t = np.linspace(0.0, 1.0, steps + 1)[:, None]
    return np.round(np.array(start) + t * (np.array(stop) - np.array(start))).astype(np.int64)


def test_walk_orders_a_shuffled_bent_path_from_end_to_end() -> None:
    # (an L as thinning leaves it: the corner cut by one diagonal step)
    path = np.concatenate([_line((10, 10), (10, 59)), _line((11, 60), (50, 60))])
    shuffled = path[np.random.default_rng(3).permutation(len(path))]
    walked = _walk(shuffled)
    assert walked is not None
    assert sorted(map(tuple, walked)) == sorted(map(tuple, path))
    assert np.abs(np.diff(walked, axis=0)).max() == 1  # each pixel touches the next
    assert {tuple(walked[0]), tuple(walked[-1])} == {(10, 10), (50, 60)}


def test_a_path_turning_a_corner_is_cut_there_and_a_gentle_curve_is_not() -> None:
    v_shape = np.concatenate([_line((80, 10), (20, 40)), _line((21, 41), (80, 70))])
    pieces = _corner_pieces(v_shape, min_arm_px=20)
    assert len(pieces) == 2
    assert np.abs(pieces[0][-1] - [20, 40]).max() <= 1  # cut at the apex
    t = np.linspace(0.0, 1.0, 200)
    arc = np.stack([100 + 200 * t, 50 + 0.02 * 200 * 4 * t * (1 - t)], axis=1)  # 2 % bend
    arc_pixels = np.unique(np.round(arc).astype(np.int64), axis=0)
    assert len(_corner_pieces(arc_pixels, min_arm_px=20)) == 1


def test_an_arm_shorter_than_a_spur_is_not_cut_off() -> None:
    hooked = np.concatenate([_line((10, 10), (10, 110)), _line((11, 111), (18, 118))])
    assert len(_corner_pieces(hooked, min_arm_px=20)) == 1
    assert len(_corner_pieces(hooked, min_arm_px=5)) == 2


def _segment(x0: float, y0: float, x1: float, y1: float, diameter_um: float = 65.0) -> Hair:
    length_um = 5.0 * float(np.hypot(x1 - x0, y1 - y0))
    return Hair(x0, y0, x1, y1, length_um, diameter_um, True)


def _shaft(diameter_um: float, length_um: float = 600.0, row: float = 100.0) -> Hair:
    return _segment(10.0, row, 10.0 + length_um / 5.0, row, diameter_um)


def test_a_thick_hair_among_miniaturised_ones_is_one_hair() -> None:
    """Where most hairs are vellus, the median of all is a vellus width: a healthy terminal
    hair is about three of them, but is still one hair."""
    hairs = [_shaft(20.0)] * 12 + [_shaft(65.0)] * 6 + [_shaft(95.0)]
    split = split_bundles(hairs, Scale(um_per_px=5.0), (1250, 1600))
    assert len(split) == len(hairs)


def test_touching_terminal_hairs_are_counted_and_a_dot_at_the_frame_is_dropped() -> None:
    hairs = [_shaft(65.0)] * 6 + [_shaft(130.0), _shaft(105.0, length_um=85.0)]
    split = split_bundles(hairs, Scale(um_per_px=5.0), (1250, 1600))
    assert len(split) == 6 + 2
    assert sorted(h.diameter_um for h in split)[-2:] == [65.0, 65.0]


def test_a_yellow_dot_cut_by_the_frame_is_not_read_as_two_hairs() -> None:
    """Its skeleton, extended to the frame, runs a little longer than the dot is wide; away
    from the frame a piece as short is kept (two hairs lying side by side, seen end on)."""
    typical = [_shaft(65.0)] * 6
    at_frame = _segment(0.0, 50.0, 22.0, 51.0, diameter_um=100.0)  # 110 um long, 100 wide
    inside = _segment(300.0, 50.0, 322.0, 51.0, diameter_um=100.0)
    assert split_bundles([*typical, at_frame], Scale(um_per_px=5.0), (1250, 1600)) == typical
    assert len(split_bundles([*typical, inside], Scale(um_per_px=5.0), (1250, 1600))) == 6 + 2


def test_a_short_piece_from_one_shaft_to_another_is_dropped() -> None:
    params = Scale(um_per_px=5.0)
    left, right = _segment(100, 100, 100, 300), _segment(120, 100, 120, 300)
    bridge = _segment(101, 200, 119, 210)  # 21 px = 103 um, both ends on a shaft
    stub = _segment(121, 150, 145, 160)  # as short, one end free
    long_link = _segment(100, 120, 120, 290)  # ends on both, but as long as a hair
    kept = drop_bridges([left, right, bridge, stub, long_link], params)
    assert kept == [left, right, stub, long_link]


def test_a_long_faint_shaft_among_dark_hairs_is_kept_a_short_faint_patch_is_not() -> None:
    """A vellus hair among dark terminal ones stands out a fifth as much as they do: skin
    mottling as faint passes the threshold in small patches, not in long straight lines."""
    contrast = np.zeros((300, 400), dtype=np.float32)
    terminal = []
    for row in range(20, 140, 20):
        contrast[row - 2 : row + 3, 20:380] = 150.0
        terminal.append(_segment(20, row, 380, row))
    contrast[200:202, 20:380] = 30.0  # a fifth of the others, 7.5 of the skin's SDs
    contrast[250:252, 20:60] = 30.0
    long_faint = _segment(20, 200.5, 380, 200.5, diameter_um=15.0)  # 1.8 mm
    short_faint = _segment(20, 250.5, 60, 250.5, diameter_um=15.0)  # 200 um
    assert drop_faint([*terminal, long_faint, short_faint], contrast) == [*terminal, long_faint]


def test_pieces_with_a_wide_gap_are_joined_only_where_a_shaft_shows_across_it() -> None:
    """A hair lying across another cuts it in two; two hairs in line have skin between."""
    params = Scale(um_per_px=5.0)
    first, second = _segment(20, 100, 100, 100), _segment(124, 100, 200, 100)  # 24 px apart
    skin = np.zeros((200, 300), dtype=np.float32)
    crossed = skin.copy()
    crossed[:, 95:130] = 60.0  # the crossing shaft
    assert join_broken([first, second], params, skin) == [first, second]
    (joined,) = join_broken([first, second], params, crossed)
    assert {joined.x_px, joined.end_x_px} == {20.0, 200.0}
    near = _segment(108, 100, 180, 100)  # 8 px (40 um) apart: joined whatever is between
    assert len(join_broken([first, near], params, skin)) == 1


def test_a_disc_as_wide_as_the_widest_hair_fits_in_a_lobed_flake_not_in_a_hair() -> None:
    from follicle.trichoscopy import synth

    canvas = np.zeros((200, 300, 3), dtype=np.float32)
    synth._flake(canvas, np.random.default_rng(3), 80.0, 100.0, 30.0)  # lobed, ~150 um
    flake = (canvas[..., 0] > 60).astype(np.uint8)
    band = np.zeros_like(flake)
    band[90:116, 170:290] = 1  # a shaft 26 px (130 um) wide
    radius = 16  # the analyser's for 150 um at 5 um/px
    found = _wider_than(np.maximum(flake, band), radius)
    assert found[flake > 0].any()
    assert not found[band > 0].any()
    # (a square as wide fits in neither: its corners reach between the lobes)
    square = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    assert not cv2.morphologyEx(flake, cv2.MORPH_OPEN, square).any()


def _grown(x: float, y: float, dx: float, dy: float) -> Hair:
    """A hair leaving the skin at (x, y) and growing by (dx, dy) pixels."""
    return Hair(x, y, x + dx, y + dy, 5.0 * float(np.hypot(dx, dy)), 60.0, True)


def test_a_hair_alone_takes_the_way_its_neighbours_grow_as_its_exit() -> None:
    units = [  # pairs of hairs leaving the skin together, growing to the right
        hair
        for x, y in ((100, 100), (120, 260), (300, 150), (260, 320))
        for hair in (_grown(x, y, 90, -12), _grown(x + 2, y + 2, 90, 12))
    ]
    alone = _grown(200, 200, 100, 5)
    backwards = _flipped(alone)  # as a skeleton may give it: cut end first
    far = _flipped(_grown(1500, 1500, 100, 5))  # beyond any neighbour's stream
    oriented = orient([*units, backwards, far], unit_px=24.0, stream_px=300.0)
    assert oriented[: len(units)] == units  # the units' ends converge at their exits
    assert oriented[-2] == alone
    assert oriented[-1] == far  # nothing to tell by: left as found


def test_neighbours_growing_every_way_leave_a_unit_its_own_exit() -> None:
    """Around a whorl the stream has no one direction; a unit's converging ends decide."""
    whorl = [
        _grown(400 + 150 * math.cos(a), 400 + 150 * math.sin(a), 80 * math.cos(a), 80 * math.sin(a))
        for a in np.linspace(0, 2 * math.pi, 8, endpoint=False)
    ]
    unit = [_grown(400, 400, -90, -10), _grown(402, 402, -90, 10)]
    oriented = orient([*whorl, *unit], unit_px=24.0, stream_px=300.0)
    assert oriented[-2:] == unit


def test_most_hairs_are_found_with_their_exit_at_the_right_end() -> None:
    """The exit places follicular units and decides which hairs a visit comparison counts;
    a hair alone used to get either end (about half right)."""
    image = render_trichogram(TrichogramSpec(seed=12, density_per_cm2=200))
    result = analyze(image.rgb, image.spec.um_per_px)
    right = wrong = 0
    for true in image.counted_hairs:
        found = min(
            result.hairs,
            key=lambda h: math.hypot(
                (h.x_px + h.end_x_px) / 2 - (true.exit_x + true.end_x) / 2,
                (h.y_px + h.end_y_px) / 2 - (true.exit_y + true.end_y) / 2,
            ),
        )
        to_exit = math.hypot(found.x_px - true.exit_x, found.y_px - true.exit_y)
        to_end = math.hypot(found.end_x_px - true.exit_x, found.end_y_px - true.exit_y)
        if math.hypot(found.x_px - true.end_x, found.y_px - true.end_y) < 2 * math.hypot(
            true.end_x - true.exit_x, true.end_y - true.exit_y
        ):
            right, wrong = right + (to_exit < to_end), wrong + (to_exit >= to_end)
    assert right + wrong > 0.8 * len(image.counted_hairs)
    assert right >= 0.85 * (right + wrong)


def _light_skin_with_a_paler_patch(base_rgb: tuple[float, float, float]) -> np.ndarray:
    rng = np.random.default_rng(0)
    mottle = cv2.GaussianBlur(rng.normal(0, 1, (300, 400)).astype(np.float32), (0, 0), 6)
    skin = np.array(base_rgb) * (1 + 0.03 * (mottle / mottle.std())[..., None])
    skin[120:150, 100:300] *= 1.06  # a paler patch of skin, 1 mm long
    skin += rng.normal(0, 2.0, skin.shape)
    return np.clip(skin + 0.5, 0, 255).astype(np.uint8)


def test_paler_skin_reads_the_same_where_the_camera_clipped_the_red_channel() -> None:
    """Light skin in a bright image: red at 255 over the patch, so only green and blue show it
    paler. Judged on all three channels it was off the skin's colour spread: two "hairs", at
    twice the contrast of the same patch where nothing is clipped (now about 1.5 times)."""
    clipped = _light_skin_with_a_paler_patch((246.0, 206.0, 176.0))
    unclipped = _light_skin_with_a_paler_patch((200.0, 167.0, 143.0))
    assert (clipped[120:150, 100:300, 0] >= CLIPPED).mean() > 0.9
    assert (unclipped >= CLIPPED).sum() == 0

    def patch_contrast(rgb: np.ndarray) -> float:
        return float(np.median(skin_contrast(rgb).hairlike[125:145, 110:290]))

    assert patch_contrast(clipped) <= 1.6 * patch_contrast(unclipped)
    assert analyze(clipped, 5.0).hair_count == 0
