"""Booking: single appointments, a plan's whole series, reschedule, cancel, no-show, ICS.

Times are entered and shown in the clinic's time zone and stored in UTC; a series keeps the
same local time on every date, across daylight-saving changes. No practitioner or room is
double-booked: the service looks first (to say which appointment is in the way) and the
database refuses an overlap even when two bookings race (migration 0003).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.documents.calendar import render_ics
from follicle.records.models import (
    Appointment,
    Clinic,
    Patient,
    Plan,
    Room,
    SessionRecord,
    UserAccount,
    new_id,
    utcnow,
)
from follicle.services import appointment_requests, messages
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.commands import (
    AppointmentAsk,
    Cancellation,
    NewAppointment,
    Reschedule,
    SeriesBooking,
)
from follicle.services.common import (
    audit_read,
    audit_write,
    check_version,
    clinic_time,
    clinic_zone,
    load_patient,
    load_record,
)
from follicle.services.database import Database
from follicle.services.errors import NotFound, NotNow

DEFAULT_MINUTES = {"consultation": 30, "session": 45, "follow_up": 30}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Used when a practitioner has no hours of their own: Monday to Saturday, 08:00-18:00.
CLINIC_HOURS: dict[str, list[list[str]]] = {day: [["08:00", "18:00"]] for day in WEEKDAYS[:6]}
MAX_CALENDAR_DAYS = 62
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class _Slot:
    starts_at: datetime
    ends_at: datetime


def appointment_view(appointment: Appointment, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "patient_id": appointment.patient_id,
        "practitioner_id": appointment.practitioner_id,
        "room_id": appointment.room_id,
        "plan_id": appointment.plan_id,
        "kind": appointment.kind,
        "status": appointment.status,
        "status_reason": appointment.status_reason,
        "status_changed_at": appointment.status_changed_at.astimezone(UTC).isoformat()
        if appointment.status_changed_at
        else None,
        "status_changed_by": appointment.status_changed_by_id,
        "series_number": appointment.series_number,
        "starts_at": appointment.starts_at.astimezone(UTC).isoformat(),
        "ends_at": appointment.ends_at.astimezone(UTC).isoformat(),
        "starts_local": appointment.starts_at.astimezone(zone).isoformat(),
        "ends_local": appointment.ends_at.astimezone(zone).isoformat(),
        "time_zone": zone.key,
        "version": appointment.version,
    }


def _practitioner(session: Session, clinic_id: str, user_id: str) -> UserAccount:
    user = session.get(UserAccount, user_id)
    if user is None or user.clinic_id != clinic_id or user.role != "practitioner":
        raise InputInvalid([FieldError("/practitioner_id", "no such practitioner in this clinic")])
    if not user.active:
        raise InputInvalid([FieldError("/practitioner_id", "this practitioner is deactivated")])
    return user


def _room(session: Session, clinic_id: str, room_id: str | None) -> Room | None:
    if room_id is None:
        return None
    room = session.get(Room, room_id)
    if room is None or room.clinic_id != clinic_id or not room.active:
        raise InputInvalid([FieldError("/room_id", "no such room in this clinic")])
    return room


def _within_hours(user: UserAccount, slot: _Slot, zone: ZoneInfo) -> bool:
    hours = user.working_hours or CLINIC_HOURS
    start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    if start.date() != end.date():
        return False
    for opens, closes in hours.get(WEEKDAYS[start.weekday()], []):
        if time.fromisoformat(opens) <= start.time() and end.time() <= time.fromisoformat(closes):
            return True
    return False


def _hours_text(user: UserAccount) -> str:
    hours = user.working_hours or CLINIC_HOURS
    return "; ".join(
        f"{day.capitalize()} " + ", ".join(f"{a}-{b}" for a, b in hours[day])
        for day in WEEKDAYS
        if hours.get(day)
    )


def _clash(
    session: Session, slot: _Slot, practitioner_id: str, room_id: str | None, ignore_id: str = ""
) -> Appointment | None:
    owners = [Appointment.practitioner_id == practitioner_id]
    if room_id is not None:
        owners.append(Appointment.room_id == room_id)
    return session.scalars(
        select(Appointment).where(
            Appointment.status == "booked",
            Appointment.id != ignore_id,
            or_(*owners),
            Appointment.starts_at < slot.ends_at,
            slot.starts_at < Appointment.ends_at,
        )
    ).first()


def _check_slot(
    session: Session,
    slot: _Slot,
    practitioner: UserAccount,
    room: Room | None,
    zone: ZoneInfo,
    pointer: str,
    ignore_id: str = "",
) -> None:
    if slot.starts_at < utcnow():
        raise InputInvalid([FieldError(pointer, "is in the past")])
    if not _within_hours(practitioner, slot, zone):
        raise InputInvalid(
            [
                FieldError(
                    pointer,
                    f"{slot.starts_at.astimezone(zone):%a %d %b %H:%M} is outside "
                    f"{practitioner.display_name}'s working hours ({_hours_text(practitioner)})",
                )
            ]
        )
    clash = _clash(session, slot, practitioner.id, room.id if room else None, ignore_id)
    if clash is not None:
        whom = "practitioner" if clash.practitioner_id == practitioner.id else "room"
        raise NotNow(
            f"the {whom} is already booked "
            f"{clash.starts_at.astimezone(zone):%a %d %b %H:%M}-"
            f"{clash.ends_at.astimezone(zone):%H:%M}"
        )


def _flush_booking(session: Session) -> None:
    """Write now, so an overlap the database refuses becomes a clear 409."""
    try:
        session.flush()
    except IntegrityError as exc:
        if "overlap" in str(exc.orig).lower():
            raise NotNow(
                "that time was just booked by someone else for the same practitioner or room"
            ) from exc
        raise


def _approved_plan(session: Session, patient: Patient, plan_id: str, pointer: str) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None or plan.patient_id != patient.id or plan.voided_at is not None:
        raise InputInvalid([FieldError(pointer, "no such plan for this patient")])
    if plan.status != "approved":
        raise NotNow(
            f"the plan is {plan.status.replace('_', ' ')}; book sessions on an approved plan"
        )
    return plan


def book(db: Database, actor: Actor, patient_id: str, new: NewAppointment) -> dict[str, Any]:
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.APPOINTMENT_BOOK)
        zone = clinic_zone(session, patient.clinic_id)
        practitioner = _practitioner(session, patient.clinic_id, new.practitioner_id)
        room = _room(session, patient.clinic_id, new.room_id)
        plan = _approved_plan(session, patient, new.plan_id, "/plan_id") if new.plan_id else None
        if new.kind == "session" and plan is None:
            raise InputInvalid([FieldError("/plan_id", "a session is booked on an approved plan")])
        starts = clinic_time(new.starts_at, zone)
        minutes = new.duration_minutes or DEFAULT_MINUTES[new.kind]
        slot = _Slot(starts, starts + timedelta(minutes=minutes))
        _check_slot(session, slot, practitioner, room, zone, "/starts_at")
        appointment = Appointment(
            id=new_id("apt"),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            practitioner_id=practitioner.id,
            room_id=room.id if room else None,
            plan_id=plan.id if plan else None,
            kind=new.kind,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
        )
        session.add(appointment)
        _flush_booking(session)
        messages.on_booked(session, [appointment])
        answered = appointment_requests.answer_by_booking(session, actor, [appointment])
        audit_write(
            session,
            actor,
            "appointment.book",
            "appointment",
            appointment.id,
            patient.clinic_id,
            {"patient_id": patient.id, "answers_requests": answered},
        )
        return appointment_view(appointment, zone)


@dataclass(frozen=True)
class _Series:
    patient: Patient
    zone: ZoneInfo
    practitioner: UserAccount
    room: Room | None
    plan: Plan
    slots: list[tuple[int, _Slot]]


def _series(session: Session, actor: Actor, patient_id: str, booking: SeriesBooking) -> _Series:
    """The plan's sessions still to come (those not yet recorded), ``interval_days`` apart at
    the same local time."""
    patient = load_patient(session, actor, patient_id, Permission.APPOINTMENT_BOOK)
    zone = clinic_zone(session, patient.clinic_id)
    practitioner = _practitioner(session, patient.clinic_id, booking.practitioner_id)
    room = _room(session, patient.clinic_id, booking.room_id)
    plan = _approved_plan(session, patient, booking.plan_id, "/plan_id")
    already = session.scalars(
        select(Appointment.id).where(
            Appointment.plan_id == plan.id,
            Appointment.kind == "session",
            Appointment.status == "booked",
        )
    ).first()
    if already is not None:
        raise NotNow("this plan's series is already booked; reschedule or cancel instead")
    done = (
        session.scalar(
            select(func.count(SessionRecord.id)).where(
                SessionRecord.plan_id == plan.id, SessionRecord.voided_at.is_(None)
            )
        )
        or 0
    )
    if done >= plan.sessions_planned:
        raise NotNow("every session of this plan has been recorded")
    first = clinic_time(booking.first_starts_at, zone)
    minutes = booking.duration_minutes or DEFAULT_MINUTES["session"]
    slots = []
    for number in range(done + 1, plan.sessions_planned + 1):
        day = first.date() + timedelta(days=plan.interval_days * (number - done - 1))
        starts = datetime.combine(day, first.timetz().replace(tzinfo=None), zone)
        slots.append((number, _Slot(starts, starts + timedelta(minutes=minutes))))
    return _Series(patient, zone, practitioner, room, plan, slots)


def check_series(
    db: Database, actor: Actor, patient_id: str, booking: SeriesBooking
) -> list[dict[str, Any]]:
    """Each date the series would take, and what (if anything) stands in its way, without
    booking anything: conflicts are seen before saving."""
    with db.transaction() as session:
        series = _series(session, actor, patient_id, booking)
        found = []
        for number, slot in series.slots:
            problem = None
            try:
                _check_slot(
                    session, slot, series.practitioner, series.room, series.zone, "/first_starts_at"
                )
            except NotNow as exc:
                problem = str(exc)
            except InputInvalid as exc:
                problem = "; ".join(e.message for e in exc.errors)
            found.append(
                {
                    "series_number": number,
                    "starts_local": slot.starts_at.astimezone(series.zone).isoformat(),
                    "problem": problem,
                }
            )
        return found


def book_series(
    db: Database, actor: Actor, patient_id: str, booking: SeriesBooking
) -> list[dict[str, Any]]:
    """Book the plan's sessions still to come; all or none."""
    with db.transaction() as session:
        series = _series(session, actor, patient_id, booking)
        plan, zone = series.plan, series.zone
        booked = []
        for number, slot in series.slots:
            try:
                _check_slot(
                    session, slot, series.practitioner, series.room, zone, "/first_starts_at"
                )
            except NotNow as exc:
                raise NotNow(f"session {number} of {plan.sessions_planned}: {exc}") from exc
            except InputInvalid as exc:
                raise InputInvalid(
                    [FieldError(e.pointer, f"session {number}: {e.message}") for e in exc.errors]
                ) from exc
            appointment = Appointment(
                id=new_id("apt"),
                clinic_id=series.patient.clinic_id,
                patient_id=series.patient.id,
                practitioner_id=series.practitioner.id,
                room_id=series.room.id if series.room else None,
                plan_id=plan.id,
                kind="session",
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                series_number=number,
            )
            session.add(appointment)
            _flush_booking(session)
            booked.append(appointment)
        messages.on_booked(session, booked)
        answered = appointment_requests.answer_by_booking(session, actor, booked)
        audit_write(
            session,
            actor,
            "appointment.book_series",
            "plan",
            plan.id,
            series.patient.clinic_id,
            {
                "patient_id": series.patient.id,
                "ids": [a.id for a in booked],
                "answers_requests": answered,
            },
        )
        return [appointment_view(a, zone) for a in booked]


