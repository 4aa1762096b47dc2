"""Helpers every clinical service uses: load-and-authorize, audit, version checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.clinic.clinic_settings import (
    ClinicSettings,
    default_settings,
    parse_clinic_settings,
)
from follicle.clinic.errors import FieldError, InputInvalid
from follicle.records import audit
from follicle.records.models import Base, Clinic, Patient, utcnow
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.commands import plausible_time
from follicle.services.database import Database
from follicle.services.errors import NotFound, StaleVersion, VersionRequired

R = TypeVar("R", bound=Base)

#: The largest image or calibration photo accepted (a 5 MP TIFF fits).
MAX_UPLOAD_BYTES = 30 * 1024 * 1024


def load_patient(
    session: Session, actor: Actor, patient_id: str, permission: Permission
) -> Patient:
    """The patient, if the actor may see them and do ``permission``; NotFound otherwise."""
    patient = session.get(Patient, patient_id)
    if patient is None or patient.voided_at is not None:
        raise NotFound
    authorize(actor, permission, clinic_id=patient.clinic_id, patient_id=patient.id)
    return patient


def load_record(
    session: Session,
    actor: Actor,
    model: type[R],
    record_id: str,
    patient_id: str,
    permission: Permission,
) -> R:
    """A patient's record by id; another patient's (or a voided one) is NotFound."""
    record = session.get(model, record_id)
    if record is None or getattr(record, "patient_id", None) != patient_id:
        raise NotFound
    if getattr(record, "voided_at", None) is not None:
        raise NotFound
    authorize(actor, permission, clinic_id=getattr(record, "clinic_id", ""), patient_id=patient_id)
    return record


def audit_read(
    session: Session,
    actor: Actor,
    action: str,
    resource_type: str,
    clinic_id: str,
    ids: Iterable[str],
    patient_id: str | None = None,
) -> None:
    """One entry per request naming every record returned (DESIGN.md §4)."""
    listed = list(ids)
    detail: dict[str, Any] = {"ids": listed}
    if patient_id is not None:
        detail["patient_id"] = patient_id
    audit.append(
        session,
        actor=actor.audit_name,
        action=action,
        resource_type=resource_type,
        resource_id=listed[0] if len(listed) == 1 else None,  # so one record's reads filter
        clinic_id=clinic_id,
        client_address=actor.client_address,
        detail=detail,
    )


def audit_write(
    session: Session,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str,
    clinic_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.append(
        session,
        actor=actor.audit_name,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        clinic_id=clinic_id,
        client_address=actor.client_address,
        detail=detail or {},
    )


def check_version(
    record: Any, expected_version: int | None, view: Callable[[Any], dict[str, Any]]
) -> None:
    """Refuse an update that does not name the version it changes, or names an old one."""
    if expected_version is None:
        raise VersionRequired
    if record.version != expected_version:
        raise StaleVersion(view(record))


def clinic_settings(session: Session, clinic_id: str) -> ClinicSettings:
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound
    return parse_clinic_settings(clinic.settings) if clinic.settings else default_settings()


def clinic_zone(session: Session, clinic_id: str | None) -> ZoneInfo:
    clinic = session.get(Clinic, clinic_id) if clinic_id else None
    if clinic is None:
        raise NotFound
    return ZoneInfo(clinic.time_zone)


def clinic_today(session: Session, clinic_id: str | None) -> date:
    """Today on the clinic's own calendar: every date rule of a clinic (a lot's expiry, an
    onset not in the future, a review date) is judged in its time zone, not the server's.
    A server in another zone (a chain served from one place) would move those dates by a
    day for hours of every day: an expired cartridge lot still offered, a patient's "today"
    refused as the future."""
    return datetime.now(clinic_zone(session, clinic_id)).date()


def clinic_day(moment: datetime, zone: ZoneInfo) -> date:
    """The day ``moment`` falls on at the clinic: a visit is one day there (by its UTC date,
    an afternoon visit in Los Angeles or a morning one in Sydney would be two).

    >>> clinic_day(datetime(2025, 11, 13, 0, 10, tzinfo=UTC), ZoneInfo("America/Los_Angeles"))
    datetime.date(2025, 11, 12)
    """
    return moment.astimezone(zone).date()


def clinic_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive time is the clinic's wall-clock time; an aware one is converted to it."""
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


#: A device's clock may run this far ahead of the server's: a time told further on is refused.
CLOCK_SKEW = timedelta(minutes=10)


def stated_time(moment: datetime | None, zone: ZoneInfo, pointer: str) -> datetime:
    """When something happened, as a user tells it (now when not told), in UTC: a time
    without an offset is the clinic's wall clock; one in the future is refused, by field."""
    now = utcnow()
    if moment is None:
        return now
    try:
        told = clinic_time(plausible_time(moment), zone).astimezone(UTC)
    except ValueError as exc:
        raise InputInvalid([FieldError(pointer, str(exc))]) from None
    if told > now + CLOCK_SKEW:
        raise InputInvalid([FieldError(pointer, "is in the future")])
    return told


def actor_today(db: Database, actor: Actor) -> date:
    """:func:`clinic_today` for the actor's clinic (a form offering today's date)."""
    with db.transaction() as session:
        return clinic_today(session, actor.clinic_id)


def actor_zone(db: Database, actor: Actor) -> str:
    """The actor's clinic's time zone (a page dating what a service gave in UTC)."""
    with db.transaction() as session:
        return clinic_zone(session, actor.clinic_id).key


def record_denial(db: Database, actor: Actor, method: str, path: str, status: int) -> None:
    """Audit a refused request in its own transaction (the refused one rolled back), so
    probing for other patients' records leaves a trace."""
    with db.transaction() as session:
        audit.append(
            session,
            actor=actor.audit_name,
            action="access.denied",
            resource_type="request",
            clinic_id=actor.clinic_id,
            client_address=actor.client_address,
            detail={"method": method, "path": path[:300], "status": status},
        )


def list_patient_records(
    db: Database,
    actor: Actor,
    patient_id: str,
    model: type[R],
    permission: Permission,
    action: str,
    view: Callable[[R], dict[str, Any]],
    order_by: Iterable[Any],
) -> list[dict[str, Any]]:
    """A patient's (not voided) records of one kind, oldest first, in one audited read."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, permission)
        columns: Any = model
        query = select(model).where(columns.patient_id == patient.id)
        if hasattr(model, "voided_at"):
            query = query.where(columns.voided_at.is_(None))
        records = list(session.scalars(query.order_by(*order_by)))
        audit_read(
            session,
            actor,
            action,
            str(model.__tablename__),
            patient.clinic_id,
            [str(getattr(r, "id", "")) for r in records],
            patient.id,
        )
        return [view(r) for r in records]


def read_patient_record(
    db: Database,
    actor: Actor,
    patient_id: str,
    record_id: str,
    model: type[R],
    permission: Permission,
    action: str,
    view: Callable[[R], dict[str, Any]],
) -> dict[str, Any]:
    """One of a patient's records, in one audited read."""
    with db.transaction() as session:
        record = load_record(session, actor, model, record_id, patient_id, permission)
        audit_read(
            session,
            actor,
            action,
            str(model.__tablename__),
            str(getattr(record, "clinic_id", "")),
            [record_id],
            patient_id,
        )
        return view(record)
