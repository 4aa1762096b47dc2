"""A round field of view with black around it (a dermatoscope on a phone), as the analyser
reads it.

Each benchmark image is put in a circle of a given radius (a share of its width; black
outside) and analysed with and without the field check (`field.py`). The truth is the true
hairs with at least 50 µm of shaft inside the field found; the same images analysed whole and
cut to the field by the same rule show how much of the error is the smaller area itself.
Also counts the images as rendered in which a field is wrongly found. Prints a table and
writes bench/results/field.json and .md.

    python bench/bench_field.py [--images 24] [--seed 2026] [--radius 0.4]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from results_files import metric_table, record

from follicle.trichoscopy import analyze as analyser
from follicle.trichoscopy.field import field_of_view
from follicle.trichoscopy.synth import render_trichogram, varied_specs

MIN_SHAFT_UM = 50.0


def _inside_um(inside: np.ndarray, ends: tuple[float, float, float, float], um: float) -> float:
    """How much of the segment (x0, y0, x1, y1) lies where ``inside`` is set, in µm."""
    x0, y0, x1, y1 = ends
    steps = np.linspace(0.0, 1.0, 200)
    xs, ys = x0 + steps * (x1 - x0), y0 + steps * (y1 - y0)
    height, width = inside.shape
    ok = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    seen = np.zeros(len(steps), dtype=bool)
    seen[ok] = inside[ys[ok].astype(int), xs[ok].astype(int)] > 0
    return float(seen.mean() * np.hypot(x1 - x0, y1 - y0) * um)


def _pct(found: int, truth: int) -> float:
    return 100.0 * (found - truth) / max(truth, 1)


def one(job: tuple[int, int, int, float]) -> dict[str, Any]:
    images, seed, index, radius = job
    cv2.setNumThreads(1)
    spec = varied_specs(images, seed=seed)[index]
    image = render_trichogram(spec)
    um = spec.um_per_px
    height, width = image.rgb.shape[:2]
    rows, cols = np.mgrid[:height, :width]
    framed = image.rgb.copy()
    framed[np.hypot(rows - height / 2, cols - width / 2) > radius * width] = 8
    field = field_of_view(framed, um)
    if field is None:
        return {"found": False, "false_field": field_of_view(image.rgb, um) is not None}
    truth = sum(
        1
        for h in image.hairs
        if _inside_um(field.inside, (h.exit_x, h.exit_y, h.end_x, h.end_y), um) >= MIN_SHAFT_UM
    )
    with_field = analyser.analyze(framed, um)
    whole = analyser.analyze(image.rgb, um)
    cut = sum(
        1
        for h in whole.hairs
        if _inside_um(field.inside, (h.x_px, h.y_px, h.end_x_px, h.end_y_px), um) >= MIN_SHAFT_UM
    )
    real = analyser.field_of_view
    analyser.field_of_view = lambda rgb, um_per_px: None  # type: ignore[assignment]
    try:
        without = analyser.analyze(framed, um)
    finally:
        analyser.field_of_view = real
    outside = field.inside == 0
    midpoints_outside = sum(
        1
        for h in with_field.hairs
        if outside[round((h.y_px + h.end_y_px) / 2), round((h.x_px + h.end_x_px) / 2)]
    )
    return {
        "found": True,
        "false_field": field_of_view(image.rgb, um) is not None,
        "share": field.share,
        "truth": truth,
        "error_pct": _pct(with_field.hair_count, truth),
        "whole_cut_error_pct": _pct(cut, truth),
        "without_check_extra_hairs": without.hair_count - with_field.hair_count,
        "density_error_pct": _pct(
            round(with_field.density_per_cm2 * 1000), round(truth / with_field.area_cm2 * 1000)
        ),
        "without_check_density_error_pct": _pct(
            round(without.density_per_cm2 * 1000), round(truth / with_field.area_cm2 * 1000)
        ),
        "hairs_outside": midpoints_outside,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    found = [r for r in rows if r["found"]]

    def mean_abs(key: str) -> float:
        return round(statistics.fmean(abs(r[key]) for r in found), 2) if found else 0.0

    return {
        "images": len(rows),
        "field_found": len(found),
        "field_found_as_rendered": sum(r["false_field"] for r in rows),
        "field_share_median": round(statistics.median(r["share"] for r in found), 3)
        if found
        else 0.0,
        "count_error_mean_pct": mean_abs("error_pct"),
        "count_error_worst_pct": round(max((abs(r["error_pct"]) for r in found), default=0), 1),
        "whole_image_cut_to_field_error_mean_pct": mean_abs("whole_cut_error_pct"),
        "density_error_mean_pct": mean_abs("density_error_pct"),
        "without_field_check_density_error_mean_pct": mean_abs("without_check_density_error_pct"),
        "without_field_check_extra_hairs_median": statistics.median(
            r["without_check_extra_hairs"] for r in found
        )
        if found
        else 0,
        "hairs_outside_the_field": sum(r["hairs_outside"] for r in found),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--radius", type=float, default=0.4)
    args = parser.parse_args()
    jobs = [(args.images, args.seed, i, args.radius) for i in range(args.images)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(one, jobs))
    summary = summarise(rows)
    text = metric_table({f"radius {args.radius} x width": summary})
    print(text)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": sys.version.split()[0]},
        "seed": args.seed,
        "radius_share_of_width": args.radius,
        "summary": summary,
        "images": rows,
    }
    record(
        "field",
        report,
        f"# Round field of view\n\n{report['when']} on {platform.platform()}, seed "
        f"{args.seed}, {args.images} images, a circle of radius {args.radius} x the width "
        f"(black outside).\n\n{text}\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