def _min_interval_days(plan: Plan) -> int:
    return int(plan.document["bounds"]["interval_days"][0])


def _check_interval(
    session: Session, appointment: Appointment, slot: _Slot, zone: ZoneInfo
) -> None:
    """A rescheduled session stays at least the plan's shortest allowed interval from the
    sessions before and after it (DESIGN.md §1.5)."""
    if appointment.kind != "session" or appointment.plan_id is None:
        return
    plan = session.get(Plan, appointment.plan_id)
    assert plan is not None
    gap = _min_interval_days(plan)
    others = session.scalars(
        select(Appointment).where(
            Appointment.plan_id == plan.id,
            Appointment.kind == "session",
            Appointment.status.in_(("booked", "completed")),
            Appointment.id != appointment.id,
        )
    )
    day = slot.starts_at.astimezone(zone).date()
    for other in others:
        other_day = other.starts_at.astimezone(zone).date()
        if abs((other_day - day).days) < gap:
            raise InputInvalid(
                [
                    FieldError(
                        "/starts_at",
                        f"is {abs((other_day - day).days)} days from another session "
                        f"({other_day:%d %b}); sessions are at least {gap} days apart",
                    )
                ]
            )


def reschedule(
    db: Database,
    actor: Actor,
    patient_id: str,
    appointment_id: str,
    change: Reschedule,
    expected_version: int | None,
) -> dict[str, Any]:
    with db.transaction() as session:
        appointment = load_record(
            session, actor, Appointment, appointment_id, patient_id, Permission.APPOINTMENT_UPDATE
        )
        zone = clinic_zone(session, appointment.clinic_id)
        check_version(appointment, expected_version, lambda a: appointment_view(a, zone))
        if appointment.status != "booked":
            raise NotNow(f"this appointment is {appointment.status.replace('_', ' ')}")
        practitioner = _practitioner(
            session, appointment.clinic_id, change.practitioner_id or appointment.practitioner_id
        )
        room_id = change.room_id if "room_id" in change.model_fields_set else appointment.room_id
        room = _room(session, appointment.clinic_id, room_id)
        starts = clinic_time(change.starts_at, zone)
        slot = _Slot(starts, starts + (appointment.ends_at - appointment.starts_at))
        _check_slot(session, slot, practitioner, room, zone, "/starts_at", appointment.id)
        _check_interval(session, appointment, slot, zone)
        before = appointment.starts_at
        appointment.starts_at, appointment.ends_at = slot.starts_at, slot.ends_at
        appointment.practitioner_id = practitioner.id
        appointment.room_id = room.id if room else None
        _flush_booking(session)
        messages.on_rescheduled(session, appointment, before)
        audit_write(
            session,
            actor,
            "appointment.reschedule",
            "appointment",
            appointment.id,
            appointment.clinic_id,
            {
                "patient_id": patient_id,
                "from": before.isoformat(),
                "to": slot.starts_at.isoformat(),
            },
        )
        return appointment_view(appointment, zone)


