"""A patient asks for a visit ("weekday mornings"), from the portal or when cancelling one.

The request waits on the desk's worklist until someone books a visit of its kind for the
patient (it is then answered by that booking), the desk answers it otherwise with a reason,
or the patient takes it back. One open request per patient and kind: a second would only
say the same twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.records.models import Appointment, AppointmentRequest, Patient, new_id, utcnow
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.commands import AppointmentAsk, RequestAnswer
from follicle.services.common import (
    audit_read,
    audit_write,
    check_version,
    clinic_zone,
    load_patient,
    load_record,
)
from follicle.services.database import Database
from follicle.services.errors import NotNow

KIND_WORDS = {
    "consultation": "consultation",
    "session": "microneedling session",
    "follow_up": "follow-up review",
}


def request_view(request: AppointmentRequest, zone: ZoneInfo) -> dict[str, Any]:
    def local(moment: datetime | None) -> str | None:
        return moment.astimezone(zone).isoformat() if moment else None

    return {
        "id": request.id,
        "patient_id": request.patient_id,
        "kind": request.kind,
        "preferred_times": request.preferred_times,
        "instead_of_id": request.instead_of_id,
        "status": request.status,
        "requested_at": local(request.created_at),
        "requested_by_id": request.requested_by_id,
        "closed_at": local(request.closed_at),
        "closed_by_id": request.closed_by_id,
        "closed_reason": request.closed_reason,
        "booked_appointment_id": request.booked_appointment_id,
        "version": request.version,
    }


def _open_of_kind(session: Session, patient_id: str, kind: str) -> AppointmentRequest | None:
    return session.scalars(
        select(AppointmentRequest).where(
            AppointmentRequest.patient_id == patient_id,
            AppointmentRequest.kind == kind,
            AppointmentRequest.status == "open",
        )
    ).first()


def add_request(
    session: Session,
    actor: Actor,
    patient: Patient,
    ask: AppointmentAsk,
    instead_of: Appointment | None = None,
) -> AppointmentRequest:
    """Store the request in the caller's transaction (a cancellation that asks for another
    time is one change: both are kept or neither)."""
    waiting = _open_of_kind(session, patient.id, ask.kind)
    if waiting is not None:
        asked = waiting.created_at.astimezone(clinic_zone(session, patient.clinic_id))
        raise NotNow(
            f"a {KIND_WORDS[ask.kind]} was already asked for on {asked:%-d %B} "
            f'("{waiting.preferred_times}") and the clinic has not answered yet'
        )
    request = AppointmentRequest(
        id=new_id("apr"),
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        kind=ask.kind,
        preferred_times=ask.preferred_times,
        instead_of_id=instead_of.id if instead_of else None,
        requested_by_id=actor.user_id,
    )
    session.add(request)
    session.flush()
    audit_write(
        session,
        actor,
        "appointment_request.create",
        "appointment_request",
        request.id,
        patient.clinic_id,
        {"patient_id": patient.id, "kind": ask.kind, "instead_of_id": request.instead_of_id},
    )
    return request


def ask(db: Database, actor: Actor, patient_id: str, asked: AppointmentAsk) -> dict[str, Any]:
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.APPOINTMENT_REQUEST)
        request = add_request(session, actor, patient, asked)
        return request_view(request, clinic_zone(session, patient.clinic_id))


def answer_by_booking(session: Session, actor: Actor, booked: Sequence[Appointment]) -> list[str]:
    """A visit booked for a patient answers their open request of its kind (the first of a
    series answers it; one lookup per patient and kind)."""
    firsts = {(a.patient_id, a.kind): a for a in reversed(booked)}
    answered = []
    for appointment in firsts.values():
        request = _open_of_kind(session, appointment.patient_id, appointment.kind)
        if request is None:
            continue
        request.status = "booked"
        request.booked_appointment_id = appointment.id
        request.closed_at = utcnow()
        request.closed_by_id = actor.user_id
        answered.append(request.id)
    return answered


def _close(
    db: Database,
    actor: Actor,
    where: tuple[str, str],
    expected_version: int | None,
    status: str,
    reason: str | None,
    permission: Permission,
) -> dict[str, Any]:
    patient_id, request_id = where
    with db.transaction() as session:
        request = load_record(
            session, actor, AppointmentRequest, request_id, patient_id, permission
        )
        zone = clinic_zone(session, request.clinic_id)
        check_version(request, expected_version, lambda r: request_view(r, zone))
        if request.status != "open":
            raise NotNow(f"this request is already {request.status}")
        request.status, request.closed_reason = status, reason
        request.closed_at, request.closed_by_id = utcnow(), actor.user_id
        session.flush()
        audit_write(
            session,
            actor,
            f"appointment_request.{status}",
            "appointment_request",
            request.id,
            request.clinic_id,
            {"patient_id": patient_id, "reason": reason},
        )
        return request_view(request, zone)


def withdraw(
    db: Database, actor: Actor, patient_id: str, request_id: str, expected_version: int | None
) -> dict[str, Any]:
    """The patient no longer wants the visit they asked for."""
    return _close(
        db,
        actor,
        (patient_id, request_id),
        expected_version,
        "withdrawn",
        None,
        Permission.APPOINTMENT_REQUEST,
    )


def answer(
    db: Database,
    actor: Actor,
    patient_id: str,
    request_id: str,
    answered: RequestAnswer,
    expected_version: int | None,
) -> dict[str, Any]:
    """The desk answers a request without booking, saying why."""
    return _close(
        db,
        actor,
        (patient_id, request_id),
        expected_version,
        "closed",
        answered.reason,
        Permission.APPOINTMENT_BOOK,
    )


def list_for_patient(
    db: Database, actor: Actor, patient_id: str, *, open_only: bool = False
) -> list[dict[str, Any]]:
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.APPOINTMENT_READ)
        query = select(AppointmentRequest).where(AppointmentRequest.patient_id == patient.id)
        if open_only:
            query = query.where(AppointmentRequest.status == "open")
        rows = session.scalars(query.order_by(AppointmentRequest.created_at.desc())).all()
        audit_read(
            session,
            actor,
            "appointment_request.list",
            "appointment_request",
            patient.clinic_id,
            [r.id for r in rows],
            patient_id=patient.id,
        )
        zone = clinic_zone(session, patient.clinic_id)
        return [request_view(r, zone) for r in rows]
