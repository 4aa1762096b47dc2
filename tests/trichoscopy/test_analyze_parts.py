"""The analyser's array helpers against the straightforward library calls they replace for
speed: each must give the same answer, whatever the input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from follicle.trichoscopy import analyze as analyser
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram


@pytest.mark.parametrize("size", [1, 2, 7, 100, 1001])
def test_quantiles_by_partial_sort_equal_numpy(size: int) -> None:
    values = np.random.default_rng(size).normal(size=size).astype(np.float32)
    qs = (0.0, 0.25, 0.5, 0.75, 0.92, 0.95, 1.0)
    assert analyser._quantiles(values, *qs) == pytest.approx(
        [float(np.quantile(values, q)) for q in qs], rel=1e-6, abs=1e-6
    )


def test_nonzero_by_opencv_equals_numpy_in_the_same_order() -> None:
    image = (np.random.default_rng(1).random((300, 400)) > 0.97).astype(np.uint8)
    rows, cols = analyser._nonzero(image)
    expected_rows, expected_cols = np.nonzero(image)
    assert np.array_equal(rows, expected_rows)
    assert np.array_equal(cols, expected_cols)
    empty_rows, empty_cols = analyser._nonzero(np.zeros((5, 5), dtype=np.uint8))
    assert len(empty_rows) == len(empty_cols) == 0


def test_hysteresis_by_flood_fill_equals_labelling() -> None:
    image = render_trichogram(TrichogramSpec(seed=4, width_px=640, height_px=480)).rgb
    contrast = analyser._contrast(image).hairlike
    low, high = analyser._thresholds(contrast)
    found = analyser._hysteresis(contrast, low, high)
    # 8-connected, as the hairs' shapes are labelled everywhere else
    labels, _ = ndimage.label(contrast > low, structure=np.ones((3, 3)))
    expected = np.isin(labels, np.unique(labels[contrast > high])) & (labels > 0)
    assert expected.sum() > 1000  # hairs were found at all
    assert np.array_equal(found.astype(bool), expected)
    # noise only: nothing reaches the strong threshold
    noise = np.random.default_rng(2).random((50, 60)).astype(np.float32)
    assert not analyser._hysteresis(noise, 0.5, 2.0).any()


def test_profile_widths_measured_together_equal_one_at_a_time() -> None:
    image = render_trichogram(TrichogramSpec(seed=5, width_px=640, height_px=480)).rgb
    views = analyser._contrast(image)
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
    together = analyser._profile_widths(colour, segments, reaches)
    one_at_a_time = [
        analyser._profile_widths(colour, [segment], [reach])[0]
        for segment, reach in zip(segments, reaches, strict=True)
    ]
    assert together == pytest.approx(one_at_a_time, rel=1e-5, abs=1e-6)
    assert np.all(together[[len(s) < 3 for s in segments]] == 0)
