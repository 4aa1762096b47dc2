"""Research exports: one row per trichoscopy measurement, one per session, and the data
dictionary that says what every column means.

Patients appear under a pseudonym (a keyed hash of their id, stable across exports with the
same secret key, not reversible without it); names, dates of birth and contact details never
leave. Ages are whole years at the measurement or session; dates stay (follow-up intervals are
the point of the data).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.clinic.catalogue import load_catalogue
from follicle.records.models import (
    AdverseEvent,
    Clinic,
    DermoscopeScale,
    Image,
    Intake,
    Measurement,
    Patient,
    PatientOutcome,
    Plan,
    SessionRecord,
    UserAccount,
    image_warnings_of,
)
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.common import audit_read, clinic_day
from follicle.services.database import Database
from follicle.services.patients import age_on

DICTIONARY_VERSION = "follicle.research-export/1"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # string, integer, number, date
    unit: str  # UCUM where it has one, "" otherwise
    meaning: str


def _about_the_patient(day_of: str) -> tuple[Column, ...]:
    """The columns every file starts with after its id (``_Cohort.describe`` fills them)."""
    return (
        Column("patient", "string", "", "Pseudonym of the patient: the same in every export."),
        Column("clinic", "string", "", "The clinic's short name (slug)."),
        Column("sex_at_birth", "string", "", "female, male or intersex (intake)."),
        Column("age_years", "integer", "a", f"Age in whole years on the day of the {day_of}."),
        Column(
            "working_diagnosis",
            "string",
            "",
            "From the current intake (androgenetic_alopecia, alopecia_areata, …).",
        ),
    )


def _in_the_course(of: str) -> tuple[Column, ...]:
    """Where in the course a row falls (``_Cohort.course`` fills them)."""
    return (
        Column(
            "days_since_first_session",
            "integer",
            "d",
            f"Days from the patient's first session to the {of}; negative before it; empty "
            "if no session was recorded.",
        ),
        Column("sessions_before", "integer", "{count}", f"Sessions performed before the {of}."),
    )


MEASUREMENT_COLUMNS = (
    Column("measurement_id", "string", "", "Opaque id of the measurement (one image analysed)."),
    *_about_the_patient("measurement"),
    Column("site", "string", "", "The marked scalp site the image shows (e.g. vertex)."),
    Column("measured_on", "date", "", "Day the image was taken, at the clinic (ISO 8601)."),
    *_in_the_course("measurement"),
    Column("hair_count", "integer", "{count}", "Hairs counted (≥ 50 µm of shaft in the frame)."),
    Column("area_cm2", "number", "cm2", "Area of skin in the image."),
    Column("density_per_cm2", "number", "/cm2", "hair_count / area_cm2."),
    Column("terminal_count", "integer", "{count}", "Hairs at or above the vellus threshold."),
    Column("vellus_count", "integer", "{count}", "Hairs below the vellus threshold."),
    Column("terminal_density_per_cm2", "number", "/cm2", "terminal_count / area_cm2."),
    Column("vellus_share", "number", "1", "vellus_count / hair_count (0-1); empty if no hair."),
    Column("vellus_threshold_um", "number", "um", "Shaft diameter below which a hair is vellus."),
    Column("mean_diameter_um", "number", "um", "Mean shaft diameter of the counted hairs."),
    Column("diameter_cv", "number", "1", "Coefficient of variation of the diameters (0-1)."),
    Column("analyser_version", "string", "", "Version of the trichoscopy analyser."),
    Column("um_per_px", "number", "um/{pixel}", "Scale the image was read at."),
    Column(
        "scale_setting",
        "string",
        "",
        "The dermoscope setting whose measured scale that was; empty if it was typed in.",
    ),
    Column(
        "image_warnings",
        "string",
        "",
        "What in the image may cost the count (overexposed, out of focus, hairs showing only "
        "faintly; saved in greyscale, with JPEG colour at reduced resolution or strongly "
        "compressed): the warnings, "
        "separated by ' | '; empty if none.",
    ),
)

SESSION_COLUMNS = (
    Column("session_id", "string", "", "Opaque id of the session record."),
    *_about_the_patient("session"),
    Column("performed_on", "date", "", "Day of the session, at the clinic (ISO 8601)."),
    Column("session_number", "integer", "{count}", "1 for the patient's first session, …"),
    Column("plan_depth_mm", "number", "mm", "Needle depth of the approved plan."),
    Column("max_depth_mm", "number", "mm", "Deepest depth used in any region this session."),
    Column("regions", "string", "", "Scalp regions treated, separated by ';'."),
    Column("endpoint", "string", "", "Clinical endpoint reached (e.g. mild_erythema)."),
    Column("pain_score", "integer", "{score}", "Pain 0-10 as the patient reported it."),
    Column("device", "string", "", "Device used (maker, model, needles)."),
    Column("lot_number", "string", "", "Cartridge lot used."),
    Column("adverse_events", "integer", "{count}", "Adverse events reported against this session."),
    Column(
        "serious_adverse_events",
        "integer",
        "{count}",
        "Of those, serious ones (the evidence catalogue's rule).",
    ),
)


OUTCOME_COLUMNS = (
    Column("outcome_id", "string", "", "Opaque id of the answer."),
    *_about_the_patient("answer"),
    Column("answered_on", "date", "", "Day of the answer, at the clinic (ISO 8601)."),
    *_in_the_course("answer"),
    Column(
        "change_score",
        "integer",
        "{score}",
        "The patient's answer to the evidence catalogue's patient-outcome question (how the "
        "amount of hair has changed since treatment began): -3 greatly decreased … 0 no "
        "change … +3 greatly increased.",
    ),
    Column("answer", "string", "", "The answer in the words the patient chose from."),
    Column(
        "asked_by",
        "string",
        "",
        "portal (the patient answered alone) or practitioner (asked at a visit).",
    ),
)


@dataclass(frozen=True)
class ResearchFile:
    name: str
    key: str  # in research_export's result
    columns: tuple[Column, ...]
    row_is: str  # what one row stands for


RESEARCH_FILES = (
    ResearchFile(
        "measurements.csv", "measurements", MEASUREMENT_COLUMNS, "trichoscopy measurement"
    ),
    ResearchFile("sessions.csv", "sessions", SESSION_COLUMNS, "session"),
    ResearchFile(
        "patient_outcomes.csv",
        "patient_outcomes",
        OUTCOME_COLUMNS,
        "answer to the patient-outcome question (free-text comments are left out)",
    ),
)
DICTIONARY_FILE = "data-dictionary.csv"


def research_file(name: str, found: dict[str, list[dict[str, Any]]]) -> str:
    """The CSV text of one of ``RESEARCH_FILES`` from ``research_export``'s result."""
    file = next(f for f in RESEARCH_FILES if f.name == name)
    return to_csv(found[file.key], file.columns)


