"""Scale calibration benchmark: synthetic photographs of rulings (stage micrometers of 10, 50
and 100 um divisions, rulers of 1 mm) at known scales from 1.5 to 15 um per pixel, at any
angle, dark or light lines, with a longer mark every 2, 5 or 10 lines or none, lines of 5-40 %
of their spacing, blur, noise, vignetting, in fields of 0.3, 0.8 and 2 megapixels.

Each image is measured, refused (with its reason) or wrong (more than 0.5 % off: a wrong
scale is worse than a refusal, since every length and density rests on it). Writes
bench/results/calibration.json and .md.

    python bench/bench_calibration.py [--images 120] [--seed 11]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from results_files import metric_table, record

from follicle.trichoscopy.calibrate import CalibrationError, calibrate
from follicle.trichoscopy.synth_calibration import CalibrationSpec, render_calibration

FIELDS = [(640, 480), (1024, 768), (1600, 1250)]
SPACINGS_UM = [10.0, 50.0, 100.0, 1000.0]
#: A scale more than this far off counts as wrong.
WRONG_PCT = 0.5


def varied_targets(count: int, seed: int) -> list[CalibrationSpec]:
    rng = np.random.default_rng(seed)
    specs = []
    for k in range(count):
        width, height = FIELDS[k % len(FIELDS)]
        um_per_px = float(rng.uniform(1.5, 15.0))
        spacing = float(rng.choice(SPACINGS_UM))
        if spacing / um_per_px < 4.5:  # finer than the optics resolve: a coarser target
            spacing = 100.0
        specs.append(
            CalibrationSpec(
                seed=k,
                width_px=width,
                height_px=height,
                um_per_px=um_per_px,
                line_spacing_um=spacing,
                line_width_um=float(min(spacing * rng.uniform(0.05, 0.4), 80.0)),
                angle_deg=float(rng.uniform(0.0, 180.0)),
                offset_um=float(rng.uniform(0.0, spacing)),
                dark_lines=bool(rng.random() < 0.7),
                blur_px=float(rng.uniform(0.5, 2.5)),
                noise_sd=float(rng.uniform(2.0, 15.0)),
                major_every=int(rng.choice([0, 2, 5, 10])),
                vignetting=float(rng.uniform(0.0, 0.5)),
                lines_cover=float(rng.uniform(0.2, 0.9)),
            )
        )
    return specs


def _score(spec: CalibrationSpec) -> dict[str, Any]:
    rgb = render_calibration(spec)
    started = time.process_time()
    row: dict[str, Any] = {
        "seed": spec.seed,
        "field": f"{spec.width_px}x{spec.height_px}",
        "spacing_um": spec.line_spacing_um,
        "um_per_px": round(spec.um_per_px, 4),
        "lines_in_field": round(min(spec.width_px, spec.height_px) * spec.um_per_px
                                / spec.line_spacing_um, 1),
    }  # fmt: skip
    try:
        found = calibrate(rgb, spec.line_spacing_um)
    except CalibrationError as exc:
        row.update(outcome="refused", reason=str(exc))
    else:
        error = 100.0 * abs(found.um_per_px - spec.um_per_px) / spec.um_per_px
        row.update(
            outcome="wrong" if error > WRONG_PCT else "measured",
            found_um_per_px=round(found.um_per_px, 4),
            error_pct=round(error, 4),
            stated_uncertainty_pct=round(found.uncertainty_pct, 4),
        )
    row["ms"] = round(1000 * (time.process_time() - started), 1)
    return row


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = Counter(r["outcome"] for r in rows)
    errors = [r["error_pct"] for r in rows if r["outcome"] == "measured"]
    return {
        "images": len(rows),
        "measured": outcomes["measured"],
        "refused": outcomes["refused"],
        f"wrong (> {WRONG_PCT} %)": outcomes["wrong"],
        "median error %": round(statistics.median(errors), 4) if errors else None,
        "worst measured error %": round(max(errors), 4) if errors else None,
        "median ms": round(statistics.median(r["ms"] for r in rows), 0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rows = [_score(spec) for spec in varied_targets(args.images, args.seed)]
    groups = {"all": rows}
    for field in dict.fromkeys(r["field"] for r in rows):
        groups[field] = [r for r in rows if r["field"] == field]
    for spacing in SPACINGS_UM:
        groups[f"{spacing:g} um ruling"] = [r for r in rows if r["spacing_um"] == spacing]
    summaries = {name: _summary(group) for name, group in groups.items() if group}
    text = metric_table(summaries)
    print(text)
    unusual = [r for r in rows if r["outcome"] != "measured"]
    for r in unusual:
        what = r.get("reason") or r.get("found_um_per_px")
        print(f"  {r['outcome']}: seed {r['seed']} {r['field']}, {r['lines_in_field']} lines "
              f"in field: {what} (true {r['um_per_px']})")  # fmt: skip
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "summaries": summaries,
        "rows": rows,
    }
    record(
        "calibration",
        report,
        f"# Scale calibration benchmark\n\n{report['when']}, {report['machine']['platform']}."
        f"\n\n{text}\n\nNot measured: "
        + "; ".join(
            f"seed {r['seed']} ({r['lines_in_field']} lines in field) {r['outcome']}"
            for r in unusual
        )
        + "\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
