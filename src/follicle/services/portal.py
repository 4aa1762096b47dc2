"""The patient's portal: their plan in plain words, appointments, what to do before the next
session and after the last one, released progress, consents, preferences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.records import audit
from follicle.records.files import ImageStore
from follicle.records.models import (
    AdverseEvent,
    Appointment,
    AppointmentRequest,
    Clinic,
    Image,
    Measurement,
    Patient,
    Plan,
    SessionRecord,
    utcnow,
)
from follicle.services.actors import Actor
from follicle.services.appointment_requests import request_view
from follicle.services.appointments import HOUR, appointment_view, patient_notice
from follicle.services.authz import Permission, authorize
from follicle.services.commands import ContactDetails
from follicle.services.common import audit_read, audit_write
from follicle.services.consents import valid_consents
from follicle.services.database import Database
from follicle.services.errors import NotFound
from follicle.services.images import image_view, measurement_view
from follicle.services.messages import OPT_OUT_KINDS, clinic_phone
from follicle.services.patients import apply_changes, contact_of

HOURLY_UNTIL_HOURS = 72  # aftercare is shown hour by hour for three days, then day by day


@dataclass(frozen=True)
class AftercareStep:
    starts: datetime
    ends: datetime
    instruction: str
    state: str  # done | now | next


@dataclass
class PortalHome:
    patient_id: str
    given_name: str
    clinic_name: str
    time_zone: str
    plan: dict[str, Any] | None = None
    plan_status: str | None = None
    hold_reason: str | None = None
    #: each with ``patient_may_cancel``: before the clinic's notice (``cancel_notice_hours``)
    upcoming: list[dict[str, Any]] = field(default_factory=list)
    cancel_notice_hours: int = 0
    #: the number the portal tells the patient to call (None: the clinic gave none)
    clinic_phone: str | None = None
    preparation: list[dict[str, Any]] = field(default_factory=list)
    consents_needed: list[str] = field(default_factory=list)
    sessions_done: int = 0
    last_session_at: datetime | None = None
    email: str | None = None
    phone: str | None = None
    education_opt_in: bool = False
    updates_opt_in: bool = False
    message_opt_outs: tuple[str, ...] = ()
    problems: list[dict[str, Any]] = field(default_factory=list)  # see _problem_view
    #: visits the patient asked for that the clinic has not answered yet
    requests: list[dict[str, Any]] = field(default_factory=list)


def _own_patient(session: Session, actor: Actor) -> Patient:
    authorize(actor, Permission.PORTAL_VIEW)
    patient = session.get(Patient, actor.patient_id) if actor.patient_id else None
    if patient is None or patient.voided_at is not None:
        raise NotFound
    authorize(actor, Permission.PATIENT_READ, clinic_id=patient.clinic_id, patient_id=patient.id)
    return patient


def _current_plan(session: Session, patient_id: str) -> Plan | None:
    return session.scalars(
        select(Plan)
        .where(
            Plan.patient_id == patient_id,
            Plan.voided_at.is_(None),
            # (a stopped plan once approved: the patient is told it stopped; a proposal
            # stopped before approval they never saw)
            Plan.status.in_(("approved", "on_hold", "completed"))
            | ((Plan.status == "stopped") & Plan.approved_at.is_not(None)),
        )
        .order_by(Plan.created_at.desc(), Plan.id.desc())
    ).first()


def _last_session(session: Session, patient_id: str) -> SessionRecord | None:
    return session.scalars(
        select(SessionRecord)
        .where(SessionRecord.patient_id == patient_id, SessionRecord.voided_at.is_(None))
        .order_by(SessionRecord.performed_at.desc())
    ).first()


def clinic_contact(db: Database, actor: Actor) -> str | None:
    """The number the patient's clinic asks them to call (None: it gave none)."""
    with db.transaction() as session:
        patient = _own_patient(session, actor)
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None
        return clinic_phone(clinic)


def portal_home(db: Database, actor: Actor) -> PortalHome:
    with db.transaction() as session:
        patient = _own_patient(session, actor)
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None
        zone = ZoneInfo(clinic.time_zone)
        home = PortalHome(
            patient.id,
            patient.given_name,
            clinic.name,
            clinic.time_zone,
            email=patient.email,
            phone=patient.phone,
            education_opt_in=patient.education_opt_in,
            updates_opt_in=patient.updates_opt_in,
            message_opt_outs=tuple(patient.message_opt_outs or ()),
            clinic_phone=clinic_phone(clinic),
        )
        plan = _current_plan(session, patient.id)
        if plan is not None:
            home.plan = plan.document
            home.plan_status = plan.status
            home.hold_reason = plan.hold_reason
            home.preparation = list(plan.document.get("preparation", []))
        now = utcnow()
        upcoming = session.scalars(
            select(Appointment)
            .where(
                Appointment.patient_id == patient.id,
                Appointment.status == "booked",
                Appointment.starts_at >= now,
            )
            .order_by(Appointment.starts_at)
        )
        notice = patient_notice(clinic)
        home.cancel_notice_hours = round(notice / HOUR)
        home.upcoming = [
            appointment_view(a, zone) | {"patient_may_cancel": now <= a.starts_at - notice}
            for a in upcoming
        ]
        home.consents_needed = sorted(
            {"treatment", "photo_use"} - valid_consents(session, patient.clinic_id, patient.id)
        )
        done = list(
            session.scalars(
                select(SessionRecord.performed_at).where(
                    SessionRecord.patient_id == patient.id, SessionRecord.voided_at.is_(None)
                )
            )
        )
        home.sessions_done = len(done)
        home.last_session_at = max(done) if done else None
        events = session.scalars(
            select(AdverseEvent)
            .where(AdverseEvent.patient_id == patient.id, AdverseEvent.voided_at.is_(None))
            .order_by(AdverseEvent.created_at.desc(), AdverseEvent.id)
        )
        home.problems = [_problem_view(e, actor) for e in events]
        home.requests = [
            request_view(r, zone)
            for r in session.scalars(
                select(AppointmentRequest)
                .where(
                    AppointmentRequest.patient_id == patient.id,
                    AppointmentRequest.status == "open",
                )
                .order_by(AppointmentRequest.created_at)
            )
        ]
        audit.append(
            session,
            actor=actor.audit_name,
            action="portal.view",
            resource_type="patient",
            resource_id=patient.id,
            clinic_id=patient.clinic_id,
            client_address=actor.client_address,
            detail={
                "appointments": [a["id"] for a in home.upcoming],
                "adverse_events": [p["id"] for p in home.problems],
                "appointment_requests": [r["id"] for r in home.requests],
            },
        )
        return home


