"""How the way an image is taken and saved changes the count: the trichoscopy benchmark's
images (both sets) analysed as the clinic would receive them — lossless, as JPEG at several
qualities with full or reduced colour resolution (chroma subsampling 4:4:4, 4:2:2, 4:2:0), in
greyscale, out of focus (blurred further by a Gaussian of 1, 1.5 and 2.5 px), overexposed
(every channel 15 % and 30 % brighter, clipped at 255) and underexposed (every channel at 60 %
and 40 % of its value: a dim dermoscope, a short exposure).

Dermoscope cameras and phones mostly save JPEG with the colour at half resolution (4:2:0); the
analyser tells pale hair from skin largely by colour. A dermoscope not pressed flat gives an
image out of focus. Each file goes through the clinic's own reader (``read_image``) and the
analyser's focus reading, and the table says how many of each way are warned of, so the
warnings and the figures they rest on are checked together. Writes
bench/results/capture.json and .md.

    python bench/bench_capture.py [--images 48] [--seeds 2026 2027]
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cv2
from bench_trichoscopy import VELLUS_THRESHOLD_UM, match
from results_files import metric_table, record

from follicle.trichoscopy.analyze import analyze
from follicle.trichoscopy.images import read_image
from follicle.trichoscopy.quality import image_warnings
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram, varied_specs

PALE = ("blond", "grey")
SAMPLING = {
    "4:4:4": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    "4:2:2": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
    "4:2:0": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
}


@dataclass(frozen=True)
class Way:
    """How an image is taken and saved: encoded as ``extension`` with OpenCV ``options``,
    after greyscale, further blur (px) or another exposure (every channel times ``gain``)."""

    name: str
    extension: str = ".png"
    options: tuple[int, ...] = ()
    grey: bool = False
    blur_px: float = 0.0
    gain: float = 1.0


def _jpeg(quality: int, sampling: str) -> Way:
    options = (cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR)
    return Way(f"JPEG {quality} {sampling}", ".jpg", (*options, SAMPLING[sampling]))


WAYS: list[Way] = [
    Way("PNG"),
    *(_jpeg(quality, "4:4:4") for quality in (95, 85, 75, 60)),
    _jpeg(95, "4:2:2"),
    _jpeg(95, "4:2:0"),
    _jpeg(85, "4:2:0"),
    Way("greyscale PNG", grey=True),
    *(Way(f"PNG blurred {blur:g} px", blur_px=blur) for blur in (1.0, 1.5, 2.5)),
    *(
        Way(f"PNG exposed {round(100 * (gain - 1)):+d} %", gain=gain)
        for gain in (1.15, 1.3, 0.6, 0.4)
    ),
]


def score_one(spec: TrichogramSpec) -> list[dict[str, Any]]:
    """One image rendered once, saved each way, read back as the clinic reads it, scored."""
    cv2.setNumThreads(1)
    image = render_trichogram(spec)
    truth = image.counted_hairs
    bgr = cv2.cvtColor(image.rgb, cv2.COLOR_RGB2BGR)
    rows = []
    for way in WAYS:
        source = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if way.grey else bgr
        if way.blur_px:
            source = cv2.GaussianBlur(source, (0, 0), way.blur_px)
        if way.gain != 1.0:
            source = cv2.convertScaleAbs(source, alpha=way.gain)  # (saturates at 255)
        ok, encoded = cv2.imencode(way.extension, source, list(way.options))
        assert ok
        read = read_image(io.BytesIO(encoded.tobytes()))
        result = analyze(read.rgb, spec.um_per_px, vellus_threshold_um=VELLUS_THRESHOLD_UM)
        pairs = match(image, result)
        rows.append(
            {
                "way": way.name,
                "pale": spec.hair_colour in PALE,
                "error_pct": 100.0 * (result.hair_count - len(truth)) / max(len(truth), 1),
                "matched": len(pairs),
                "truth": len(truth),
                "diameter_errors": [
                    abs(result.hairs[f].diameter_um - truth[t].diameter_um) for t, f in pairs
                ],
                "class_correct": sum(
                    truth[t].is_terminal(VELLUS_THRESHOLD_UM) == result.hairs[f].terminal
                    for t, f in pairs
                ),
                "warned": bool(image_warnings(read, result)),
                "edge_spread_um": result.edge_spread_um,
                "blur_um": math.hypot(spec.blur_sigma_px, way.blur_px) * spec.um_per_px,
                "kilobytes": len(encoded) / 1024,
            }
        )
    return rows


def _range(values: list[float | None]) -> str:
    read = sorted(v for v in values if v is not None)
    if not read:
        return "-"
    return f"{statistics.median(read):.1f} ({read[0]:.1f}-{read[-1]:.1f})"


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    errors = [abs(r["error_pct"]) for r in rows]
    pale = [abs(r["error_pct"]) for r in rows if r["pale"]]
    dark = [abs(r["error_pct"]) for r in rows if not r["pale"]]
    diameters = [e for r in rows for e in r["diameter_errors"]]
    return {
        "count_mape_pct": round(statistics.fmean(errors), 2),
        "count_worst_pct": round(max(errors), 1),
        "images_over_10_pct": sum(e > 10 for e in errors),
        "dark_hair_mape_pct": round(statistics.fmean(dark), 2) if dark else None,
        "pale_hair_mape_pct": round(statistics.fmean(pale), 2) if pale else None,
        "pale_hair_worst_pct": round(max(pale), 1) if pale else None,
        "matched_pct": round(
            100 * sum(r["matched"] for r in rows) / sum(r["truth"] for r in rows), 1
        ),
        "diameter_mae_um": round(statistics.fmean(diameters), 2) if diameters else None,
        "terminal_vellus_correct_pct": round(
            100 * sum(r["class_correct"] for r in rows) / max(sum(r["matched"] for r in rows), 1),
            1,
        ),
        "blur_um_median": round(statistics.median(r["blur_um"] for r in rows), 1),
        "edge_spread_read_um": _range([r["edge_spread_um"] for r in rows]),
        "median_kb": round(statistics.median(r["kilobytes"] for r in rows)),
        "warned": f"{sum(r['warned'] for r in rows)}/{len(rows)}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2026, 2027])
    args = parser.parse_args()
    specs = [s for seed in args.seeds for s in varied_specs(args.images, seed=seed)]
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers) as pool:
        per_image = list(pool.map(score_one, specs))
    summaries = {
        name: summarise([row for rows in per_image for row in rows if row["way"] == name])
        for name in (way.name for way in WAYS)
    }
    pale_images = sum(s.hair_colour in PALE for s in specs)
    text = metric_table(summaries)
    print(text)
    machine = {"platform": platform.platform(), "python": sys.version.split()[0]}
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "images": len(specs),
        "pale_hair_images": pale_images,
        "seeds": args.seeds,
        "summaries": summaries,
        "per_image_error_pct": {
            name: [round(rows[k]["error_pct"], 2) for rows in per_image]
            for k, name in enumerate(way.name for way in WAYS)
        },
    }
    record(
        "capture",
        report,
        f"# How an image is taken and saved\n\n{report['when']} on {machine['platform']}, Python "
        f"{machine['python']}. {len(specs)} images (seeds {', '.join(map(str, args.seeds))}; "
        f"{pale_images} with blond or grey hair), each saved every way and read back through "
        f'the clinic\'s reader. "warned": how many of each way are warned of (how saved, or '
        f'out of focus); "edge_spread_read_um": the focus reading, median (range).\n\n'
        f"{text}\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
