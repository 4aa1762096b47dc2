"""``follicle analyze`` (contracts §4): JSON lines, overlays, several processes for batches;
``follicle compare`` and ``follicle calibrate``."""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from rich.console import Console
from rich.progress import Progress

err = Console(stderr=True)


class Analysed(NamedTuple):
    path: str
    result: dict[str, Any] | None  # the contract's JSON object...
    error: str | None  # ...or why there is none
    warnings: tuple[str, ...] = ()  # what in the image may cost the count (on stderr)


def analyze_one(
    path: str, um_per_px: float, vellus_threshold_um: float, overlay_dir: str | None
) -> Analysed:
    """Analyse one file. Runs in a worker process."""
    import cv2

    from follicle.trichoscopy.analyze import AnalysisError, analyze
    from follicle.trichoscopy.images import ImageRefused, read_image
    from follicle.trichoscopy.overlay import draw_overlay
    from follicle.trichoscopy.quality import image_warnings

    cv2.setNumThreads(1)
    try:
        read = read_image(path)
        result = analyze(read.rgb, um_per_px, vellus_threshold_um=vellus_threshold_um)
    except (ImageRefused, AnalysisError) as exc:
        return Analysed(path, None, str(exc))
    if overlay_dir is not None:
        target = Path(overlay_dir) / f"{Path(path).stem}.overlay.png"
        cv2.imwrite(str(target), draw_overlay(read.rgb, result))
    contract = result.as_contract(Path(path).name)
    return Analysed(path, contract, None, image_warnings(read, result))


def analyze_command(
    images: Annotated[list[Path], typer.Argument(help="JPEG, PNG or TIFF trichoscopy images.")],
    um_per_px: Annotated[float, typer.Option("--um-per-px", help="Scale: micrometres per pixel.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    overlay: Annotated[
        Path | None,
        typer.Option("--overlay", help="Write an overlay PNG per image into this folder."),
    ] = None,
    vellus_threshold_um: Annotated[
        float,
        typer.Option(
            "--vellus-threshold-um", help="Terminal/vellus cut-off (30 um; TrichoScan uses 40)."
        ),
    ] = 30.0,
    workers: Annotated[int, typer.Option(help="Processes to use (default: one per core).")] = 0,
) -> None:
    """Count, measure and classify hairs in clipped-scalp dermoscopy images."""
    if overlay is not None:
        overlay.mkdir(parents=True, exist_ok=True)
    overlay_dir = str(overlay) if overlay is not None else None
    jobs = [str(p) for p in images]
    processes = workers or min(len(jobs), os.cpu_count() or 1)
    failed = 0
    with Progress(console=err, transient=True, disable=len(jobs) < 2) as progress:
        task = progress.add_task("analysing", total=len(jobs))
        if processes <= 1:
            failed = _report(
                (analyze_one(j, um_per_px, vellus_threshold_um, overlay_dir) for j in jobs),
                as_json,
                progress,
                task,
            )
        else:
            with ProcessPoolExecutor(max_workers=processes) as pool:
                results = pool.map(
                    analyze_one,
                    jobs,
                    [um_per_px] * len(jobs),
                    [vellus_threshold_um] * len(jobs),
                    [overlay_dir] * len(jobs),
                )
                failed = _report(results, as_json, progress, task)
    if failed:
        raise typer.Exit(1)


def _report(results: Any, as_json: bool, progress: Progress, task: Any) -> int:
    failed = 0
    for path, result, error, warnings in results:
        progress.advance(task)
        if error is not None:
            failed += 1
            print(f"follicle: error: {path}: {error}", file=sys.stderr)
            continue
        assert result is not None
        if as_json:
            print(json.dumps(result), flush=True)
        else:
            mean = result["mean_diameter_um"]
            print(
                f"{result['image']}: {result['hair_count']} hairs "
                f"({result['density_per_cm2']}/cm2), terminal {result['terminal_count']}, "
                f"vellus {result['vellus_count']}, mean diameter "
                f"{'-' if mean is None else f'{mean} um'}",
                flush=True,
            )
        for warning in warnings:
            print(f"follicle: warning: {path}: the image {warning}", file=sys.stderr)
    return failed


def compare_command(
    baseline: Annotated[Path, typer.Argument(help="Baseline image of the marked site.")],
    followup: Annotated[Path, typer.Argument(help="Follow-up image of the same site.")],
    um_per_px: Annotated[float, typer.Option("--um-per-px", help="Scale: micrometres per pixel.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the contract JSON.")] = False,
    vellus_threshold_um: Annotated[
        float, typer.Option("--vellus-threshold-um", help="Terminal/vellus cut-off.")
    ] = 30.0,
) -> None:
    """Register two visits of one site and measure the change hair by hair."""
    from follicle.trichoscopy.analyze import AnalysisError
    from follicle.trichoscopy.compare import compare
    from follicle.trichoscopy.images import ImageRefused, read_image
    from follicle.trichoscopy.quality import image_warnings

    images = []
    for path in (baseline, followup):
        try:
            images.append(read_image(path))
        except ImageRefused as exc:
            raise _problem(f"{path}: {exc}") from None
    try:
        result = compare(images[0].rgb, images[1].rgb, um_per_px, vellus_threshold_um)
    except AnalysisError as exc:
        raise _problem(str(exc)) from None
    contract = result.as_contract(baseline.name, followup.name)
    # (warnings on stderr: the JSON stays as contracts §4 has it)
    analyses = (result.baseline, result.followup)
    for read, analysis, path in zip(images, analyses, (baseline, followup), strict=True):
        for warning in image_warnings(read, analysis):
            print(f"follicle: warning: {path}: the image {warning}", file=sys.stderr)
    if as_json:
        print(json.dumps(contract))
        return
    reg = contract["registration"]
    print(
        f"{baseline.name} -> {followup.name}: shift ({reg['dx_px']}, {reg['dy_px']}) px, "
        f"rotation {reg['rotation_deg']} deg"
    )
    print(
        f"matched {contract['matched']}, lost {contract['lost']}, new {contract['new']}, "
        f"thickened {contract['thickened']}, thinned {contract['thinned']}; change in count "
        f"{contract['change_in_count']:+d}, in terminal hairs {contract['change_in_terminal']:+d}"
    )


def calibrate_command(
    image: Annotated[
        Path, typer.Argument(help="Photograph of a stage micrometer or ruler, same setting.")
    ],
    line_spacing_um: Annotated[
        float,
        typer.Option(
            "--line-spacing-um", help="Distance between neighbouring lines of the finest ruling."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure a dermoscope setting's scale (micrometres per pixel) from a ruled target."""
    from follicle.trichoscopy.calibrate import CalibrationError, calibrate
    from follicle.trichoscopy.images import ImageRefused, read_rgb

    try:
        found = calibrate(read_rgb(image), line_spacing_um)
    except (ImageRefused, CalibrationError) as exc:
        raise _problem(f"{image}: {exc}") from None
    if as_json:
        print(json.dumps({"image": image.name, **found.as_dict()}))
        return
    print(
        f"{image.name}: {found.um_per_px:.4f} um per pixel "
        f"(+/- {found.uncertainty_pct:.3f} %), from {found.lines} lines "
        f"{found.period_px:.3f} px apart (across them: {found.angle_deg:.1f} deg); "
        f"use --um-per-px {found.um_per_px:.4g}"
    )


def _problem(message: str) -> Exception:
    from follicle.cli_clinic import InputProblem

    return InputProblem([message])


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze_command)
    app.command("compare")(compare_command)
    app.command("calibrate")(calibrate_command)
