"""``follicle screen``, ``follicle plan`` and ``follicle evidence`` (contracts §2-3).

JSON on stdout with ``--json``; a readable report otherwise. Invalid input: exit status 2, one
line per problem on stderr naming the field, nothing on stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from follicle.clinic.catalogue import Level, load_catalogue
from follicle.clinic.clinic_settings import ClinicSettings, default_settings, parse_clinic_settings
from follicle.clinic.errors import InputInvalid
from follicle.clinic.planning import PlanResult, make_plan
from follicle.clinic.screening import Screening, screen

out = Console(soft_wrap=True)
LEVEL_STYLE = {
    Level.contraindicated: "bold red",
    Level.refer: "bold magenta",
    Level.defer: "bold yellow",
    Level.caution: "yellow",
    Level.info: "cyan",
}

IntakeArg = Annotated[
    str, typer.Argument(help="Intake JSON file (follicle.intake/1), or - for stdin.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the contract JSON.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--clinic-config", help="Clinic settings JSON (follicle.clinic-settings/1)."),
]


class InputProblem(Exception):
    """Bad input; each line names the field. The CLI exits 2."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("; ".join(lines))


def read_json(source: str, what: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputProblem([f"{what} {source}: cannot be read ({exc.strerror})"]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputProblem(
            [
                f"{what} {source}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                f"column {exc.colno})"
            ]
        ) from None


def _settings(config: Path | None) -> ClinicSettings:
    if config is None:
        return default_settings()
    try:
        return parse_clinic_settings(read_json(str(config), "clinic config"))
    except InputInvalid as exc:
        raise InputProblem(
            [f"clinic config {e.pointer or '/'}: {e.message}" for e in exc.errors]
        ) from None


def _run_engine(
    intake: str,
    as_json: bool,
    clinic_config: Path | None,
    engine: Callable[[Any, ClinicSettings], Screening | PlanResult],
    show: Callable[[Any], None],
) -> None:
    settings = _settings(clinic_config)
    document = read_json(intake, "intake")
    try:
        result = engine(document, settings)
    except InputInvalid as exc:
        raise InputProblem(
            [f"{intake} {e.pointer or '/'}: {e.message}" for e in exc.errors]
        ) from None
    if as_json:
        print(json.dumps(result.as_contract(), indent=2, ensure_ascii=False))
    else:
        show(result)


def screen_command(
    intake: IntakeArg, as_json: JsonOpt = False, clinic_config: ConfigOpt = None
) -> None:
    """Screen an intake for contraindications and cautions, with reasons and citations."""
    _run_engine(intake, as_json, clinic_config, screen, _print_screening)


def plan_command(
    intake: IntakeArg, as_json: JsonOpt = False, clinic_config: ConfigOpt = None
) -> None:
    """Screen an intake and, when eligible, propose a plan within the clinic's bounds."""
    _run_engine(intake, as_json, clinic_config, make_plan, _print_plan)


def evidence_command(as_json: JsonOpt = False) -> None:
    """List the evidence catalogue every rule and default cites."""
    catalogue = load_catalogue()
    entries = [source.as_contract() for source in catalogue.sources.values()]
    if as_json:
        print(json.dumps(entries, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Evidence catalogue {catalogue.rules_version}", show_lines=True)
    for column in ("id", "kind", "citation", "link"):
        table.add_column(column)
    for entry in entries:
        link = entry.get("doi") or (f"PMID {entry['pmid']}" if "pmid" in entry else None)
        table.add_row(entry["id"], entry["kind"], entry["citation"], link or entry.get("url", ""))
    out.print(table)


def _print_screening(result: Screening) -> None:
    decision = result.decision.replace("_", " ")
    out.print(
        f"[bold]Screening decision:[/bold] {decision}   [dim]rules {result.rules_version}[/dim]"
    )
    if not result.findings:
        out.print("No findings.")
    table = Table(show_lines=False)
    for column in ("level", "rule", "reason", "evidence"):
        table.add_column(column)
    for finding in result.findings:
        style = LEVEL_STYLE[finding.level]
        table.add_row(
            f"[{style}]{finding.level.name}[/{style}]",
            finding.rule,
            finding.reason,
            ", ".join(finding.evidence),
        )
    if result.findings:
        out.print(table)
    out.print(
        "[dim]Follicle supports a qualified clinician's decision; it does not diagnose.[/dim]"
    )


def _print_plan(result: PlanResult) -> None:
    _print_screening(result.screening)
    plan = result.plan
    if plan is None:
        out.print(f"[bold]No plan:[/bold] {result.why_no_plan}")
        return
    table = Table(title="Proposed plan (for a practitioner to approve)", show_header=False)
    table.add_column("item")
    table.add_column("value")
    topicals = ", ".join(
        f"{t['name']} (restart after {t['restart_after_hours']} h)"
        if t["restart_after_hours"] is not None
        else t["name"]
        for t in plan["topicals"]
    )
    rows = [
        ("indication", plan["indication"].replace("_", " ")),
        ("needle depth", f"{plan['needle_depth_mm']} mm"),
        ("interval", f"every {plan['interval_days']} days"),
        ("sessions", str(plan["sessions"])),
        ("endpoint", plan["endpoint"].replace("_", " ")),
        ("topicals", topicals or "none"),
        ("review", f"after {plan['review_after_weeks']} weeks"),
        ("anaesthesia", plan["anaesthesia"].replace("_", " ")),
        ("test patch", "yes" if plan["test_patch"] else "no"),
        (
            "operator depth limit",
            "not recorded"
            if plan["operator_max_depth_mm"] is None
            else f"{plan['operator_max_depth_mm']} mm",
        ),
    ]
    for item, value in rows:
        table.add_row(item, value)
    out.print(table)
    for adjustment in plan["adjustments"]:
        out.print(f" • {adjustment['reason']} [dim]({', '.join(adjustment['evidence'])})[/dim]")
    out.print("[bold]Aftercare[/bold]")
    for item in plan["aftercare"]:
        out.print(f"  {item['from_hours']:>3}-{item['to_hours']:<3} h  {item['instruction']}")


def register(app: typer.Typer) -> None:
    app.command("screen")(screen_command)
    app.command("plan")(plan_command)
    app.command("evidence")(evidence_command)
