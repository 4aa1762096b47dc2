"""Running the clinic: its settings, rooms, staff list and working hours, the audit log."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from follicle.clinic.clinic_settings import parse_clinic_settings
from follicle.clinic.errors import FieldError, InputInvalid
from follicle.records.models import AuditEntry, Clinic, Room, UserAccount, new_id
from follicle.services import accounts
from follicle.services.actors import Actor
from follicle.services.appointments import WEEKDAYS
from follicle.services.authz import Permission, authorize
from follicle.services.commands import NewStaff
from follicle.services.common import audit_read, audit_write, check_version, clinic_time
from follicle.services.database import Database
from follicle.services.errors import NotFound
from follicle.services.messages import clinic_operations, parse_operations
from follicle.services.passwords import hash_password

MAX_AUDIT_PAGE = 500
_CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"


def _clinic(session: Session, actor: Actor) -> Clinic:
    clinic = session.get(Clinic, actor.clinic_id) if actor.clinic_id else None
    if clinic is None:
        raise NotFound
    return clinic


def settings_view(clinic: Clinic) -> dict[str, Any]:
    effective = parse_clinic_settings(clinic.settings) if clinic.settings else None
    return {
        "clinic_id": clinic.id,
        "name": clinic.name,
        "time_zone": clinic.time_zone,
        "settings": effective.as_document()
        if effective
        else {"schema": "follicle.clinic-settings/1"},
        "version": clinic.version,
    }


def read_settings(db: Database, actor: Actor) -> dict[str, Any]:
    authorize(actor, Permission.CLINIC_SETTINGS_READ)
    with db.transaction() as session:
        return settings_view(_clinic(session, actor))


def update_settings(
    db: Database, actor: Actor, document: dict[str, Any], expected_version: int | None
) -> dict[str, Any]:
    """Replace the clinic's settings; they may only be stricter than the cited bounds."""
    authorize(actor, Permission.CLINIC_SETTINGS_MANAGE)
    parsed = parse_clinic_settings(document)  # raises InputInvalid naming each field
    with db.transaction() as session:
        clinic = _clinic(session, actor)
        check_version(clinic, expected_version, settings_view)
        clinic.settings = parsed.as_document()
        session.flush()
        audit_write(
            session,
            actor,
            "clinic_settings.update",
            "clinic",
            clinic.id,
            clinic.id,
            {"settings": clinic.settings},
        )
        return settings_view(clinic)


def list_rooms(db: Database, actor: Actor) -> list[dict[str, Any]]:
    authorize(actor, Permission.ROOM_LIST)
    with db.transaction() as session:
        clinic = _clinic(session, actor)
        rooms = session.scalars(select(Room).where(Room.clinic_id == clinic.id).order_by(Room.name))
        return [{"id": r.id, "name": r.name, "active": r.active} for r in rooms]


def user_view(user: UserAccount) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "credential": user.credential,
        "active": user.active,
        "status": accounts.account_status(user),
        "two_factor": user.totp_enabled_at is not None,
        "working_hours": user.working_hours,
        "version": user.version,
    }


