"""Change at a scalp site from baseline to follow-up, with an interval, and the plan review.

Several images of the marked site at a visit measure the measurement's own noise: the spread
of their values around the visit's mean. That spread, pooled over every visit of the site (the
analyser's noise does not depend on the visit), gives a Student *t* interval for the change
between the baseline and the latest visit:

    change ± t(1 - α/2; Σ(nᵢ - 1)) · s_pooled · √(1/n_baseline + 1/n_latest)

A change whose interval includes zero is reported as *no detectable change*, never as a gain.
With one image per visit and no repeats anywhere the noise is unknown and no interval is given.
The responder rule (project-defined, in the evidence catalogue) then asks for a gain in
density that is both detectable and at least a set share of baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from follicle.clinic.catalogue import ResponderRule


@cache
def _t_quantile(probability: float, df: float) -> float:
    """Student's t quantile. scipy.stats loads on first use: it costs two seconds at start-up
    and the web server needs it only when a follow-up is shown."""
    from scipy import stats

    return float(stats.t.ppf(probability, df))


METHOD = "pooled t-interval (repeat images at each visit estimate the noise)"
#: Measures compared at a site: (key, label, unit).
METRICS = (
    ("hair_count", "Hairs in the image", "{count}"),
    ("density_per_cm2", "Density", "/cm2"),
    ("terminal_density_per_cm2", "Terminal density", "/cm2"),
    ("mean_diameter_um", "Mean diameter", "um"),
    ("vellus_share", "Vellus share", "1"),
)


@dataclass(frozen=True)
class Visit:
    """One day's images of one site: each metric's value per image."""

    day: date
    values: dict[str, list[float]]


@dataclass(frozen=True)
class Change:
    metric: str
    baseline_mean: float
    latest_mean: float
    change: float
    low: float | None
    high: float | None
    noise_sd: float | None  # spread of repeat images at a visit
    images: tuple[int, int]  # at baseline, at the latest visit
    verdict: str  # increase, decrease, no_detectable_change, unknown

    @property
    def change_pct(self) -> float | None:
        if not self.baseline_mean:
            return None
        return 100.0 * self.change / self.baseline_mean

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "baseline_mean": round(self.baseline_mean, 3),
            "latest_mean": round(self.latest_mean, 3),
            "change": round(self.change, 3),
            "change_pct": None if self.change_pct is None else round(self.change_pct, 1),
            "low": None if self.low is None else round(self.low, 3),
            "high": None if self.high is None else round(self.high, 3),
            "noise_sd": None if self.noise_sd is None else round(self.noise_sd, 3),
            "images": list(self.images),
            "verdict": self.verdict,
        }


def pooled_sd(samples: Sequence[Sequence[float]]) -> tuple[float, int] | None:
    """The within-visit standard deviation pooled over visits, and its degrees of freedom.

    >>> pooled_sd([[10, 12], [20, 22, 24]])
    (1.8257418583505538, 3)
    >>> pooled_sd([[10], [20]]) is None
    True
    """
    squares, df = 0.0, 0
    for values in samples:
        if len(values) < 2:
            continue
        mean = sum(values) / len(values)
        squares += sum((v - mean) ** 2 for v in values)
        df += len(values) - 1
    if df == 0:
        return None
    return math.sqrt(squares / df), df


def site_change(visits: Sequence[Visit], metric: str, confidence: float = 0.95) -> Change | None:
    """Baseline (first visit) to latest visit for one metric; None with fewer than two visits.

    >>> v = [Visit(date(2026, 1, 5), {"d": [150, 154, 146]}),
    ...      Visit(date(2026, 4, 5), {"d": [170, 166, 174]})]
    >>> c = site_change(v, "d")
    >>> c.change, c.verdict, round(c.low, 1), round(c.high, 1)
    (20.0, 'increase', 10.9, 29.1)
    """
    present = [v for v in visits if v.values.get(metric)]
    if len(present) < 2:
        return None
    first, last = present[0].values[metric], present[-1].values[metric]
    before, after = sum(first) / len(first), sum(last) / len(last)
    difference = after - before
    noise = pooled_sd([v.values[metric] for v in present])
    low = high = None
    verdict = "unknown"
    if noise is not None:
        sd, df = noise
        quantile = _t_quantile(0.5 + confidence / 2, df)
        half = quantile * sd * math.sqrt(1 / len(first) + 1 / len(last))
        low, high = difference - half, difference + half
        verdict = "increase" if low > 0 else "decrease" if high < 0 else "no_detectable_change"
    return Change(
        metric,
        before,
        after,
        difference,
        low,
        high,
        noise[0] if noise else None,
        (len(first), len(last)),
        verdict,
    )


@dataclass(frozen=True)
class Response:
    responder: bool | None  # None: cannot tell (no noise estimate, or nothing measured)
    reason: str


def responder(change: Change | None, rule: ResponderRule) -> Response:
    """The catalogue's responder rule applied to the density change at a site."""
    if change is None:
        return Response(None, "the site was measured at fewer than two visits")
    if change.verdict == "unknown":
        return Response(
            None,
            "one image per visit cannot separate a change from measurement noise: take at "
            "least two images of the marked site at each visit",
        )
    pct = change.change_pct
    interval = f"{change.low:+.1f} to {change.high:+.1f}"
    if change.verdict == "increase" and pct is not None and pct >= rule.min_density_gain_pct:
        return Response(
            True,
            f"density up {pct:.0f} % (95 % interval {interval} per cm²), at least the "
            f"{rule.min_density_gain_pct:g} % the responder rule asks",
        )
    if change.verdict == "increase":
        return Response(
            False,
            f"density up {pct:.0f} % (interval {interval}): detectable but below the "
            f"{rule.min_density_gain_pct:g} % the responder rule asks",
        )
    if change.verdict == "decrease":
        return Response(False, f"density fell (interval {interval} per cm²)")
    return Response(False, f"no detectable change in density (interval {interval} per cm²)")


