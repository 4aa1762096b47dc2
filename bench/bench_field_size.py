"""The count on small fields cut from the benchmark's images (a dermoscope with a smaller field
of view, or a clinician cropping to the marked site).

From each image of the first two sets, three crops of 2 x 1.5 mm (400 x 300 px) and three of
4 x 3 mm (800 x 600 px) at 5 µm per pixel: near the top left, in the middle and near the bottom
right. A hair counts in a crop when 50 µm or more of its shaft lies in it (contracts §4). The
flakes are those of the whole image, so a crop may be mostly flake: these are harder than
fields rendered at that size (bench_resolution.py, "same field at 5 µm/px"). Crops with fewer
than 10 true hairs are left out of the count error (one hair is over 10 % of them). The column
"without the second look" analyses them as before session 18: an image whose hairs show faintly
is not looked at again with the skin estimated in more rounds (analyze.HELD_BACK_GAIN). Prints
a table and writes bench/results/field_size.json and .md.

    python bench/bench_field_size.py [--images 48] [--seeds 2026 2027]
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from results_files import metric_table, record

import follicle.trichoscopy.analyze as analyze_module
from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.hair import FAINT_HAIR_RATIO, MIN_COUNTED_SHAFT_UM
from follicle.trichoscopy.synth import render_trichogram, varied_specs

#: (name, width px, height px) at the benchmark's 5 µm per pixel
SIZES = [("2 x 1.5 mm", 400, 300), ("4 x 3 mm", 800, 600)]
MARGIN_PX = 100  # (the corner crops stand this far in from the image's edges)
SECOND_LOOK_GAIN = analyze_module.HELD_BACK_GAIN


def one(job: tuple[int, int, int]) -> list[dict[str, Any]]:
    images, seed, index = job
    cv2.setNumThreads(1)
    spec = varied_specs(images, seed=seed)[index]
    image = render_trichogram(spec)
    height, width = image.rgb.shape[:2]
    rows = []
    for name, crop_w, crop_h in SIZES:
        corners = [
            (MARGIN_PX, MARGIN_PX),
            ((width - crop_w) // 2, (height - crop_h) // 2),
            (width - crop_w - MARGIN_PX, height - crop_h - MARGIN_PX),
        ]
        for left, top in corners:
            box = (left, top, crop_w, crop_h)
            truth = sum(
                h.length_within_um(box, spec.um_per_px) >= MIN_COUNTED_SHAFT_UM for h in image.hairs
            )
            crop = np.ascontiguousarray(image.rgb[top : top + crop_h, left : left + crop_w])
            found = {}
            for look, gain in (("second look", SECOND_LOOK_GAIN), ("first", math.inf)):
                analyze_module.HELD_BACK_GAIN = gain  # (inf: the second look is never kept)
                result = analyze(crop, spec.um_per_px)
                ratio = result.terminal_contrast_ratio
                found[look] = (result.hair_count, ratio is not None and ratio < FAINT_HAIR_RATIO)
            analyze_module.HELD_BACK_GAIN = SECOND_LOOK_GAIN
            rows.append(
                {
                    "size": name,
                    "seed": spec.seed,
                    "left": left,
                    "top": top,
                    "fitzpatrick": spec.fitzpatrick,
                    "hair_colour": spec.hair_colour,
                    "truth": int(truth),
                    "found": found["second look"][0],
                    "warned": found["second look"][1],
                    "found_first_look": found["first"][0],
                    "warned_first_look": found["first"][1],
                }
            )
    return rows


def summarise(rows: list[dict[str, Any]], found: str, warned: str) -> dict[str, Any]:
    kept = [r for r in rows if r["truth"] >= 10]
    errors = [100.0 * (r[found] - r["truth"]) / r["truth"] for r in kept]
    absolute = [abs(e) for e in errors]
    by_colour = {}
    for colour in sorted({r["hair_colour"] for r in kept}):
        these = [abs(e) for e, r in zip(errors, kept, strict=True) if r["hair_colour"] == colour]
        by_colour[f"count error, {colour} %"] = round(statistics.fmean(these), 1)
    return {
        "crops with >= 10 hairs": len(kept),
        "true hairs, mean": round(statistics.fmean(r["truth"] for r in kept)),
        "count error, mean %": round(statistics.fmean(absolute), 2),
        "count error, worst %": round(max(absolute), 1),
        "crops over 10 %": sum(e > 10 for e in absolute),
        "bias %": round(statistics.fmean(errors), 2),
        **by_colour,
        "warned of as faint": f"{sum(r[warned] for r in rows)} of {len(rows)}",
        "hairs off in the crops warned of (first look)": sum(
            abs(r[found] - r["truth"]) for r in rows if r["warned_first_look"]
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2026, 2027])
    args = parser.parse_args()
    jobs = [(args.images, seed, i) for seed in args.seeds for i in range(args.images)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = [row for rows in pool.map(one, jobs) for row in rows]
    summaries = {}
    for name, _, _ in SIZES:
        these = [r for r in rows if r["size"] == name]
        summaries[name] = summarise(these, "found", "warned")
        summaries[f"{name}, without the second look"] = summarise(
            these, "found_first_look", "warned_first_look"
        )
    text = metric_table(summaries)
    print(text)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": sys.version.split()[0]},
        "seeds": args.seeds,
        "summary": summaries,
        "crops": rows,
    }
    record(
        "field_size",
        report,
        f"# The count on small fields\n\n{report['when']} on {platform.platform()}, seeds "
        f"{args.seeds}, {args.images} images each, three crops of each size per image, at "
        f"5 µm per pixel (crops with fewer than 10 true hairs left out of the count error).\n\n"
        f"{text}\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
