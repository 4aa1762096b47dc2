"""The count with a tattoo dot marking the site in the frame, as the phototrichogram protocol
has it (site_mark.py).

Every image of the benchmark's sets is rendered again with a blue-black dot 0.4-1 mm across
near the middle of the frame, under the hairs (the size drawn per image from its seed), and
counted three ways: the image without the dot, the image with it, and the image with it but
the dot not looked for (as before session 19). Visit pairs of one marked site (the dot in
both visits) are compared with and without it looked for. Prints the tables and writes
bench/results/site_mark.json and .md.

    python bench/bench_site_mark.py [--images 48] [--seeds 2026 2027 2028 2029] [--pairs 24]
"""

from __future__ import annotations

import argparse
import platform
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from results_files import metric_table, record

import follicle.trichoscopy.analyze as analyze_module
from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.compare import compare
from follicle.trichoscopy.synth import (
    TrichogramSpec,
    render_trichogram,
    render_visit_pair,
    varied_specs,
)

MARK_UM = (400.0, 1000.0)  # the dot's width, drawn per image
FIND_MARKS = analyze_module.site_marks
PAIR_SEEDS = (77, 78)  # (bench_compare.py's first two sets)


def marked(spec: TrichogramSpec) -> TrichogramSpec:
    """The same scene with a tattoo dot of a width drawn from its seed."""
    width_um = float(np.random.default_rng([spec.seed, 9]).uniform(*MARK_UM))
    return replace(spec, site_mark_um=width_um)


def _looking_for_marks(look: bool) -> None:
    analyze_module.site_marks = FIND_MARKS if look else (lambda *args, **kwargs: None)


def one(job: tuple[int, int, int]) -> dict[str, Any]:
    images, seed, index = job
    cv2.setNumThreads(1)
    spec = varied_specs(images, seed=seed)[index]
    plain = render_trichogram(spec)
    dotted = render_trichogram(marked(spec))
    truth = len(plain.counted_hairs)
    assert truth == len(dotted.counted_hairs)  # (the dot lies under the hairs)
    _looking_for_marks(True)
    found = analyze(dotted.rgb, spec.um_per_px)
    unmarked = analyze(plain.rgb, spec.um_per_px)
    _looking_for_marks(False)
    blind = analyze(dotted.rgb, spec.um_per_px)
    _looking_for_marks(True)

    def error(count: int) -> float:
        return round(100 * (count - truth) / max(truth, 1), 2)

    return {
        "image": spec.seed,
        "set": seed,
        "fitzpatrick": spec.fitzpatrick,
        "hair_colour": spec.hair_colour,
        "mark_um": round(marked(spec).site_mark_um),
        "truth": truth,
        "error_without_dot_pct": error(unmarked.hair_count),
        "error_dot_found_pct": error(found.hair_count),
        "error_dot_not_looked_for_pct": error(blind.hair_count),
        "marks_found": len(found.site_mark_outlines),
        "false_marks_without_dot": len(unmarked.site_mark_outlines),
    }


def pair(job: tuple[int, int]) -> dict[str, Any]:
    seed, index = job
    cv2.setNumThreads(1)
    spec = marked(varied_specs(24, seed=seed)[index])
    visits = render_visit_pair(
        spec, lost_fraction=0.1, new_fraction=0.1, thinned_fraction=0.1, seed=index
    )
    baseline_common = len(visits.common_ids() - visits.new_ids)
    truth = visits.true_change()
    row: dict[str, Any] = {"set": seed, "image": spec.seed, "true_change": truth}
    for look, name in ((True, "found"), (False, "not_looked_for")):
        _looking_for_marks(look)
        result = compare(visits.baseline.rgb, visits.followup.rgb, spec.um_per_px)
        row[f"change_error_dot_{name}_pct"] = round(
            100 * abs(result.change_in_count - truth) / max(baseline_common, 1), 2
        )
    _looking_for_marks(True)
    return row


def _summary(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    errors = [r[key] for r in rows]
    return {
        "images": len(rows),
        "count_mape_pct": round(statistics.fmean(abs(e) for e in errors), 2),
        "count_worst_pct": round(max(abs(e) for e in errors), 2),
        "count_bias_pct": round(statistics.fmean(errors), 2),
        "images_over_10_pct": sum(1 for e in errors if abs(e) > 10),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2026, 2027, 2028, 2029])
    parser.add_argument("--pairs", type=int, default=24)
    args = parser.parse_args()
    jobs = [(args.images, seed, i) for seed in args.seeds for i in range(args.images)]
    pair_jobs = [(seed, i) for seed in PAIR_SEEDS for i in range(args.pairs)]
    with ProcessPoolExecutor() as pool:
        rows = list(pool.map(one, jobs, chunksize=2))
        pairs = list(pool.map(pair, pair_jobs)) if args.pairs else []
    ways = {
        "no dot": "error_without_dot_pct",
        "dot, found": "error_dot_found_pct",
        "dot, not looked for": "error_dot_not_looked_for_pct",
    }
    summaries = {name: _summary(rows, key) for name, key in ways.items()}
    summaries["no dot"]["marks_found"] = sum(1 for r in rows if r["false_marks_without_dot"])
    summaries["dot, found"]["marks_found"] = sum(1 for r in rows if r["marks_found"])
    summaries["dot, not looked for"]["marks_found"] = 0
    by_set = {
        f"{seed}: {name}": _summary([r for r in rows if r["set"] == seed], key)
        for seed in args.seeds
        for name, key in ways.items()
        if key != "error_without_dot_pct"
    }
    by_type = {
        f"type {t}": _summary([r for r in rows if r["fitzpatrick"] == t], "error_dot_found_pct")
        for t in sorted({r["fitzpatrick"] for r in rows})
    }
    for t, summary in by_type.items():
        found = [r for r in rows if f"type {r['fitzpatrick']}" == t and r["marks_found"]]
        summary["marks_found"] = len(found)
    pair_summary = {}
    if pairs:
        for name in ("found", "not_looked_for"):
            errors = [p[f"change_error_dot_{name}_pct"] for p in pairs]
            pair_summary[f"dot, {name.replace('_', ' ')}"] = {
                "pairs": len(errors),
                "change_error_mean_pct": round(statistics.fmean(errors), 2),
                "change_error_max_pct": round(max(errors), 2),
                "pairs_within_2_pct": sum(1 for e in errors if e <= 2),
            }
    text = "\n\n".join(
        [
            "All images (marks_found: images where a mark was found; under 'no dot', wrongly)",
            metric_table(summaries),
            "By set",
            metric_table(by_set),
            "Dot found, by skin type",
            metric_table(by_type),
        ]
        + (["Visit pairs of one marked site (change in count)", metric_table(pair_summary)])
        * bool(pair_summary)
    )
    print(text)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "summary": summaries,
        "by_set": by_set,
        "by_skin_type": by_type,
        "pairs_summary": pair_summary,
        "images": rows,
        "pairs": pairs,
    }
    record(
        "site_mark",
        report,
        f"# Tattoo dot marking the site\n\n{report['when']} on "
        f"{report['machine']['platform']}.\n\n{text}\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