@dataclass(frozen=True)
class ReviewSuggestion:
    action: str  # continue, adjust, stop, measure_again
    reasons: list[str] = field(default_factory=list)


def review_suggestion(
    response: Response,
    density: Change | None,
    sessions_done: int,
    sessions_planned: int,
    open_serious_events: int,
) -> ReviewSuggestion:
    """What the plan's review might decide, with its reasons; the clinician decides.

    >>> review_suggestion(Response(None, "no repeats"), None, 3, 6, 1).action
    'stop'
    """
    if open_serious_events:
        return ReviewSuggestion(
            "stop",
            [
                f"{open_serious_events} serious adverse event(s) open: no more sessions until a "
                "clinician has reviewed and cleared them"
            ],
        )
    if density is not None and density.verdict == "decrease":
        return ReviewSuggestion(
            "stop",
            [
                response.reason,
                "density fell by more than the measurement noise: review the "
                "diagnosis (shedding, another cause of loss) before more sessions",
            ],
        )
    if response.responder is None:
        return ReviewSuggestion("measure_again", [response.reason])
    course = f"{sessions_done} of {sessions_planned} planned sessions done"
    if response.responder:
        return ReviewSuggestion(
            "continue",
            [
                response.reason,
                course
                + (
                    "; consider maintenance sessions within the plan's bounds"
                    if sessions_done >= sessions_planned
                    else ""
                ),
            ],
        )
    if sessions_done < sessions_planned:
        return ReviewSuggestion(
            "continue",
            [response.reason, course + ": results usually need the whole course"],
        )
    return ReviewSuggestion(
        "adjust",
        [
            response.reason,
            course + ": consider another depth or interval within the clinic's "
            "bounds, adding or changing topicals, or stopping",
        ],
    )


def visit_means(
    visits: Sequence[Visit], metric: str, confidence: float = 0.95
) -> list[tuple[date, float, float | None, float | None]]:
    """Each visit's mean with its interval (the site's pooled repeat noise), for plotting.

    >>> rows = visit_means([Visit(date(2026, 1, 5), {"d": [150, 154, 146]}),
    ...                     Visit(date(2026, 4, 5), {"d": [170]})], "d")
    >>> [(round(m), round(lo, 1), round(hi, 1)) for _, m, lo, hi in rows]
    [(150, 140.1, 159.9), (170, 152.8, 187.2)]
    """
    present = [v for v in visits if v.values.get(metric)]
    noise = pooled_sd([v.values[metric] for v in present])
    rows: list[tuple[date, float, float | None, float | None]] = []
    for visit in present:
        values = visit.values[metric]
        mean = sum(values) / len(values)
        if noise is None:
            rows.append((visit.day, mean, None, None))
            continue
        sd, df = noise
        half = _t_quantile(0.5 + confidence / 2, df) * sd / math.sqrt(len(values))
        rows.append((visit.day, mean, mean - half, mean + half))
    return rows