def _problem_view(event: AdverseEvent, actor: Actor) -> dict[str, Any]:
    """A problem on the patient's record as the portal shows it: what it was (in the words
    they reported it in, when they did), and whether the clinic has seen and closed it. The
    clinic's notes are for the clinic; the patient's own record export holds them."""
    by_you = event.reported_by_id == actor.user_id
    return {
        "id": event.id,
        "category": (event.reported_category or event.category) if by_you else event.category,
        "by_you": by_you,
        "reported_at": event.created_at.isoformat(),
        "status": "closed"
        if event.status == "cleared"
        else ("reviewed" if event.graded_at else "received"),
        "reviewed_at": event.graded_at.isoformat() if event.graded_at else None,
        "closed_at": event.cleared_at.isoformat() if event.cleared_at else None,
    }


def aftercare(db: Database, actor: Actor, now: datetime | None = None) -> list[AftercareStep]:
    """The last session's aftercare as steps in time, marking what applies now."""
    now = now or utcnow()
    with db.transaction() as session:
        patient = _own_patient(session, actor)
        last = _last_session(session, patient.id)
        plan = session.get(Plan, last.plan_id) if last else None
        if last is None or plan is None:
            return []
        steps = []
        for item in plan.document.get("aftercare", []):
            starts = last.performed_at + timedelta(hours=int(item["from_hours"]))
            ends = last.performed_at + timedelta(hours=int(item["to_hours"]))
            state = "done" if ends <= now else ("now" if starts <= now else "next")
            steps.append(AftercareStep(starts, ends, str(item["instruction"]), state))
        audit_read(
            session,
            actor,
            "portal.aftercare",
            "session_record",
            patient.clinic_id,
            [last.id],
            patient.id,
        )
        return sorted(steps, key=lambda s: (s.starts, s.ends))


def progress(db: Database, actor: Actor) -> dict[str, Any]:
    """What a clinician has released: images and the measurements made on them."""
    with db.transaction() as session:
        patient = _own_patient(session, actor)
        released = list(
            session.scalars(
                select(Image)
                .where(
                    Image.patient_id == patient.id,
                    Image.released_to_patient.is_(True),
                    Image.voided_at.is_(None),
                )
                .order_by(Image.taken_at)
            )
        )
        measured = list(
            session.scalars(
                select(Measurement)
                .where(
                    Measurement.image_id.in_([i.id for i in released]),
                    Measurement.voided_at.is_(None),
                )
                .order_by(Measurement.measured_at)
            )
        )
        audit_read(
            session,
            actor,
            "portal.progress",
            "image",
            patient.clinic_id,
            [i.id for i in released] + [m.id for m in measured],
            patient.id,
        )
        return {
            "images": [image_view(i) for i in released],
            "measurements": [measurement_view(m) for m in measured],
        }


def released_image(
    db: Database, store: ImageStore, actor: Actor, image_id: str
) -> tuple[bytes, str]:
    with db.transaction() as session:
        patient = _own_patient(session, actor)
        image = session.get(Image, image_id)
        if (
            image is None
            or image.patient_id != patient.id
            or not image.released_to_patient
            or image.voided_at is not None
        ):
            raise NotFound
        audit_read(
            session, actor, "portal.image", "image", patient.clinic_id, [image.id], patient.id
        )
        return store.get(image.content_sha256, image.media_type), image.media_type


def set_contact(db: Database, actor: Actor, contact: ContactDetails) -> None:
    """The patient's own email address and phone number, as the clinic reaches them (their
    portal still signs in with its own address): messages not sent yet go to the new ones,
    and the audit keeps the old."""
    wanted = contact_of(contact.email, contact.phone)
    with db.transaction() as session:
        patient = _own_patient(session, actor)
        changed = {k: v for k, v in wanted.items() if getattr(patient, k) != v}
        if changed:
            apply_changes(session, actor, patient, changed)


def set_preferences(
    db: Database,
    actor: Actor,
    education: bool,
    updates: bool,
    opt_outs: Iterable[str] | None = None,
) -> None:
    """Opt in to education and updates (marketing: off unless chosen), and out of clinical
    messages by kind (reminders, aftercare, review); notices of a changed booking always go."""
    chosen = sorted(set(opt_outs or ()))
    unknown = [k for k in chosen if k not in OPT_OUT_KINDS]
    if unknown:
        raise InputInvalid(
            [FieldError("/message_opt_outs", f"unknown kind {k!r}") for k in unknown]
        )
    with db.transaction() as session:
        patient = _own_patient(session, actor)
        patient.education_opt_in = education
        patient.updates_opt_in = updates
        patient.message_opt_outs = chosen
        audit_write(
            session,
            actor,
            "patient.preferences",
            "patient",
            patient.id,
            patient.clinic_id,
            {"education": education, "updates": updates, "message_opt_outs": chosen},
        )


def local(moment: datetime, time_zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(time_zone))