def list_staff(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """The clinic's staff (patients' portal accounts are not listed here)."""
    authorize(actor, Permission.USER_LIST)
    with db.transaction() as session:
        clinic = _clinic(session, actor)
        users = session.scalars(
            select(UserAccount)
            .where(UserAccount.clinic_id == clinic.id, UserAccount.role != "patient")
            .order_by(UserAccount.display_name, UserAccount.id)
        )
        return [user_view(u) for u in users]


def set_working_hours(
    db: Database,
    actor: Actor,
    user_id: str,
    hours: dict[str, list[list[str]]],
    expected_version: int | None,
) -> dict[str, Any]:
    """Weekly hours in the clinic's time zone, e.g. ``{"mon": [["09:00", "13:00"]]}``."""
    errors = []
    for day, spans in hours.items():
        if day not in WEEKDAYS:
            errors.append(FieldError(f"/{day}", f"is not a weekday ({', '.join(WEEKDAYS)})"))
            continue
        for index, span in enumerate(spans):
            if not (len(span) == 2 and all(re.match(_CLOCK, t) for t in span)):
                errors.append(
                    FieldError(f"/{day}/{index}", 'must be a start and an end, ["HH:MM", "HH:MM"]')
                )
            elif span[0] >= span[1]:
                errors.append(
                    FieldError(f"/{day}/{index}", f"ends at {span[1]}, not after its start")
                )
    if errors:
        raise InputInvalid(errors)
    with db.transaction() as session:
        user = session.get(UserAccount, user_id)
        if user is None or user.role == "patient":
            raise NotFound
        authorize(actor, Permission.USER_MANAGE, clinic_id=user.clinic_id)
        check_version(user, expected_version, user_view)
        user.working_hours = hours
        session.flush()
        audit_write(
            session,
            actor,
            "user.working_hours",
            "user_account",
            user.id,
            user.clinic_id,
            {"working_hours": hours},
        )
        return user_view(user)


def audit_log(
    db: Database,
    actor: Actor,
    *,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    actor_name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """The clinic's audit entries, newest first, filtered; page with ``before_seq``."""
    authorize(actor, Permission.AUDIT_READ)
    limit = max(1, min(limit, MAX_AUDIT_PAGE))
    with db.transaction() as session:
        clinic = _clinic(session, actor)
        query = select(AuditEntry).where(AuditEntry.clinic_id == clinic.id)
        if action:
            query = query.where(AuditEntry.action == action)
        if resource_type:
            query = query.where(AuditEntry.resource_type == resource_type)
        if resource_id:
            query = query.where(AuditEntry.resource_id == resource_id)
        if actor_name:
            query = query.where(AuditEntry.actor == actor_name)
        zone = ZoneInfo(clinic.time_zone)  # (a time without an offset: the clinic's)
        if since:
            query = query.where(AuditEntry.at >= clinic_time(since, zone))
        if until:
            query = query.where(AuditEntry.at < clinic_time(until, zone))
        if before_seq:
            query = query.where(AuditEntry.seq < before_seq)
        entries = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)))
        audit_read(session, actor, "audit.read", "audit_entry", clinic.id, [])
        return {
            "entries": [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "resource_type": e.resource_type,
                    "resource_id": e.resource_id,
                    "client_address": e.client_address,
                    "detail": e.detail,
                }
                for e in entries
            ],
            "next_before_seq": entries[-1].seq if len(entries) == limit else None,
            "time_zone": clinic.time_zone,
        }


def create_staff(db: Database, actor: Actor, new: NewStaff, public_url: str = "") -> dict[str, Any]:
    """Add a staff member; a practitioner needs a credential (it bounds their depth). Without
    a first password they are emailed a link to choose one."""
    authorize(actor, Permission.USER_MANAGE)
    if new.role == "practitioner" and new.credential is None:
        raise InputInvalid([FieldError("/credential", "a practitioner needs a credential")])
    if new.role != "practitioner" and new.credential is not None:
        raise InputInvalid([FieldError("/credential", "only practitioners hold a credential")])
    email = str(new.email).lower()
    with db.transaction() as session:
        clinic = _clinic(session, actor)
        taken = session.scalar(select(UserAccount.id).where(func.lower(UserAccount.email) == email))
        if taken is not None:
            raise InputInvalid([FieldError("/email", "an account with this email exists")])
        user = UserAccount(
            id=new_id("usr"),
            clinic_id=clinic.id,
            email=email,
            display_name=new.display_name,
            role=new.role,
            credential=new.credential,
            password_hash=None,
        )
        if new.password is not None:
            accounts.check_new_password(session, user, new.password)
            user.password_hash = hash_password(new.password)
        session.add(user)
        session.flush()
        if new.password is None:
            accounts.queue_invite(session, user, clinic, public_url)
        audit_write(
            session,
            actor,
            "user.create",
            "user_account",
            user.id,
            clinic.id,
            {"role": user.role, "credential": user.credential},
        )
        return user_view(user)


def operations_view(clinic: Clinic) -> dict[str, Any]:
    return {"operations": clinic_operations(clinic), "version": clinic.version}


def read_operations(db: Database, actor: Actor) -> dict[str, Any]:
    authorize(actor, Permission.CLINIC_SETTINGS_READ)
    with db.transaction() as session:
        return operations_view(_clinic(session, actor))


def update_operations(
    db: Database, actor: Actor, document: dict[str, Any], expected_version: int | None
) -> dict[str, Any]:
    """Reminder lead times, text-message reminders, two-factor for all staff, and how long
    before a visit a patient may still cancel it from the portal."""
    authorize(actor, Permission.CLINIC_SETTINGS_MANAGE)
    parsed = parse_operations(document)
    with db.transaction() as session:
        clinic = _clinic(session, actor)
        check_version(clinic, expected_version, operations_view)
        clinic.operations = parsed
        session.flush()
        audit_write(
            session, actor, "clinic_operations.update", "clinic", clinic.id, clinic.id, parsed
        )
        return operations_view(clinic)
