"""The ``follicle`` command (contracts §6)."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from follicle import cli_clinic, cli_trichoscopy
from follicle.errors import OperatorError
from follicle.settings import Mode, Settings, load_settings

if TYPE_CHECKING:
    from follicle.services.database import Database

# The database layers load only for the commands that need them, so `follicle screen` starts
# quickly.

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Follicle: a clinic system for scalp microneedling in hair loss.",
)
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")
app.add_typer(audit_app, name="audit")
export_app = typer.Typer(no_args_is_help=True, help="Exports for research and other systems.")
app.add_typer(export_app, name="export")
import_app = typer.Typer(no_args_is_help=True, help="Imports of Follicle's own exports.")
app.add_typer(import_app, name="import")
cli_clinic.register(app)
cli_trichoscopy.register(app)
out = Console(soft_wrap=True)


class CommandFailed(Exception):
    """Stop with one line on stderr and exit status 2."""


def _database(settings: Settings) -> Database:
    from follicle.records.db import check_reachable
    from follicle.services.database import Database

    db = Database.from_settings(settings)
    check_reachable(db.engine)
    return db


def _require_current_schema(db: Database) -> None:
    from follicle.records import migrate as migrations

    current = migrations.current_revision(db.engine)
    if current != migrations.head_revision():
        raise CommandFailed(
            f"the database schema is at {current or 'nothing'}, not "
            f"{migrations.head_revision()}: run `follicle migrate` first"
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app and the API."""
    import uvicorn

    from follicle.web.app import create_app
    from follicle.web.logs import configure_logging

    settings = load_settings()
    db = _database(settings)
    _require_current_schema(db)
    web_app = create_app(settings, db)
    # Everything loaded so far lives as long as the process: move it out of the collector's
    # sight, so full collections do not rescan it in the middle of requests (p95 of the
    # worklist halved in bench/bench_scale.py).
    gc.collect()
    gc.freeze()
    if settings.mode is Mode.demo:
        _print_demo_banner(host, port)
    configure_logging()
    uvicorn.run(
        web_app,
        host=host,
        port=port,
        log_config=None,  # keep the JSON handlers configure_logging set
        access_log=False,  # RequestLog writes the access lines, without ids in paths
        # Behind a proxy, the per-address sign-in limit must see the client, not the proxy.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


def _print_demo_banner(host: str, port: int) -> None:
    from follicle.services.demo import DEMO_PASSWORD

    out.print(
        f"\n[bold]Follicle demo[/bold] (synthetic data) at [link]http://{host}:{port}/login[/link]"
    )
    out.print(f"Password for every demo login: [bold]{DEMO_PASSWORD}[/bold]")
    out.print("  admin@demo.follicle        admin")
    out.print("  derm@demo.follicle         practitioner, dermatologist")
    out.print("  aesthetician@demo.follicle practitioner, licensed aesthetician")
    out.print("  desk@demo.follicle         front desk")
    out.print("  patient1@demo.follicle … patient20@demo.follicle   patient portal")
    out.print(
        "  admin@other.follicle, derm@other.follicle, patient1@other.follicle   a second clinic"
    )
    out.print(
        f"JSON API: [link]http://{host}:{port}/api/v1/openapi.json[/link] "
        "(POST /api/v1/auth/token for a bearer token)"
    )
    out.print(
        "Mail to patients: `FOLLICLE_MODE=demo FOLLICLE_DATA_DIR=var .venv/bin/follicle worker "
        "--once` writes what is due as .eml files in var/mail/ (or set FOLLICLE_SMTP_URL)."
    )
    out.print("Stop with Ctrl+C.\n")


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from follicle.records import migrate as migrations

    settings = load_settings()
    db = _database(settings)
    migrations.upgrade(db.engine)
    out.print(f"database schema at {migrations.current_revision(db.engine)}")


@app.command()
def demo() -> None:
    """Load the synthetic demo clinics (demo mode only; loading twice changes nothing)."""
    from follicle.records.files import ImageStore
    from follicle.services.actors import cli_actor
    from follicle.services.demo import load_demo

    settings = load_settings()
    if settings.mode is not Mode.demo:
        raise CommandFailed("demo data loads only in demo mode (set FOLLICLE_MODE=demo)")
    db = _database(settings)
    _require_current_schema(db)
    report = load_demo(db, cli_actor(), store=ImageStore(settings.image_dir))
    if report.created:
        out.print(
            f"demo loaded: {report.clinics} clinics, {report.users} logins, "
            f"{report.patients} patients"
        )
    else:
        out.print("demo already loaded; existing records kept")


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = False,
) -> None:
    """Send due reminders and notices from the outbox (FOLLICLE_SMTP_URL), with retries."""
    from follicle import worker as sender

    settings = load_settings()
    db = _database(settings)
    _require_current_schema(db)
    total = sender.run(settings, db, once, out.print)
    out.print(f"worker: {total}")
    if once and total.failed:
        raise CommandFailed(f"{total.failed} message(s) could not be sent; see the admin outbox")


