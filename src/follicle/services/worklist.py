"""What needs someone's attention today, beside the appointments: follow-up reviews due,
visits missed or cancelled by the patient and not booked again, open adverse events, plans on
hold or waiting for approval."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from follicle.records.models import (
    AdverseEvent,
    Appointment,
    AppointmentRequest,
    Clinic,
    Patient,
    Plan,
    UserAccount,
    utcnow,
)
from follicle.services.actors import Actor
from follicle.services.appointment_requests import KIND_WORDS
from follicle.services.authz import ROLE_PERMISSIONS, Permission, authorize
from follicle.services.common import audit_read, clinic_today
from follicle.services.database import Database
from follicle.services.errors import NotFound

DUE_SOON_DAYS = 7  # a review due within a week is shown, so it can be booked
#: A visit missed or cancelled by the patient stays on the list this long, unless one of its
#: kind is booked again.
REBOOK_DAYS = 30
#: Said of an open event a patient reported (graded in their own words) that no practitioner
#: has graded yet.
TO_GRADE = " (the patient's own grade: to grade)"


@dataclass(frozen=True)
class WorkItem:
    patient_id: str
    patient_name: str
    what: str
    detail: str
    serious: bool = False


@dataclass
class Worklist:
    follow_ups_due: list[WorkItem] = field(default_factory=list)
    to_rebook: list[WorkItem] = field(default_factory=list)
    #: Patients asking for a visit (from the portal, or when they cancelled one).
    asked_to_book: list[WorkItem] = field(default_factory=list)
    open_events: list[WorkItem] = field(default_factory=list)
    plans_on_hold: list[WorkItem] = field(default_factory=list)
    plans_to_approve: list[WorkItem] = field(default_factory=list)


def worklist(db: Database, actor: Actor, today: date | None = None) -> Worklist:
    authorize(actor, Permission.PATIENT_LIST)
    allowed = ROLE_PERMISSIONS.get(actor.role, frozenset())
    result = Worklist()
    with db.transaction() as session:
        clinic = session.get(Clinic, actor.clinic_id) if actor.clinic_id else None
        if clinic is None:
            raise NotFound
        today = today or clinic_today(session, clinic.id)
        soon = today + timedelta(days=DUE_SOON_DAYS)
        # Only the plans that make a work item, filtered by the database (a clinic may hold
        # thousands of plans; bench/bench_scale.py).
        wanted = [and_(Plan.status == "approved", Plan.review_on <= soon)]
        if Permission.PLAN_READ in allowed:
            wanted.append(Plan.status == "on_hold")
        if Permission.PLAN_APPROVE in allowed:
            wanted.append(Plan.status == "proposed")
        rows = session.execute(
            select(Plan, Patient.given_name, Patient.family_name)
            .join(Patient, Patient.id == Plan.patient_id)
            .where(
                Plan.clinic_id == clinic.id,
                Plan.voided_at.is_(None),
                Patient.voided_at.is_(None),
                or_(*wanted),
            )
            .order_by(Plan.review_on, Plan.created_at)
        ).all()
        shown: list[str] = []
        for plan, given_name, family_name in rows:
            name = f"{given_name} {family_name}"
            if plan.status == "approved":
                overdue = " (overdue)" if plan.review_on and plan.review_on < today else ""
                result.follow_ups_due.append(
                    WorkItem(
                        plan.patient_id, name, "Review", f"due {plan.review_on:%d %b}{overdue}"
                    )
                )
            elif plan.status == "on_hold":
                result.plans_on_hold.append(
                    WorkItem(plan.patient_id, name, "Plan on hold", plan.hold_reason or "", True)
                )
            else:
                result.plans_to_approve.append(
                    WorkItem(
                        plan.patient_id,
                        name,
                        "Plan to approve",
                        f"{plan.needle_depth_mm} mm, {plan.sessions_planned} sessions",
                    )
                )
            shown.append(plan.id)
        shown += _to_rebook(session, clinic, result, utcnow())
        shown += _asked_to_book(session, clinic, result, today)
        if Permission.ADVERSE_EVENT_READ in allowed:
            for event, given_name, family_name, reporter_role in session.execute(
                select(AdverseEvent, Patient.given_name, Patient.family_name, UserAccount.role)
                .join(Patient, Patient.id == AdverseEvent.patient_id)
                .join(UserAccount, UserAccount.id == AdverseEvent.reported_by_id)
                .where(
                    AdverseEvent.clinic_id == clinic.id,
                    AdverseEvent.status == "open",
                    AdverseEvent.voided_at.is_(None),
                    Patient.voided_at.is_(None),
                )
                .order_by(AdverseEvent.serious.desc(), AdverseEvent.created_at)
            ):
                result.open_events.append(
                    WorkItem(
                        event.patient_id,
                        f"{given_name} {family_name}",
                        f"{event.category.replace('_', ' ')}, grade {event.grade}"
                        + (TO_GRADE if reporter_role == "patient" and not event.graded_at else ""),
                        event.description[:120],
                        event.serious,
                    )
                )
                shown.append(event.id)
        audit_read(session, actor, "worklist.read", "clinic", clinic.id, shown)
    return result


def _to_rebook(session: Session, clinic: Clinic, result: Worklist, now: datetime) -> list[str]:
    """Visits lately missed (no-shows) or cancelled by the patients themselves, with none of
    the kind booked for the patient since."""
    again = aliased(Appointment)
    booked_since = (
        select(again.id)
        .where(
            again.patient_id == Appointment.patient_id,
            again.kind == Appointment.kind,
            again.status == "booked",
            again.created_at > Appointment.status_changed_at,
        )
        .exists()
    )
    asked_instead = (
        select(AppointmentRequest.id)
        .where(AppointmentRequest.instead_of_id == Appointment.id)
        .exists()
    )
    zone = ZoneInfo(clinic.time_zone)
    shown = []
    for appointment, given_name, family_name in session.execute(
        select(Appointment, Patient.given_name, Patient.family_name)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(UserAccount, UserAccount.id == Appointment.status_changed_by_id)
        .where(
            Appointment.clinic_id == clinic.id,
            or_(
                and_(Appointment.status == "cancelled", UserAccount.role == "patient"),
                Appointment.status == "no_show",
            ),
            Appointment.status_changed_at >= now - timedelta(days=REBOOK_DAYS),
            Patient.voided_at.is_(None),
            ~booked_since,
            ~asked_instead,  # (the patient's request says it better: see asked_to_book)
        )
        .order_by(Appointment.starts_at)
    ):
        was = appointment.starts_at.astimezone(zone)
        what = f"{appointment.kind.replace('_', ' ')} of {was:%d %b %H:%M}"
        missed = appointment.status == "no_show"
        result.to_rebook.append(
            WorkItem(
                appointment.patient_id,
                f"{given_name} {family_name}",
                f"Missed {what}" if missed else f"Cancelled {what}",
                "did not come"
                if missed
                else f"the patient's reason: {appointment.status_reason or ''}"[:160],
            )
        )
        shown.append(appointment.id)
    return shown


def _asked_to_book(session: Session, clinic: Clinic, result: Worklist, today: date) -> list[str]:
    """Open requests, oldest first: when suits the patient, how long they have waited, and
    the visit it replaces."""
    zone = ZoneInfo(clinic.time_zone)
    replaced = aliased(Appointment)
    shown = []
    for request, given_name, family_name, replaced_at in session.execute(
        select(AppointmentRequest, Patient.given_name, Patient.family_name, replaced.starts_at)
        .join(Patient, Patient.id == AppointmentRequest.patient_id)
        .outerjoin(replaced, replaced.id == AppointmentRequest.instead_of_id)
        .where(
            AppointmentRequest.clinic_id == clinic.id,
            AppointmentRequest.status == "open",
            Patient.voided_at.is_(None),
        )
        .order_by(AppointmentRequest.created_at)
    ):
        asked = request.created_at.astimezone(zone)
        waited = (today - asked.date()).days
        waiting = f", waiting {waited} day{'s' if waited > 1 else ''}" if waited > 0 else ""
        instead = (
            f", instead of the one of {replaced_at.astimezone(zone):%d %b %H:%M} they cancelled"
            if replaced_at
            else ""
        )
        result.asked_to_book.append(
            WorkItem(
                request.patient_id,
                f"{given_name} {family_name}",
                f"Asks for a {KIND_WORDS[request.kind]} ({asked:%d %b}{waiting}{instead})",
                f"suits them: {request.preferred_times}"[:200],
            )
        )
        shown.append(request.id)
    return shown
