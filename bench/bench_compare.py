"""Visit-to-visit change benchmark: synthetic baseline/follow-up pairs of one marked site with a
known number of hairs lost, gained and thinned, a shift, a rotation and a change of light.

Error of the measured change in count = |measured - true| / baseline count in the common
field (target <= 2 %). The naive method (difference of two independent counts) is reported
beside it. Four sets of pairs are scored by default, each on its own and together: a change
tuned while looking at one set shows whether it holds on the others (a site of 20-40 hairs is
off by 2.5-5 % for one hair wrong, so the mean of few pairs is noisy). Writes
bench/results/compare.json and .md.

    python bench/bench_compare.py [--pairs 24] [--seeds 77 78 79 80]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import cv2
from results_files import metric_table, record

from follicle.trichoscopy.compare import compare
from follicle.trichoscopy.synth import render_visit_pair, varied_specs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--seeds", type=int, nargs="+", default=[77, 78, 79, 80])
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rows = []
    for seed in args.seeds:
        rows += _score_pairs(args.pairs, seed)
    sets = [(f"seed {seed}", [r for r in rows if r["seed"] == seed]) for seed in args.seeds]
    if len(sets) > 1:
        sets.append(("all", rows))
    summaries = {name: _summary(group) for name, group in sets}
    text = metric_table(summaries)
    print(text)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "summary": summaries,
        "pairs": rows,
    }
    record(
        "compare",
        report,
        f"# Visit comparison benchmark\n\n{report['when']} on "
        f"{report['machine']['platform']}.\n\n{text}\n",
    )
    return 0


def _score_pairs(count: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for i, spec in enumerate(varied_specs(count, seed=seed)):
        pair = render_visit_pair(
            spec, lost_fraction=0.1, new_fraction=0.1, thinned_fraction=0.1, seed=i
        )
        started = time.perf_counter()
        result = compare(pair.baseline.rgb, pair.followup.rgb, spec.um_per_px)
        seconds = time.perf_counter() - started
        common = pair.common_ids()
        baseline_common = len(common - pair.new_ids)
        truth = pair.true_change()
        naive_truth = len(pair.followup.counted_hairs) - len(pair.baseline.counted_hairs)
        naive = result.followup.hair_count - result.baseline.hair_count
        view = pair.view
        rows.append(
            {
                "seed": seed,
                "fitzpatrick": spec.fitzpatrick,
                "hair_colour": spec.hair_colour,
                "true_change": truth,
                "measured_change": result.change_in_count,
                "error_pct": round(
                    100 * abs(result.change_in_count - truth) / max(baseline_common, 1), 2
                ),
                "naive_error_pct": round(
                    100 * abs(naive - naive_truth) / max(len(pair.baseline.counted_hairs), 1), 2
                ),
                "registration_error_px": round(
                    max(
                        abs(result.registration.dx_px - view.dx_px),
                        abs(result.registration.dy_px - view.dy_px),
                    ),
                    2,
                ),
                "rotation_error_deg": round(
                    abs(result.registration.rotation_deg - view.rotation_deg), 3
                ),
                "seconds": round(seconds, 2),
            }
        )
    return rows


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    errors = [r["error_pct"] for r in rows]
    naive = [r["naive_error_pct"] for r in rows]
    return {
        "pairs": len(rows),
        "change_error_mean_pct": round(statistics.fmean(errors), 2),
        "change_error_median_pct": round(statistics.median(errors), 2),
        "change_error_max_pct": round(max(errors), 2),
        "pairs_within_2_pct": sum(1 for e in errors if e <= 2),
        "naive_error_mean_pct": round(statistics.fmean(naive), 2),
        "registration_error_max_px": max(r["registration_error_px"] for r in rows),
        "seconds_per_pair_median": round(statistics.median(r["seconds"] for r in rows), 2),
    }


if __name__ == "__main__":
    raise SystemExit(main())