@app.command()
def report(
    patient: Annotated[str, typer.Option("--patient", help="The patient's id.")],
    pdf: Annotated[Path, typer.Option("--pdf", help="PDF file to write.")],
    audience: Annotated[
        str, typer.Option("--audience", help="clinician (everything) or patient (plain words).")
    ] = "clinician",
) -> None:
    """Write a patient's progress report as a PDF (measurements, plots, sessions, events)."""
    from follicle.records.files import ImageStore
    from follicle.services import reports
    from follicle.services.actors import cli_actor
    from follicle.services.errors import NotFound
    from follicle.web.report_pdf import render_report_pdf

    if audience not in reports.AUDIENCES:
        raise CommandFailed(f"--audience must be one of: {', '.join(reports.AUDIENCES)}")
    settings = load_settings()
    db = _database(settings)
    _require_current_schema(db)
    try:
        context = reports.report_context(
            db, ImageStore(settings.image_dir), cli_actor(), patient, audience
        )
    except NotFound:
        raise CommandFailed(f"no patient with id {patient!r}") from None
    content = render_report_pdf(context)
    partial = pdf.with_name(pdf.name + ".part")
    partial.write_bytes(content)
    partial.replace(pdf)
    out.print(f"wrote {pdf} ({len(content) // 1024} KiB, {audience} version)")


@export_app.command("csv")
def export_csv(
    outdir: Annotated[Path, typer.Argument(help="Folder to write the CSV files into.")],
) -> None:
    """Research export: measurements.csv, sessions.csv, patient_outcomes.csv and
    data-dictionary.csv (pseudonymised)."""
    from follicle.services import exports
    from follicle.services.actors import cli_actor

    settings = load_settings()
    db = _database(settings)
    _require_current_schema(db)
    found = exports.research_export(db, cli_actor(), settings.resolved_secret_key())
    outdir.mkdir(parents=True, exist_ok=True)
    files = [(f.name, exports.research_file(f.name, found)) for f in exports.RESEARCH_FILES]
    for name, text in [*files, (exports.DICTIONARY_FILE, exports.dictionary_csv())]:
        partial = outdir / (name + ".part")
        partial.write_text(text, encoding="utf-8")
        partial.replace(outdir / name)
    out.print(
        f"wrote {len(found['measurements'])} measurements, {len(found['sessions'])} sessions "
        f"and {len(found['patient_outcomes'])} patient-reported outcomes to {outdir}/ "
        f"(with {exports.DICTIONARY_FILE})"
    )


def _write_atomically(path: Path, content: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(content)
    partial.replace(path)


@export_app.command("fhir")
def export_fhir(
    patient: Annotated[
        str | None, typer.Option("--patient", help="One patient's id (as the API shows it).")
    ] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Every patient (of --clinic, or of every clinic).")
    ] = False,
    clinic: Annotated[str | None, typer.Option("--clinic", help="A clinic's id.")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--out", help="Write here: .json for the bundle, .zip with the images."),
    ] = None,
) -> None:
    """FHIR R4B Bundle (collection) of one patient or the whole clinic; stdout by default."""
    from follicle.records.files import ImageStore
    from follicle.services import fhir_export
    from follicle.services.actors import cli_actor
    from follicle.services.errors import NotFound

    if bool(patient) == everyone:
        raise CommandFailed("give either --patient ID or --all")
    settings = load_settings()
    db = _database(settings)
    _require_current_schema(db)
    try:
        found = (
            fhir_export.export_patient(db, cli_actor(), patient)
            if patient
            else fhir_export.export_clinic(db, cli_actor(), clinic)
        )
    except NotFound:
        raise CommandFailed(
            f"no patient with id {patient!r}" if patient else f"no clinic {clinic!r}"
        ) from None
    if output is None:
        sys.stdout.write(fhir_export.bundle_text(found.bundle))
        return
    if output.suffix == ".zip":
        partial = output.with_name(output.name + ".part")
        with partial.open("wb") as target:
            fhir_export.write_zip(found, ImageStore(settings.image_dir), target)
        partial.replace(output)
    else:
        _write_atomically(output, fhir_export.bundle_text(found.bundle).encode())
    counts = fhir_export.resource_counts(found.bundle)
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    out.print(f"wrote {output}: {summary}")