def pseudonym(secret: str, patient_id: str) -> str:
    """A stable, keyed, one-way name for a patient.

    >>> pseudonym("key", "pat_1") == pseudonym("key", "pat_1") != pseudonym("other", "pat_1")
    True
    """
    digest = hmac.new(secret.encode(), patient_id.encode(), hashlib.sha256).hexdigest()
    return "p_" + digest[:16]


def _diagnoses(session: Session, patient_ids: set[str]) -> dict[str, str]:
    """Each patient's working diagnosis on their latest (current) intake."""
    found: dict[str, str] = {}
    for intake in session.scalars(
        select(Intake)
        .where(Intake.patient_id.in_(patient_ids), Intake.voided_at.is_(None))
        .order_by(Intake.created_at, Intake.id)
    ):
        found[intake.patient_id] = str(intake.document["hair_loss"]["working_diagnosis"])
    return found


@dataclass
class _Cohort:
    """The patients in scope and what every file says of them, so that a row of any file
    describes its patient the same way."""

    secret: str
    patients: dict[str, Patient]
    slugs: dict[str, str]
    zones: dict[str, ZoneInfo]
    diagnoses: dict[str, str]
    #: each patient's sessions, in time order
    performed: dict[str, list[datetime]] = field(default_factory=dict)

    def day(self, patient: Patient, at: datetime) -> date:
        return clinic_day(at, self.zones[patient.clinic_id])

    def describe(self, patient: Patient, on: date) -> dict[str, Any]:
        return {
            "patient": pseudonym(self.secret, patient.id),
            "clinic": self.slugs.get(patient.clinic_id, ""),
            "sex_at_birth": patient.sex_at_birth,
            "age_years": age_on(patient.date_of_birth, on),
            "working_diagnosis": self.diagnoses.get(patient.id, ""),
        }

    def course(self, patient: Patient, at: datetime) -> dict[str, Any]:
        """Where in the course a measurement or an answer falls."""
        sessions = self.performed.get(patient.id, [])
        first = self.day(patient, sessions[0]) if sessions else None
        return {
            "days_since_first_session": (self.day(patient, at) - first).days if first else "",
            "sessions_before": bisect_left(sessions, at),
        }


