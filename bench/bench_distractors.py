"""The count with things in the frame that are not hair and that the generator's benchmark
scenes do not hold: the tattoo dot marking the site, as the phototrichogram protocol has it
(site_mark.py), and air bubbles in the immersion fluid (bubbles.py).

Every image of the benchmark's sets is rendered again with the distractor (the hairs are the
same) and counted three ways: the image without it, the image with it, and the image with it
but the distractor not looked for (as before session 19). Visit pairs of one site (the
distractor in both visits) are compared with and without it looked for. Prints the tables
and writes bench/results/site_mark.json and .md, and air_bubbles.json and .md.

- site_mark: a blue-black dot 0.4-1 mm across near the middle of the frame, under the hairs
  (its width drawn per image from the image's seed);
- air_bubbles: six bubbles 0.1-1 mm across, anywhere, over everything.

    python bench/bench_distractors.py [--only site_mark] [--images 48]
        [--seeds 2026 2027 2028 2029] [--pairs 24]
"""

from __future__ import annotations

import argparse
import platform
import statistics
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from results_files import metric_table, record

import follicle.trichoscopy.analyze as analyze_module
import follicle.trichoscopy.masks as masks_module
from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.compare import compare
from follicle.trichoscopy.synth import (
    TrichogramSpec,
    render_trichogram,
    render_visit_pair,
    varied_specs,
)

MARK_UM = (400.0, 1000.0)  # the dot's width, drawn per image
AIR_BUBBLES = 6
PAIR_SEEDS = (77, 78)  # (bench_compare.py's first two sets)


def marked(spec: TrichogramSpec) -> TrichogramSpec:
    """The same scene with a tattoo dot of a width drawn from its seed."""
    width_um = float(np.random.default_rng([spec.seed, 9]).uniform(*MARK_UM))
    return replace(spec, site_mark_um=width_um)


def bubbly(spec: TrichogramSpec) -> TrichogramSpec:
    return replace(spec, air_bubbles=AIR_BUBBLES)


#: name: (the scene with it, the module and name of the step that finds it, that step
#: finding nothing, the analysis's outlines of what it found)
DISTRACTORS: dict[str, tuple[Callable[[TrichogramSpec], TrichogramSpec], Any, str, Any, str]] = {
    "site_mark": (
        marked,
        analyze_module,
        "site_marks",
        lambda *args, **kwargs: None,
        "site_mark_outlines",
    ),
    "air_bubbles": (
        bubbly,
        masks_module,
        "without_bubble_rims",
        lambda mask, params: (mask, ()),
        "air_bubble_outlines",
    ),
}
FINDERS = {name: getattr(d[1], d[2]) for name, d in DISTRACTORS.items()}


def _looking_for(name: str, look: bool) -> None:
    _, module, step, blind, _ = DISTRACTORS[name]
    setattr(module, step, FINDERS[name] if look else blind)


def one(job: tuple[str, int, int, int]) -> dict[str, Any]:
    name, images, seed, index = job
    with_it, _, _, _, outlines = DISTRACTORS[name]
    cv2.setNumThreads(1)
    spec = varied_specs(images, seed=seed)[index]
    plain = render_trichogram(spec)
    dotted = render_trichogram(with_it(spec))
    truth = len(plain.counted_hairs)
    assert truth == len(dotted.counted_hairs)  # (the same hairs)
    _looking_for(name, True)
    found = analyze(dotted.rgb, spec.um_per_px)
    unmarked = analyze(plain.rgb, spec.um_per_px)
    _looking_for(name, False)
    blind = analyze(dotted.rgb, spec.um_per_px)
    _looking_for(name, True)

    def error(count: int) -> float:
        return round(100 * (count - truth) / max(truth, 1), 2)

    return {
        "image": spec.seed,
        "set": seed,
        "fitzpatrick": spec.fitzpatrick,
        "hair_colour": spec.hair_colour,
        "mark_um": round(marked(spec).site_mark_um) if name == "site_mark" else None,
        "truth": truth,
        "error_without_pct": error(unmarked.hair_count),
        "error_found_pct": error(found.hair_count),
        "error_not_looked_for_pct": error(blind.hair_count),
        "found": len(getattr(found, outlines)),
        "false_found_without": len(getattr(unmarked, outlines)),
    }


