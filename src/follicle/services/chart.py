"""The patient chart: where the patient stands now, and everything that happened, in order.

One read, one audit entry naming every record shown. Each part appears only if the actor may
read it (front desk sees registration, consents and appointments, not clinical notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.orm import Session

from follicle.records.models import (
    AdverseEvent,
    Appointment,
    AppointmentRequest,
    Clinic,
    Consent,
    ConsentText,
    Image,
    Intake,
    Measurement,
    Patient,
    Plan,
    ScreeningResult,
    SessionRecord,
    UserAccount,
    utcnow,
)
from follicle.services.accounts import account_status
from follicle.services.actors import Actor
from follicle.services.adverse_events import event_view
from follicle.services.appointment_requests import request_view
from follicle.services.appointments import appointment_view
from follicle.services.authz import ROLE_PERMISSIONS, Permission, authorize
from follicle.services.common import audit_read, clinic_day
from follicle.services.consents import consent_view
from follicle.services.database import Database
from follicle.services.errors import NotFound
from follicle.services.images import image_view, measurement_view
from follicle.services.intakes import intake_view, screening_view
from follicle.services.patients import age_on, patient_view
from follicle.services.plans import plan_view
from follicle.services.sessions import session_view


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    title: str
    detail: str = ""
    anchor: str = ""


@dataclass
class Chart:
    patient: dict[str, Any]
    age_years: int
    time_zone: str
    status: dict[str, Any] = field(default_factory=dict)
    intakes: list[dict[str, Any]] = field(default_factory=list)
    screening: dict[str, Any] | None = None
    consents: list[dict[str, Any]] = field(default_factory=list)
    consent_valid: set[str] = field(default_factory=set)
    consent_texts: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: list[dict[str, Any]] = field(default_factory=list)
    appointments: list[dict[str, Any]] = field(default_factory=list)
    #: What the patient asked to have booked (open first, then answered).
    requests: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    voided: list[dict[str, Any]] = field(default_factory=list)  # entered in error, kept

    @property
    def current_plan(self) -> dict[str, Any] | None:
        return self.plans[-1] if self.plans else None

    @property
    def current_intake(self) -> dict[str, Any] | None:
        live = [i for i in self.intakes if not i["superseded_by"]]
        return live[-1] if live else None


def _may(actor: Actor, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(actor.role, frozenset())


@cache
def _rows_statement(model: Any, order: str, voided_too: bool = False) -> Select[Any]:
    """Built once per kind of record: building and keying a statement per query was a fifth
    of a chart view's time (bench/bench_api_load.py)."""
    table = model.__table__
    query = select(table).where(table.c.patient_id == bindparam("patient_id"))
    if "voided_at" in table.c and not voided_too:
        query = query.where(table.c.voided_at.is_(None))
    return query.order_by(table.c[order], table.c.id)


def _rows(
    session: Session, model: Any, patient_id: str, order: str, voided_too: bool = False
) -> list[Any]:
    """The patient's records of one kind as plain rows (attributes named as the model's).

    The chart only reads them: loading them as ORM objects (identity map, instance state) cost
    twice as much per query as the rows do, and a chart runs ten of these queries."""
    statement = _rows_statement(model, order, voided_too)
    return list(session.connection().execute(statement, {"patient_id": patient_id}))


def _live_and_voided(
    session: Session, model: Any, patient_id: str, order: str
) -> tuple[list[Any], list[Any]]:
    """The patient's records of one kind, and those of them voided (in one query)."""
    rows = _rows(session, model, patient_id, order, voided_too=True)
    return [r for r in rows if r.voided_at is None], [r for r in rows if r.voided_at is not None]


def _voided_view(kind: str, what: str, row: Any) -> dict[str, Any]:
    """A record entered in error, as the chart lists it: still shown, with who voided it and
    why, so that what was corrected stays visible."""
    return {
        "id": row.id,
        "kind": kind,
        "what": what,
        "voided_at": row.voided_at.isoformat(),
        "voided_by": row.voided_by_id,
        "reason": row.void_reason,
    }


# Every version of the clinic's consent texts, without their bodies: the chart names them.
_TEXT_VERSIONS = (
    select(ConsentText.id, ConsentText.kind, ConsentText.title, ConsentText.version_number)
    .where(ConsentText.clinic_id == bindparam("clinic_id"))
    .order_by(ConsentText.kind, ConsentText.version_number)
)
# The patient, their clinic's time zone and their portal account (at most one), in one round
# trip; the account's id is labelled so that it does not shadow the patient's.
_PATIENT = cast(Table, Patient.__table__)
_PATIENT_CLINIC_AND_PORTAL = (
    select(
        _PATIENT,
        Clinic.time_zone,
        UserAccount.id.label("account_id"),
        UserAccount.active,
        UserAccount.password_hash,
    )
    .join(Clinic, Clinic.id == _PATIENT.c.clinic_id)
    .outerjoin(UserAccount, UserAccount.patient_id == _PATIENT.c.id)
    .where(_PATIENT.c.id == bindparam("patient_id"))
)
_STAFF_NAMES = select(UserAccount.id, UserAccount.display_name).where(
    UserAccount.clinic_id == bindparam("clinic_id")
)