@import_app.command("fhir")
def import_fhir(
    source: Annotated[Path, typer.Argument(help="bundle.json, or the .zip `export fhir` wrote.")],
) -> None:
    """Import Follicle's own FHIR export: all of it or nothing; existing records are refused."""
    import json
    import zipfile

    from follicle.records.files import ImageStore
    from follicle.services import fhir_import
    from follicle.services.actors import cli_actor

    settings = load_settings()
    db = _database(settings)
    _require_current_schema(db)
    files: dict[str, bytes] = {}
    try:
        if zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                names = archive.namelist()
                if "bundle.json" not in names:
                    raise CommandFailed(f"{source}: the archive has no bundle.json")
                raw = json.loads(archive.read("bundle.json"))
                files = {n: archive.read(n) for n in names if n.startswith("images/")}
        else:
            raw = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CommandFailed(f"{source}: cannot read it ({exc})") from None
    try:
        summary = fhir_import.import_bundle(
            db, ImageStore(settings.image_dir), cli_actor(), raw, files
        )
    except fhir_import.ImportRefused as exc:
        raise cli_clinic.InputProblem(
            [f"{source}: nothing imported"] + [f"{e.pointer}: {e.message}" for e in exc.errors]
        ) from None
    created = ", ".join(f"{n} {kind}" for kind, n in summary.created.items()) or "nothing"
    out.print(f"imported {len(summary.patients)} patient(s): {created}")


@app.command("backup")
def backup_command(path: Annotated[Path, typer.Argument(help="New file to write.")]) -> None:
    """Write an online backup of the database to PATH."""
    from follicle.records import backup as backups

    settings = load_settings()
    _database(settings)
    backups.backup(settings.sqlalchemy_url, path)
    out.print(f"backup written to {path}")


@app.command("restore")
def restore_command(path: Annotated[Path, typer.Argument(help="Backup file to restore.")]) -> None:
    """Replace the database with a backup made by `follicle backup`."""
    from follicle.records import backup as backups

    settings = load_settings()
    if settings.is_sqlite:
        settings.prepare_data_dir()
    else:
        _database(settings)
    kept = backups.restore(settings.sqlalchemy_url, path)
    out.print(
        f"restored from {path}" + (f"; the replaced database is kept at {kept}" if kept else "")
    )


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; name the first entry that breaks it."""
    from follicle.records.audit import verify_chain

    settings = load_settings()
    db = _database(settings)
    with db.transaction() as session:
        report = verify_chain(session)
    if report.ok:
        out.print(f"audit log intact: {report.entries_checked} entries verified")
        return
    raise CommandFailed(f"audit log broken at entry {report.first_bad_seq}: {report.problem}", 1)


def main() -> None:
    """Run the command; problems the operator can fix end with one line and exit status 2."""
    from typer._click.exceptions import ClickException  # typer carries its own click

    try:
        result = app(standalone_mode=False)
    except OperatorError as exc:
        print(f"follicle: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except cli_clinic.InputProblem as exc:
        for line in exc.lines:
            print(f"follicle: error: {line}", file=sys.stderr)
        sys.exit(2)
    except CommandFailed as exc:
        print(f"follicle: error: {exc.args[0]}", file=sys.stderr)
        sys.exit(exc.args[1] if len(exc.args) > 1 else 2)
    except ClickException as exc:  # usage errors: a bad option or argument
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