def _cohort(session: Session, actor: Actor, secret: str) -> _Cohort:
    scope = [] if actor.role == "cli" else [Patient.clinic_id == actor.clinic_id]
    patients = {
        p.id: p for p in session.scalars(select(Patient).where(Patient.voided_at.is_(None), *scope))
    }
    clinics = session.execute(select(Clinic.id, Clinic.slug, Clinic.time_zone)).all()
    return _Cohort(
        secret,
        patients,
        slugs={clinic_id: slug for clinic_id, slug, _ in clinics},
        zones={clinic_id: ZoneInfo(zone) for clinic_id, _, zone in clinics},
        diagnoses=_diagnoses(session, set(patients)),
    )


def research_export(db: Database, actor: Actor, secret: str) -> dict[str, list[dict[str, Any]]]:
    """Every measurement, session and patient-reported outcome the actor's clinic holds
    (every clinic for the CLI), keyed as in ``RESEARCH_FILES``."""
    authorize(actor, Permission.RESEARCH_EXPORT)
    with db.transaction() as session:
        cohort = _cohort(session, actor, secret)
        records = [
            r
            for r in session.scalars(
                select(SessionRecord)
                .where(SessionRecord.voided_at.is_(None))
                .order_by(SessionRecord.performed_at, SessionRecord.id)
            )
            if r.patient_id in cohort.patients
        ]
        for record in records:  # in time order
            cohort.performed.setdefault(record.patient_id, []).append(record.performed_at)
        found = {
            "measurements": _measurement_rows(session, actor, cohort),
            "sessions": _session_rows(session, cohort, records),
            "patient_outcomes": _outcome_rows(session, cohort),
        }
        audit_read(
            session,
            actor,
            "export.research_csv",
            "measurement",
            actor.clinic_id or "",
            [],
        )
        return found


def _session_rows(
    session: Session, cohort: _Cohort, records: list[SessionRecord]
) -> list[dict[str, Any]]:
    plans = {p.id: p for p in session.scalars(select(Plan))}
    events: dict[str, tuple[int, int]] = {}
    for record_id, serious in session.execute(
        select(AdverseEvent.session_record_id, AdverseEvent.serious).where(
            AdverseEvent.voided_at.is_(None), AdverseEvent.session_record_id.is_not(None)
        )
    ).all():
        key = str(record_id)
        total, grave = events.get(key, (0, 0))
        events[key] = (total + 1, grave + int(serious))
    numbers: dict[str, int] = {}
    rows = []
    for record in records:
        patient = cohort.patients[record.patient_id]
        numbers[patient.id] = numbers.get(patient.id, 0) + 1
        performed_on = cohort.day(patient, record.performed_at)
        plan = plans.get(record.plan_id)
        depths = record.depth_mm_by_region
        total, grave = events.get(record.id, (0, 0))
        rows.append(
            {
                "session_id": record.id,
                **cohort.describe(patient, performed_on),
                "performed_on": performed_on.isoformat(),
                "session_number": numbers[patient.id],
                "plan_depth_mm": plan.needle_depth_mm if plan else "",
                "max_depth_mm": max(depths.values()) if depths else "",
                "regions": ";".join(sorted(depths)),
                "endpoint": record.endpoint,
                "pain_score": "" if record.pain_score is None else record.pain_score,
                "device": record.device_name,
                "lot_number": record.cartridge_lot,
                "adverse_events": total,
                "serious_adverse_events": grave,
            }
        )
    return rows