def _set_status(
    db: Database,
    actor: Actor,
    where: tuple[str, str],
    status: str,
    reason: str | None,
    expected_version: int | None,
    permission: Permission = Permission.APPOINTMENT_UPDATE,
    now: datetime | None = None,
    another_time: str | None = None,
) -> dict[str, Any]:
    patient_id, appointment_id = where
    with db.transaction() as session:
        appointment = load_record(
            session, actor, Appointment, appointment_id, patient_id, permission
        )
        zone = clinic_zone(session, appointment.clinic_id)
        check_version(appointment, expected_version, lambda a: appointment_view(a, zone))
        if appointment.status != "booked":
            raise NotNow(f"this appointment is already {appointment.status.replace('_', ' ')}")
        now = now or utcnow()
        if status == "no_show" and appointment.starts_at > now:
            raise NotNow("an appointment that has not started yet cannot be a no-show")
        if actor.role == "patient":
            _check_notice(session, appointment, now)
        appointment.status = status
        appointment.status_reason = reason
        appointment.status_changed_at = now
        appointment.status_changed_by_id = actor.user_id
        session.flush()
        messages.on_cancelled(session, appointment)
        asked = None
        if another_time is not None and status == "cancelled":
            patient = load_patient(session, actor, patient_id, Permission.APPOINTMENT_REQUEST)
            ask = AppointmentAsk(kind=appointment.kind, preferred_times=another_time)
            asked = appointment_requests.add_request(session, actor, patient, ask, appointment)
        audit_write(
            session,
            actor,
            f"appointment.{status}",
            "appointment",
            appointment.id,
            appointment.clinic_id,
            {"patient_id": patient_id, "reason": reason},
        )
        view = appointment_view(appointment, zone)
        if asked is not None:
            view["another_time_request_id"] = asked.id
        return view