def patient_chart(db: Database, actor: Actor, patient_id: str, today: date | None = None) -> Chart:
    with db.transaction() as session:
        reads = session.connection()
        patient: Any = reads.execute(_PATIENT_CLINIC_AND_PORTAL, {"patient_id": patient_id}).first()
        if patient is None or patient.voided_at is not None:
            raise NotFound  # as load_patient does
        clinic_id = patient.clinic_id
        authorize(actor, Permission.PATIENT_READ, clinic_id=clinic_id, patient_id=patient.id)
        zone = ZoneInfo(patient.time_zone)
        today = today or datetime.now(zone).date()
        chart = Chart(patient_view(patient), age_on(patient.date_of_birth, today), zone.key)
        chart.names = dict(reads.execute(_STAFF_NAMES, {"clinic_id": clinic_id}).all())
        shown: list[str] = [patient.id]
        timeline = chart.timeline
        if _may(actor, Permission.INTAKE_READ):
            intakes = _rows(session, Intake, patient.id, "created_at")
            replaced = {i.amends_id: i.id for i in intakes if i.amends_id}
            chart.intakes = [intake_view(i, replaced.get(i.id)) for i in intakes]
            for intake in intakes:
                timeline.append(
                    TimelineItem(
                        intake.created_at,
                        "intake",
                        "Intake amended" if intake.amends_id else "Intake recorded",
                        intake.amend_reason or intake.working_diagnosis.replace("_", " "),
                        f"intake-{intake.id}",
                    )
                )
            shown += [i.id for i in intakes]
        if _may(actor, Permission.SCREENING_READ):
            results = _rows(session, ScreeningResult, patient.id, "created_at")
            live = chart.current_intake
            for result in results:
                timeline.append(
                    TimelineItem(
                        result.created_at,
                        "screening",
                        "Screened: " + result.decision.replace("_", " "),
                        f"rules {result.rules_version}",
                        "screening",
                    )
                )
            current = [r for r in results if live and r.intake_id == live["id"]]
            chart.screening = screening_view(current[-1]) if current else None
            shown += [r.id for r in results]
        if _may(actor, Permission.CONSENT_READ):
            published = reads.execute(_TEXT_VERSIONS, {"clinic_id": clinic_id})
            versions: dict[str, Any] = {v.id: v for v in published}
            texts = {v.kind: v for v in versions.values()}  # the newest version of each kind
            chart.consent_texts = {
                k: {"id": t.id, "title": t.title, "version_number": t.version_number}
                for k, t in texts.items()
            }
            signed = _rows(session, Consent, patient.id, "signed_at")
            rows = [(c, versions[c.consent_text_id]) for c in signed]
            chart.consents = [consent_view(c, t, texts.get(t.kind)) for c, t in rows]
            chart.consent_valid = {c["kind"] for c in chart.consents if c["valid"]}
            for consent, text in rows:
                timeline.append(
                    TimelineItem(
                        consent.signed_at,
                        "consent",
                        f"Consent signed: {text.kind.replace('_', ' ')} v{text.version_number}",
                        consent.signed_name,
                        "consents",
                    )
                )
                if consent.withdrawn_at:
                    timeline.append(
                        TimelineItem(
                            consent.withdrawn_at,
                            "consent",
                            f"Consent withdrawn: {text.kind.replace('_', ' ')}",
                            consent.withdrawn_reason or "",
                            "consents",
                        )
                    )
            shown += [c["id"] for c in chart.consents]
        if _may(actor, Permission.PLAN_READ):
            found = _rows(session, Plan, patient.id, "created_at")
            chart.plans = [plan_view(p) for p in found]
            for plan in found:
                timeline.append(
                    TimelineItem(
                        plan.created_at,
                        "plan",
                        "Plan proposed",
                        plan.indication.replace("_", " "),
                        f"plan-{plan.id}",
                    )
                )
                if plan.approved_at:
                    timeline.append(
                        TimelineItem(
                            plan.approved_at,
                            "plan",
                            "Plan approved",
                            f"{plan.needle_depth_mm} mm every {plan.interval_days} days, "
                            f"{plan.sessions_planned} sessions",
                            f"plan-{plan.id}",
                        )
                    )
            shown += [p.id for p in found]
        if _may(actor, Permission.APPOINTMENT_READ):
            booked = _rows(session, Appointment, patient.id, "starts_at")
            chart.appointments = [
                appointment_view(a, zone)
                | {
                    "by_patient": bool(a.status_changed_by_id)
                    and a.status_changed_by_id == patient.account_id
                }
                for a in booked
            ]
            shown += [a.id for a in booked]
            asked = _rows(session, AppointmentRequest, patient.id, "created_at")
            chart.requests = sorted(
                (
                    request_view(r, zone) | {"by_patient": r.requested_by_id == patient.account_id}
                    for r in reversed(asked)
                ),
                key=lambda r: r["status"] != "open",
            )
            shown += [r.id for r in asked]
        if _may(actor, Permission.SESSION_READ):
            done, voided = _live_and_voided(session, SessionRecord, patient.id, "performed_at")
            chart.sessions = [session_view(s) for s in done]
            chart.voided += [
                _voided_view(
                    "session", f"Session of {clinic_day(r.performed_at, zone).isoformat()}", r
                )
                for r in voided
            ]
            shown += [r.id for r in voided]
            for record in done:
                depth = max(record.depth_mm_by_region.values(), default=0)
                timeline.append(
                    TimelineItem(
                        record.performed_at,
                        "session",
                        "Session performed",
                        f"up to {depth} mm, {record.endpoint.replace('_', ' ')}, "
                        f"lot {record.cartridge_lot}",
                        f"session-{record.id}",
                    )
                )
            shown += [s.id for s in done]
        if _may(actor, Permission.IMAGE_READ):
            pictures = _rows(session, Image, patient.id, "taken_at")
            chart.images = [image_view(i) for i in pictures]
            shown += [i.id for i in pictures]
        if _may(actor, Permission.MEASUREMENT_READ):
            measured = _rows(session, Measurement, patient.id, "measured_at")
            chart.measurements = [measurement_view(m) for m in measured]
            for m in measured:
                timeline.append(
                    TimelineItem(
                        m.measured_at,
                        "measurement",
                        f"Trichoscopy ({(m.site or 'site').replace('_', ' ')})",
                        f"{m.hair_count} hairs, {m.density_per_cm2:.0f}/cm²",
                        "follow-up",
                    )
                )
            shown += [m.id for m in measured]
        if _may(actor, Permission.ADVERSE_EVENT_READ):
            events, voided = _live_and_voided(session, AdverseEvent, patient.id, "created_at")
            chart.events = [event_view(e) for e in events]
            chart.voided += [
                _voided_view(
                    "adverse event",
                    f"Adverse event: {e.category.replace('_', ' ')}, grade {e.grade}, "
                    f"onset {e.onset_on.isoformat()}",
                    e,
                )
                for e in voided
            ]
            shown += [e.id for e in voided]
            for event in events:
                timeline.append(
                    TimelineItem(
                        event.created_at,
                        "adverse_event",
                        f"Adverse event: {event.category.replace('_', ' ')}, grade {event.grade}"
                        + (" (serious)" if event.serious else ""),
                        event.description,
                        f"event-{event.id}",
                    )
                )
                if event.graded_at:
                    timeline.append(
                        TimelineItem(
                            event.graded_at,
                            "adverse_event",
                            "Adverse event graded",
                            f"reported as {(event.reported_category or '').replace('_', ' ')}, "
                            f"grade {event.reported_grade}: {event.grading_note or ''}",
                            f"event-{event.id}",
                        )
                    )
                if event.cleared_at:
                    timeline.append(
                        TimelineItem(
                            event.cleared_at,
                            "adverse_event",
                            "Adverse event cleared",
                            event.clearance_note or "",
                            f"event-{event.id}",
                        )
                    )
            shown += [e.id for e in events]
        timeline.sort(key=lambda item: item.at, reverse=True)
        chart.status = _status(chart)
        chart.status["portal"] = account_status(patient if patient.account_id else None)
        audit_read(session, actor, "chart.read", "patient", clinic_id, shown, patient.id)
    return chart


def _status(chart: Chart) -> dict[str, Any]:
    now = utcnow().isoformat()
    upcoming = [a for a in chart.appointments if a["status"] == "booked" and a["starts_at"] >= now]
    plan = chart.current_plan
    open_serious = [e for e in chart.events if e["serious"] and e["status"] == "open"]
    return {
        "decision": chart.screening["decision"] if chart.screening else None,
        "consents_valid": sorted(chart.consent_valid),
        "consents_needed": sorted({"treatment", "photo_use"} - chart.consent_valid),
        "plan_status": plan["status"] if plan else None,
        "hold_reason": plan["hold_reason"] if plan else None,
        "next_appointment": upcoming[0] if upcoming else None,
        "open_serious_events": len(open_serious),
        "sessions_done": len(chart.sessions),
        "sessions_planned": plan["plan"]["sessions"] if plan else None,
    }