def _measurement_rows(session: Session, actor: Actor, cohort: _Cohort) -> list[dict[str, Any]]:
    images_in_scope = [] if actor.role == "cli" else [Image.clinic_id == actor.clinic_id]
    images_in_scope.append(Image.kind == "trichoscopy")  # (what measurements are of)
    read_at = {
        image_id: (um_per_px, setting)
        for image_id, um_per_px, setting in session.execute(
            select(Image.id, Image.um_per_px, DermoscopeScale.setting)
            .outerjoin(DermoscopeScale, DermoscopeScale.id == Image.dermoscope_scale_id)
            .where(*images_in_scope)
        ).all()
    }
    rows = []
    for m in session.scalars(
        select(Measurement)
        .where(Measurement.voided_at.is_(None))
        .order_by(Measurement.measured_at, Measurement.id)
    ):
        patient = cohort.patients.get(m.patient_id)
        if patient is None:
            continue
        day = cohort.day(patient, m.measured_at)
        um_per_px, setting = read_at.get(m.image_id, (None, None))
        rows.append(
            {
                "measurement_id": m.id,
                **cohort.describe(patient, day),
                "site": m.site or "",
                "measured_on": day.isoformat(),
                **cohort.course(patient, m.measured_at),
                "hair_count": m.hair_count,
                "area_cm2": round(m.area_cm2, 4),
                "density_per_cm2": round(m.density_per_cm2, 1),
                "terminal_count": m.terminal_count,
                "vellus_count": m.vellus_count,
                "terminal_density_per_cm2": round(m.terminal_count / m.area_cm2, 1)
                if m.area_cm2
                else "",
                "vellus_share": round(m.vellus_count / m.hair_count, 3) if m.hair_count else "",
                "vellus_threshold_um": m.vellus_threshold_um,
                "mean_diameter_um": ""
                if m.mean_diameter_um is None
                else round(m.mean_diameter_um, 1),
                "diameter_cv": "" if m.diameter_cv is None else round(m.diameter_cv, 3),
                "analyser_version": m.analyser_version,
                "um_per_px": "" if um_per_px is None else round(um_per_px, 4),
                "scale_setting": setting or "",
                "image_warnings": " | ".join(image_warnings_of(m.result)),
            }
        )
    return rows


def _outcome_rows(session: Session, cohort: _Cohort) -> list[dict[str, Any]]:
    """The patients' answers, without their free-text comments (a comment may name someone)."""
    answers = load_catalogue().patient_outcome.answers
    rows = []
    for outcome, role in session.execute(
        select(PatientOutcome, UserAccount.role)
        .join(UserAccount, UserAccount.id == PatientOutcome.recorded_by_id)
        .order_by(PatientOutcome.answered_at, PatientOutcome.id)
    ).all():
        patient = cohort.patients.get(outcome.patient_id)
        if patient is None:
            continue
        day = cohort.day(patient, outcome.answered_at)
        rows.append(
            {
                "outcome_id": outcome.id,
                **cohort.describe(patient, day),
                "answered_on": day.isoformat(),
                **cohort.course(patient, outcome.answered_at),
                "change_score": outcome.change_score,
                "answer": answers[outcome.change_score],
                "asked_by": "portal" if role == "patient" else "practitioner",
            }
        )
    return rows


#: What a spreadsheet may run as a formula at the start of a cell: OWASP's CSV injection page
#: names the tab and the carriage return besides = + - @, ASVS 5.0 (1.2.10) the tab and NUL
#: (a NUL never gets in: commands.nul_at refuses it).
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA) else value


def csv_text(rows: list[dict[str, Any]], names: tuple[str, ...] | list[str]) -> str:
    """CSV with a header row. A text cell starting with = + - @, a tab or a carriage return
    could run as a formula in a spreadsheet (CSV injection), so it gets a leading apostrophe.

    >>> csv_text([{"a": "=1+1", "b": 2, "c": "\\t-2"}], ["a", "b", "c"]).splitlines()
    ['a,b,c', "'=1+1,2,'\\t-2"]
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(names), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _inert(v) for k, v in row.items()})
    return out.getvalue()


def to_csv(rows: list[dict[str, Any]], columns: tuple[Column, ...]) -> str:
    return csv_text(rows, [c.name for c in columns])


def dictionary_rows() -> list[dict[str, str]]:
    return [
        {"file": f.name, "column": c.name, "type": c.kind, "unit": c.unit, "meaning": c.meaning}
        for f in RESEARCH_FILES
        for c in f.columns
    ]


def dictionary_csv() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=["file", "column", "type", "unit", "meaning"], lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(dictionary_rows())
    return out.getvalue()


def dictionary_markdown() -> str:
    """docs/data-dictionary.md (generated: `make docs`; a test keeps it current)."""
    lines = [
        "# Research export: data dictionary",
        "",
        f"`{DICTIONARY_VERSION}` — `follicle export csv OUTDIR` (or Admin → Research export)",
        "writes "
        + ", ".join(f"`{f.name}` (one row per {f.row_is})" for f in RESEARCH_FILES)
        + f" and `{DICTIONARY_FILE}` (this table). Patients appear only under a pseudonym (a",
        "keyed hash of their id); no names, dates of birth or contact details. Units are UCUM",
        "codes.",
        "",
    ]
    for f in RESEARCH_FILES:
        lines += [f"## {f.name}", "", "| column | type | unit | meaning |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.kind} | {c.unit} | {c.meaning} |" for c in f.columns]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(dictionary_markdown(), end="")