def patient_notice(clinic: Clinic) -> timedelta:
    """How long before a visit a patient may still cancel it themselves (the clinic's notice)."""
    return timedelta(hours=messages.clinic_operations(clinic)["patient_cancellation_notice_hours"])


def _check_notice(session: Session, appointment: Appointment, now: datetime) -> None:
    clinic = session.get(Clinic, appointment.clinic_id)
    assert clinic is not None
    notice = patient_notice(clinic)
    if now > appointment.starts_at - notice:
        call = messages.call_the_clinic(messages.clinic_phone(clinic))
        raise NotNow(
            f"this visit is less than {round(notice / HOUR)} hours away: please {call} to cancel it"
            if notice
            else "this visit has begun"
        )


def cancel(
    db: Database,
    actor: Actor,
    patient_id: str,
    appointment_id: str,
    cancellation: Cancellation,
    expected_version: int | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Cancel a booked visit: staff at any time, a patient their own up to the clinic's
    notice (``patient_cancellation_notice_hours``); its slot is free again. With
    ``another_time``, the patient asks for another visit of the kind in the same change."""
    return _set_status(
        db,
        actor,
        (patient_id, appointment_id),
        "cancelled",
        cancellation.reason,
        expected_version,
        Permission.APPOINTMENT_CANCEL,
        now,
        cancellation.another_time,
    )


def mark_no_show(
    db: Database, actor: Actor, patient_id: str, appointment_id: str, expected_version: int | None
) -> dict[str, Any]:
    return _set_status(db, actor, (patient_id, appointment_id), "no_show", None, expected_version)


def cancel_sessions_ahead(session: Session, which: ColumnElement[bool], reason: str) -> list[str]:
    """Cancel the sessions still booked ahead that ``which`` picks (a patient's, a plan's),
    telling the patient: their ids. Their slots are free again."""
    ahead = list(
        session.scalars(
            select(Appointment).where(
                which,
                Appointment.kind == "session",
                Appointment.status == "booked",
                Appointment.starts_at > utcnow(),
            )
        )
    )
    for appointment in ahead:
        appointment.status = "cancelled"
        appointment.status_reason = reason
        messages.on_cancelled(session, appointment)
    return [a.id for a in ahead]


def _patient_appointments(session: Session, patient_id: str) -> list[Appointment]:
    return list(
        session.scalars(
            select(Appointment)
            .where(Appointment.patient_id == patient_id)
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def list_for_patient(db: Database, actor: Actor, patient_id: str) -> list[dict[str, Any]]:
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.APPOINTMENT_READ)
        zone = clinic_zone(session, patient.clinic_id)
        found = _patient_appointments(session, patient.id)
        audit_read(
            session,
            actor,
            "appointment.list",
            "appointment",
            patient.clinic_id,
            [a.id for a in found],
            patient.id,
        )
        return [appointment_view(a, zone) for a in found]


def read(db: Database, actor: Actor, patient_id: str, appointment_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        appointment = load_record(
            session, actor, Appointment, appointment_id, patient_id, Permission.APPOINTMENT_READ
        )
        audit_read(
            session,
            actor,
            "appointment.read",
            "appointment",
            appointment.clinic_id,
            [appointment.id],
            patient_id,
        )
        return appointment_view(appointment, clinic_zone(session, appointment.clinic_id))


def calendar(
    db: Database,
    actor: Actor,
    first_day: date,
    last_day: date,
    practitioner_id: str | None = None,
) -> list[dict[str, Any]]:
    """The clinic's appointments between two local dates (inclusive)."""
    authorize(actor, Permission.APPOINTMENT_LIST)
    if last_day < first_day:
        raise InputInvalid([FieldError("/to", "is before from")])
    if (last_day - first_day).days > MAX_CALENDAR_DAYS:
        raise InputInvalid([FieldError("/to", f"ask for at most {MAX_CALENDAR_DAYS} days at once")])
    with db.transaction() as session:
        if actor.clinic_id is None:
            raise NotFound
        zone = clinic_zone(session, actor.clinic_id)
        query = select(Appointment).where(
            Appointment.clinic_id == actor.clinic_id,
            Appointment.starts_at >= datetime.combine(first_day, time.min, zone),
            Appointment.starts_at < datetime.combine(last_day + timedelta(days=1), time.min, zone),
        )
        if practitioner_id:
            query = query.where(Appointment.practitioner_id == practitioner_id)
        found = list(session.scalars(query.order_by(Appointment.starts_at, Appointment.id)))
        audit_read(
            session,
            actor,
            "appointment.calendar",
            "appointment",
            actor.clinic_id,
            [a.id for a in found],
        )
        return [appointment_view(a, zone) for a in found]


def ics(db: Database, actor: Actor, patient_id: str, appointment_id: str | None = None) -> bytes:
    """One appointment, or all the patient's booked ones (the series), as an .ics file."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.APPOINTMENT_READ)
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None
        if appointment_id is not None:
            chosen = [
                load_record(
                    session,
                    actor,
                    Appointment,
                    appointment_id,
                    patient_id,
                    Permission.APPOINTMENT_READ,
                )
            ]
        else:
            chosen = [a for a in _patient_appointments(session, patient.id) if a.status == "booked"]
        events = messages.appointment_events(session, clinic, chosen)
        audit_read(
            session,
            actor,
            "appointment.ics",
            "appointment",
            clinic.id,
            [a.id for a in chosen],
            patient.id,
        )
        return render_ics(events, clinic.time_zone, f"{clinic.name} appointments")
