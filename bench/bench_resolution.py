"""The count at other scales than the benchmark's 5 µm per pixel (other dermoscopes and
magnifications).

Each benchmark scalp is rendered at 1600 x 1250 px and at each scale (so the field shrinks or
grows with it), its flakes and yellow dots as many for its area as the benchmark has. An image
finer than the working scale is averaged down to it and a coarser one enlarged to it
(`working_scale.py`); the columns "as it is" analyse the 2.5 and 10 µm images without that,
as before session 17, and "same field at 5 µm" renders the 2.5 µm field at the working scale
(800 x 625 px): the error a field that small has at the scale the analyser knows. Prints a
table and writes bench/results/resolution.json and .md.

    python bench/bench_resolution.py [--images 48] [--seed 2026]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import cv2
from bench_trichoscopy import VELLUS_THRESHOLD_UM, match
from results_files import metric_table, record

from follicle.trichoscopy import working_scale
from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram, varied_specs

BENCHMARK_UM_PER_PX = 5.0
WIDTH_PX, HEIGHT_PX = 1600, 1250
#: (column, um per pixel, pixels across, resampled to the working scale)
GROUPS = [
    ("2.5 µm/px", 2.5, WIDTH_PX, True),
    ("2.5 µm/px as it is", 2.5, WIDTH_PX, False),
    ("same field at 5 µm/px", 5.0, WIDTH_PX // 2, True),
    ("3.5 µm/px", 3.5, WIDTH_PX, True),
    ("5 µm/px (benchmark)", 5.0, WIDTH_PX, True),
    ("7 µm/px", 7.0, WIDTH_PX, True),
    ("10 µm/px", 10.0, WIDTH_PX, True),
    ("10 µm/px as it is", 10.0, WIDTH_PX, False),
]


def _at(spec: TrichogramSpec, um_per_px: float, width_px: int) -> TrichogramSpec:
    height_px = round(width_px * HEIGHT_PX / WIDTH_PX)
    area = (um_per_px * width_px * um_per_px * height_px) / (
        BENCHMARK_UM_PER_PX**2 * WIDTH_PX * HEIGHT_PX
    )
    return replace(
        spec,
        um_per_px=um_per_px,
        width_px=width_px,
        height_px=height_px,
        dandruff_flakes=round(spec.dandruff_flakes * area),
        yellow_dots=round(spec.yellow_dots * area),
    )


def one(job: tuple[int, int, int]) -> list[dict[str, Any]]:
    images, seed, index = job
    cv2.setNumThreads(1)
    spec = varied_specs(images, seed=seed)[index]
    rows = []
    for name, um_per_px, width_px, resampled in GROUPS:
        image = render_trichogram(_at(spec, um_per_px, width_px))
        truth = len(image.counted_hairs)
        working_scale.SCALE_TOLERANCE = 0.05 if resampled else float("inf")
        started = time.process_time()
        result = analyze(image.rgb, um_per_px, vellus_threshold_um=VELLUS_THRESHOLD_UM)
        seconds = time.process_time() - started
        working_scale.SCALE_TOLERANCE = 0.05
        found = result.hair_count
        pairs = [(image.counted_hairs[t], result.hairs[f]) for t, f in match(image, result)]
        rows.append(
            {
                "group": name,
                "seed": spec.seed,
                "fitzpatrick": spec.fitzpatrick,
                "hair_colour": spec.hair_colour,
                "truth": truth,
                "found": found,
                "error_pct": 100.0 * (found - truth) / max(truth, 1),
                "matched": len(pairs),
                "diameter_errors_um": [abs(f.diameter_um - t.diameter_um) for t, f in pairs],
                "classified_right": sum(
                    (t.diameter_um >= VELLUS_THRESHOLD_UM) == f.terminal for t, f in pairs
                ),
                "ms": 1000.0 * seconds,
            }
        )
    return rows


def summarise(rows: list[dict[str, Any]], um_per_px: float, width_px: int) -> dict[str, Any]:
    # Scenes with fewer than 10 hairs in view are left out: one hair is over 10 % of them.
    kept = [r for r in rows if r["truth"] >= 10]
    errors = [abs(r["error_pct"]) for r in kept]
    diameters = [e for r in rows for e in r["diameter_errors_um"]]
    width_mm = width_px * um_per_px / 1000
    return {
        "field (mm)": f"{width_mm:.1f} x {width_mm * HEIGHT_PX / WIDTH_PX:.1f}",
        "images with >= 10 hairs": len(kept),
        "true hairs, mean": round(statistics.fmean(r["truth"] for r in kept)),
        "count error, mean %": round(statistics.fmean(errors), 2),
        "count error, worst %": round(max(errors), 1),
        "images over 10 %": sum(e > 10 for e in errors),
        "bias %": round(statistics.fmean(r["error_pct"] for r in kept), 2),
        "diameter error per matched hair (µm)": round(statistics.fmean(diameters), 2),
        "terminal/vellus right %": round(
            100.0 * sum(r["classified_right"] for r in rows) / max(1, len(diameters)), 1
        ),
        "ms per image, median": round(statistics.median(r["ms"] for r in rows)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    jobs = [(args.images, args.seed, i) for i in range(args.images)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = [row for rows in pool.map(one, jobs) for row in rows]
    summaries = {
        name: summarise([r for r in rows if r["group"] == name], um, width)
        for name, um, width, _ in GROUPS
    }
    text = metric_table(summaries)
    print(text)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": sys.version.split()[0]},
        "seed": args.seed,
        "summary": summaries,
        "images": rows,
    }
    record(
        "resolution",
        report,
        f"# The count at other scales\n\n{report['when']} on {platform.platform()}, seed "
        f"{args.seed}, {args.images} images, each {WIDTH_PX} x {HEIGHT_PX} px at each scale "
        f"(flakes and dots as many for the area as the benchmark's). CPU time on one core "
        f"per image.\n\n{text}\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