def pair(job: tuple[str, int, int]) -> dict[str, Any]:
    name, seed, index = job
    cv2.setNumThreads(1)
    spec = DISTRACTORS[name][0](varied_specs(24, seed=seed)[index])
    visits = render_visit_pair(
        spec, lost_fraction=0.1, new_fraction=0.1, thinned_fraction=0.1, seed=index
    )
    baseline_common = len(visits.common_ids() - visits.new_ids)
    truth = visits.true_change()
    row: dict[str, Any] = {"set": seed, "image": spec.seed, "true_change": truth}
    for look, way in ((True, "found"), (False, "not_looked_for")):
        _looking_for(name, look)
        result = compare(visits.baseline.rgb, visits.followup.rgb, spec.um_per_px)
        row[f"change_error_{way}_pct"] = round(
            100 * abs(result.change_in_count - truth) / max(baseline_common, 1), 2
        )
    _looking_for(name, True)
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
    parser.add_argument("--only", choices=list(DISTRACTORS))
    args = parser.parse_args()
    for name in [args.only] if args.only else list(DISTRACTORS):
        _bench(name, args)
    return 0


TITLES = {
    "site_mark": "Tattoo dot marking the site",
    "air_bubbles": f"{AIR_BUBBLES} air bubbles in the immersion fluid",
}


def _bench(name: str, args: argparse.Namespace) -> None:
    jobs = [(name, args.images, seed, i) for seed in args.seeds for i in range(args.images)]
    pair_jobs = [(name, seed, i) for seed in PAIR_SEEDS for i in range(args.pairs)]
    with ProcessPoolExecutor() as pool:
        rows = list(pool.map(one, jobs, chunksize=2))
        pairs = list(pool.map(pair, pair_jobs)) if args.pairs else []
    ways = {
        "without": "error_without_pct",
        "with, found": "error_found_pct",
        "with, not looked for": "error_not_looked_for_pct",
    }
    summaries = {way: _summary(rows, key) for way, key in ways.items()}
    summaries["without"]["images_found_in"] = sum(1 for r in rows if r["false_found_without"])
    summaries["with, found"]["images_found_in"] = sum(1 for r in rows if r["found"])
    summaries["with, not looked for"]["images_found_in"] = 0
    by_set = {
        f"{seed}: {way}": _summary([r for r in rows if r["set"] == seed], key)
        for seed in args.seeds
        for way, key in ways.items()
        if way != "without"
    }
    by_type = {
        f"type {t}": _summary([r for r in rows if r["fitzpatrick"] == t], "error_found_pct")
        for t in sorted({r["fitzpatrick"] for r in rows})
    }
    for t, summary in by_type.items():
        summary["images_found_in"] = sum(
            1 for r in rows if f"type {r['fitzpatrick']}" == t and r["found"]
        )
    pair_summary = {}
    if pairs:
        for way in ("found", "not_looked_for"):
            errors = [p[f"change_error_{way}_pct"] for p in pairs]
            pair_summary[f"with, {way.replace('_', ' ')}"] = {
                "pairs": len(errors),
                "change_error_mean_pct": round(statistics.fmean(errors), 2),
                "change_error_max_pct": round(max(errors), 2),
                "pairs_within_2_pct": sum(1 for e in errors if e <= 2),
            }
    text = "\n\n".join(
        [
            "All images (images_found_in: where it was found; under 'without', wrongly)",
            metric_table(summaries),
            "By set",
            metric_table(by_set),
            "With it, found, by skin type",
            metric_table(by_type),
        ]
        + (["Visit pairs of one site (change in count)", metric_table(pair_summary)])
        * bool(pair_summary)
    )
    print(f"{TITLES[name]}\n\n{text}\n")
    when = datetime.now(UTC).isoformat(timespec="seconds")
    report = {
        "when": when,
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "summary": summaries,
        "by_set": by_set,
        "by_skin_type": by_type,
        "pairs_summary": pair_summary,
        "images": rows,
        "pairs": pairs,
    }
    record(
        name,
        report,
        f"# {TITLES[name]}\n\n{when} on {platform.platform()}.\n\n{text}\n",
    )


if __name__ == "__main__":
    raise SystemExit(main())
