"""Follow-up statistics on synthetic series with a known true change (issue: documents, "A
statistics test … shows the interval covers it at about the stated rate")."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.progress import (
    Visit,
    responder,
    review_suggestion,
    site_change,
)

RULE = load_catalogue().responder


def _series(
    rng: np.random.Generator, true_change: float, images: int, noise_sd: float, visits: int = 2
) -> list[Visit]:
    base = 150.0
    days = [date(2026, 1, 5) + timedelta(days=84 * k) for k in range(visits)]
    trend = np.linspace(0, true_change, visits)
    return [
        Visit(day, {"density_per_cm2": list(base + shift + rng.normal(0, noise_sd, images))})
        for day, shift in zip(days, trend, strict=True)
    ]


@pytest.mark.parametrize(("images", "visits"), [(2, 2), (3, 2), (3, 4), (5, 3)])
def test_the_95_percent_interval_covers_the_true_change_about_95_percent_of_the_time(
    images: int, visits: int
) -> None:
    rng = np.random.default_rng(20261126 + images * 10 + visits)
    runs, true_change = 4000, 12.0
    covered = 0
    for _ in range(runs):
        change = site_change(_series(rng, true_change, images, 9.0, visits), "density_per_cm2")
        assert change is not None
        assert change.low is not None
        assert change.high is not None
        covered += change.low <= true_change <= change.high
    rate = covered / runs
    # 4000 runs: the binomial standard error at 95 % is 0.34 %; allow about three of them.
    assert 0.94 <= rate <= 0.96, rate


def test_a_change_inside_the_noise_is_no_detectable_change_not_a_gain() -> None:
    rng = np.random.default_rng(3)
    verdicts = [
        site_change(_series(rng, 0.0, 3, 9.0), "density_per_cm2").verdict  # type: ignore[union-attr]
        for _ in range(1000)
    ]
    # With no true change, "increase" is a false alarm: about 2.5 % (one tail of 95 %).
    assert verdicts.count("increase") / len(verdicts) < 0.045
    assert verdicts.count("no_detectable_change") / len(verdicts) > 0.92


def test_one_image_per_visit_gives_no_interval_and_asks_for_repeats() -> None:
    rng = np.random.default_rng(4)
    change = site_change(_series(rng, 30.0, 1, 9.0), "density_per_cm2")
    assert change is not None
    assert (change.verdict, change.low, change.high) == ("unknown", None, None)
    answer = responder(change, RULE)
    assert answer.responder is None
    assert "at least two images" in answer.reason
    assert review_suggestion(answer, change, 6, 6, 0).action == "measure_again"


def test_responder_rule_and_review_suggestions() -> None:
    visits = [
        Visit(date(2026, 1, 5), {"density_per_cm2": [150.0, 152.0, 148.0]}),
        Visit(date(2026, 4, 5), {"density_per_cm2": [172.0, 170.0, 174.0]}),
    ]
    gain = site_change(visits, "density_per_cm2")
    answer = responder(gain, RULE)
    assert answer.responder is True
    assert "up 15 %" in answer.reason
    assert review_suggestion(answer, gain, 6, 6, 0).action == "continue"
    assert review_suggestion(answer, gain, 6, 6, 1).action == "stop"  # a serious event open

    small = [
        Visit(date(2026, 1, 5), {"density_per_cm2": [150.0, 151.0, 149.0]}),
        Visit(date(2026, 4, 5), {"density_per_cm2": [157.0, 158.0, 156.0]}),
    ]
    detectable_but_small = site_change(small, "density_per_cm2")
    assert detectable_but_small is not None
    assert detectable_but_small.verdict == "increase"
    below = responder(detectable_but_small, RULE)
    assert below.responder is False
    assert "below the 10 %" in below.reason
    assert review_suggestion(below, detectable_but_small, 3, 6, 0).action == "continue"
    assert review_suggestion(below, detectable_but_small, 6, 6, 0).action == "adjust"

    loss = [
        Visit(date(2026, 1, 5), {"density_per_cm2": [150.0, 152.0, 148.0]}),
        Visit(date(2026, 4, 5), {"density_per_cm2": [120.0, 121.0, 119.0]}),
    ]
    fell = site_change(loss, "density_per_cm2")
    assert review_suggestion(responder(fell, RULE), fell, 4, 6, 0).action == "stop"
