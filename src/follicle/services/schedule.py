"""Reading the clinic's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import aliased

from follicle.records import audit
from follicle.records.models import Appointment, Clinic, Patient, Plan, Room, UserAccount
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.database import Database
from follicle.services.errors import NotFound


@dataclass(frozen=True)
class AgendaItem:
    appointment_id: str
    starts_local: datetime
    ends_local: datetime
    kind: str
    status: str
    patient_id: str
    patient_name: str
    practitioner_name: str
    room_name: str | None
    #: a session of a plan on hold (a serious adverse event is open): not to be performed,
    #: its reminder waits; the desk calls the patient
    plan_on_hold: bool = False


@dataclass(frozen=True)
class Agenda:
    clinic_name: str
    time_zone: str
    day: date
    items: list[AgendaItem]


def day_agenda(db: Database, actor: Actor, day: date | None = None) -> Agenda:
    """One day's appointments in the clinic's own time zone, earliest first."""
    authorize(actor, Permission.APPOINTMENT_LIST)
    with db.transaction() as session:
        clinic = session.get(Clinic, actor.clinic_id) if actor.clinic_id else None
        if clinic is None:
            raise NotFound
        zone = ZoneInfo(clinic.time_zone)
        day = day or datetime.now(zone).date()
        start = datetime.combine(day, time.min, zone)
        end = datetime.combine(day + timedelta(days=1), time.min, zone)
        practitioner = aliased(UserAccount)
        rows = session.execute(
            select(Appointment, Patient, practitioner, Room, Plan.status)
            .join(Patient, Patient.id == Appointment.patient_id)
            .join(practitioner, practitioner.id == Appointment.practitioner_id)
            .outerjoin(Room, Room.id == Appointment.room_id)
            .outerjoin(Plan, Plan.id == Appointment.plan_id)
            .where(
                Appointment.clinic_id == clinic.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        ).all()
        items = [
            AgendaItem(
                appointment_id=appt.id,
                starts_local=appt.starts_at.astimezone(zone),
                ends_local=appt.ends_at.astimezone(zone),
                kind=appt.kind,
                status=appt.status,
                patient_id=patient.id,
                patient_name=patient.full_name,
                practitioner_name=prac.display_name,
                room_name=room.name if room else None,
                plan_on_hold=appt.kind == "session" and plan_status == "on_hold",
            )
            for appt, patient, prac, room, plan_status in rows
        ]
        audit.append(
            session,
            actor=actor.audit_name,
            action="appointment.list",
            resource_type="appointment",
            clinic_id=clinic.id,
            client_address=actor.client_address,
            detail={"day": day.isoformat(), "ids": [item.appointment_id for item in items]},
        )
        return Agenda(clinic.name, clinic.time_zone, day, items)
