"""Analyser speed against an earlier version, measured side by side.

This machine's speed drifts by a fifth within an hour, so two benchmark runs an hour apart
cannot tell a 10 % change. Here the earlier analyser (any git revision) and the working tree
each run in their own process, taking turns image by image, and each reports its CPU time
(best of three) on the same images: the ratio of the two is what a change did. Prints a
table and writes bench/results/speed_ab.json and .md. The default baseline is session 7's
analyser, the reference of the ratio in docs/trichoscopy.md.

    python bench/bench_speed_ab.py [--baseline c99f240] [--images 12]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from io import BytesIO
from multiprocessing.connection import Connection
from pathlib import Path

from results_files import record

ROOT = Path(__file__).resolve().parent.parent


def _worker(source: str, requests: Connection) -> None:
    """Analyse each image sent, with the analyser found under ``source``; reply its CPU time."""
    sys.path.insert(0, source)
    import time

    if "follicle" in sys.modules:
        raise RuntimeError("the analyser under test was imported before its source was chosen")

    import cv2

    from follicle.trichoscopy.analyze import analyze

    cv2.setNumThreads(1)
    while (job := requests.recv()) is not None:
        rgb, um_per_px = job
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            analyze(rgb, um_per_px)
            best = min(best, time.process_time() - started)
        requests.send(best)


def _checkout(revision: str, folder: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src/follicle"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default="c99f240", help="git revision to compare with")
    parser.add_argument("--images", type=int, default=12, help="of the 48 benchmark images")
    args = parser.parse_args()
    # Imported here, not at the top: each worker re-imports this file, and must then find
    # its own analyser, not the working tree's already loaded.
    from follicle.trichoscopy.synth import render_trichogram, varied_specs

    specs = varied_specs(48)
    step = max(1, 48 // args.images)
    chosen = [0, *range(0, 48, step)][: args.images + 1]  # the first warms both up
    context = mp.get_context("spawn")  # a fresh interpreter each: no shared imports
    with tempfile.TemporaryDirectory() as folder:
        sources = {"baseline": _checkout(args.baseline, Path(folder)), "now": ROOT / "src"}
        pipes: dict[str, Connection] = {}
        workers = []
        for name, source in sources.items():
            ours, theirs = context.Pipe()
            workers.append(context.Process(target=_worker, args=(str(source), theirs)))
            workers[-1].start()
            pipes[name] = ours
        seconds: dict[str, list[float]] = {name: [] for name in sources}
        for index in chosen:
            image = render_trichogram(specs[index])  # the same pixels for both
            for name in sources:  # taking turns, image by image
                pipes[name].send((image.rgb, image.spec.um_per_px))
                seconds[name].append(pipes[name].recv())
        for name in sources:
            pipes[name].send(None)
        for worker in workers:
            worker.join()
    # The first image warmed both up (imports, caches): it is not counted.
    baseline, now = seconds["baseline"][1:], seconds["now"][1:]
    ratios = [n / b for n, b in zip(now, baseline, strict=True)]
    summary = {
        "images": len(ratios),
        "baseline": args.baseline,
        "baseline_ms_median": round(1000 * statistics.median(baseline), 1),
        "now_ms_median": round(1000 * statistics.median(now), 1),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_worst": round(max(ratios), 3),
        # (dense images take longest: the ratio of the totals is the one a batch sees)
        "ratio_total": round(sum(now) / sum(baseline), 3),
    }
    text = "\n".join(
        ["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in summary.items()]
    )
    print(text)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "summary": summary,
        "ms_per_image": {
            "baseline": [round(1000 * t, 1) for t in baseline],
            "now": [round(1000 * t, 1) for t in now],
        },
    }
    record(
        "speed_ab",
        report,
        f"# Analyser speed against an earlier version\n\n{report['when']} on "
        f"{report['machine']['platform']}, one core, CPU time, best of three per image.\n\n"
        f"{text}\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
