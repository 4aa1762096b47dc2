"""Devices and cartridge lots: what a session used, what a recall finds, how safe each lot was.

A session names a registered lot (never free text), so a recall is a query, not a search of
notes; the lot's device, number and expiry are copied onto the session record when it is made.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.records.models import (
    AdverseEvent,
    CartridgeLot,
    Device,
    Patient,
    SessionRecord,
    UserAccount,
    new_id,
)
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.commands import NewDevice, NewLot
from follicle.services.common import audit_read, audit_write, clinic_today, clinic_zone
from follicle.services.database import Database
from follicle.services.errors import NotFound
from follicle.services.exports import csv_text

RECALL_COLUMNS = (
    "session_id",
    "performed_at",
    "patient_id",
    "family_name",
    "given_name",
    "date_of_birth",
    "email",
    "phone",
    "performed_by",
    "device",
    "lot_number",
)


def device_label(device: Device) -> str:
    return f"{device.maker} {device.model} ({device.needle_configuration})"


def lot_view(lot: CartridgeLot, today: date, sessions: int = 0) -> dict[str, Any]:
    return {
        "id": lot.id,
        "device_id": lot.device_id,
        "lot_number": lot.lot_number,
        "expires_on": lot.expires_on.isoformat(),
        "received_on": lot.received_on.isoformat(),
        "expired": lot.expires_on < today,
        "sessions": sessions,
    }


def device_view(device: Device, lots: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": device.id,
        "maker": device.maker,
        "model": device.model,
        "needle_configuration": device.needle_configuration,
        "regulatory_status": device.regulatory_status,
        "active": device.active,
        "label": device_label(device),
        "lots": lots,
        "version": device.version,
    }


def _device(session: Session, actor: Actor, device_id: str, permission: Permission) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound
    authorize(actor, permission, clinic_id=device.clinic_id)
    return device


def _lot(session: Session, actor: Actor, lot_id: str, permission: Permission) -> CartridgeLot:
    lot = session.get(CartridgeLot, lot_id)
    if lot is None:
        raise NotFound
    authorize(actor, permission, clinic_id=lot.clinic_id)
    return lot


def list_devices(db: Database, actor: Actor, today: date | None = None) -> list[dict[str, Any]]:
    """Every device of the clinic with its lots (newest first) and how often each was used."""
    authorize(actor, Permission.DEVICE_LIST)
    with db.transaction() as session:
        today = today or clinic_today(session, actor.clinic_id)
        used = dict(
            session.execute(
                select(SessionRecord.lot_id, func.count(SessionRecord.id))
                .where(
                    SessionRecord.clinic_id == actor.clinic_id, SessionRecord.voided_at.is_(None)
                )
                .group_by(SessionRecord.lot_id)
            ).all()
        )
        lots: dict[str, list[dict[str, Any]]] = {}
        for lot in session.scalars(
            select(CartridgeLot)
            .where(CartridgeLot.clinic_id == actor.clinic_id)
            .order_by(CartridgeLot.received_on.desc(), CartridgeLot.lot_number)
        ):
            lots.setdefault(lot.device_id, []).append(lot_view(lot, today, used.get(lot.id, 0)))
        devices = session.scalars(
            select(Device)
            .where(Device.clinic_id == actor.clinic_id)
            .order_by(Device.maker, Device.model)
        ).all()
        return [device_view(d, lots.get(d.id, [])) for d in devices]


def usable_lots(session: Session, clinic_id: str, today: date) -> list[tuple[CartridgeLot, Device]]:
    """Lots a session may use today: registered here, of an active device, not expired."""
    rows = session.execute(
        select(CartridgeLot, Device)
        .join(Device, Device.id == CartridgeLot.device_id)
        .where(
            CartridgeLot.clinic_id == clinic_id,
            Device.active.is_(True),
            CartridgeLot.expires_on >= today,
        )
        .order_by(Device.maker, Device.model, CartridgeLot.expires_on)
    )
    return list(rows)


def register_device(db: Database, actor: Actor, new: NewDevice) -> dict[str, Any]:
    authorize(actor, Permission.DEVICE_MANAGE)
    try:
        with db.transaction() as session:
            device = Device(
                id=new_id("dev"),
                clinic_id=actor.clinic_id,
                maker=new.maker,
                model=new.model,
                needle_configuration=new.needle_configuration,
                regulatory_status=new.regulatory_status,
            )
            session.add(device)
            session.flush()
            audit_write(
                session,
                actor,
                "device.register",
                "device",
                device.id,
                device.clinic_id,
                {"label": device_label(device)},
            )
            return device_view(device, [])
    except IntegrityError:
        raise InputInvalid(
            [FieldError("/model", f"{new.maker} {new.model} is already registered")]
        ) from None


def receive_lot(
    db: Database, actor: Actor, device_id: str, new: NewLot, today: date | None = None
) -> dict[str, Any]:
    """Register a lot as received; an already expired lot is refused at the door."""
    try:
        with db.transaction() as session:
            device = _device(session, actor, device_id, Permission.DEVICE_MANAGE)
            today = today or clinic_today(session, device.clinic_id)
            errors = []
            if new.received_on > today:
                errors.append(FieldError("/received_on", "cannot be in the future"))
            if new.expires_on <= today:
                errors.append(FieldError("/expires_on", f"this lot expired on {new.expires_on}"))
            if errors:
                raise InputInvalid(errors)
            lot = CartridgeLot(
                id=new_id("lot"),
                clinic_id=device.clinic_id,
                device_id=device.id,
                lot_number=new.lot_number,
                expires_on=new.expires_on,
                received_on=new.received_on,
            )
            session.add(lot)
            session.flush()
            audit_write(
                session,
                actor,
                "lot.receive",
                "cartridge_lot",
                lot.id,
                lot.clinic_id,
                {"device_id": device.id, "lot_number": lot.lot_number},
            )
            return lot_view(lot, today)
    except IntegrityError:
        raise InputInvalid(
            [FieldError("/lot_number", f"lot {new.lot_number} is already registered")]
        ) from None


def lot_for_session(
    session: Session, clinic_id: str, lot_id: str, today: date
) -> tuple[CartridgeLot, Device]:
    """The lot a new session names, or a refusal that says what is wrong with it."""
    lot = session.get(CartridgeLot, lot_id)
    if lot is None or lot.clinic_id != clinic_id:
        raise InputInvalid([FieldError("/lot_id", "no such cartridge lot in this clinic")])
    device = session.get(Device, lot.device_id)
    if device is None or not device.active:
        raise InputInvalid([FieldError("/lot_id", "this lot's device is no longer in use")])
    if lot.expires_on < today:
        raise InputInvalid(
            [FieldError("/lot_id", f"lot {lot.lot_number} expired on {lot.expires_on}")]
        )
    return lot, device


def recall(db: Database, actor: Actor, lot_id: str) -> dict[str, Any]:
    """Every session that used the lot and the patient it was for, with contact details."""
    with db.transaction() as session:
        lot = _lot(session, actor, lot_id, Permission.LOT_RECALL)
        device = session.get(Device, lot.device_id)
        assert device is not None
        rows = session.execute(
            select(SessionRecord, Patient, UserAccount.display_name)
            .join(Patient, Patient.id == SessionRecord.patient_id)
            .join(UserAccount, UserAccount.id == SessionRecord.performed_by_id)
            .where(SessionRecord.lot_id == lot.id, SessionRecord.voided_at.is_(None))
            .order_by(SessionRecord.performed_at, SessionRecord.id)
        )
        sessions = [
            {
                "session_id": record.id,
                "performed_at": record.performed_at.isoformat(),
                "patient_id": patient.id,
                "family_name": patient.family_name,
                "given_name": patient.given_name,
                "date_of_birth": patient.date_of_birth.isoformat(),
                "email": patient.email or "",
                "phone": patient.phone or "",
                "performed_by": performer,
                "device": device_label(device),
                "lot_number": lot.lot_number,
            }
            for record, patient, performer in rows
        ]
        audit_read(
            session,
            actor,
            "lot.recall",
            "session_record",
            lot.clinic_id,
            [s["session_id"] for s in sessions],
        )
        return {
            "lot": lot_view(lot, clinic_today(session, lot.clinic_id), len(sessions)),
            "device": device_label(device),
            "patients": len({s["patient_id"] for s in sessions}),
            "sessions": sessions,
            "time_zone": clinic_zone(session, lot.clinic_id).key,
        }


def recall_csv(result: dict[str, Any]) -> str:
    """The recall list as CSV (one row per session), for the clinic's recall letters.

    >>> print(recall_csv({"sessions": []}).strip())
    session_id,performed_at,patient_id,family_name,given_name,date_of_birth,email,phone,performed_by,device,lot_number
    """
    return csv_text(result["sessions"], RECALL_COLUMNS)


def safety_by_lot(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Adverse events per device and lot: sessions, events linked to a session with the lot,
    serious ones, and the rate per 100 sessions (counts, not a statistical comparison)."""
    authorize(actor, Permission.SAFETY_REPORT)
    with db.transaction() as session:
        sessions = dict(
            session.execute(
                select(SessionRecord.lot_id, func.count(SessionRecord.id))
                .where(
                    SessionRecord.clinic_id == actor.clinic_id,
                    SessionRecord.voided_at.is_(None),
                    SessionRecord.lot_id.is_not(None),
                )
                .group_by(SessionRecord.lot_id)
            ).all()
        )
        events: dict[str, tuple[int, int]] = {}
        for lot_id, serious in session.execute(
            select(SessionRecord.lot_id, AdverseEvent.serious)
            .join(SessionRecord, SessionRecord.id == AdverseEvent.session_record_id)
            .where(AdverseEvent.clinic_id == actor.clinic_id, AdverseEvent.voided_at.is_(None))
        ):
            if lot_id is None:
                continue
            total, grave = events.get(lot_id, (0, 0))
            events[lot_id] = (total + 1, grave + int(serious))
        rows = []
        for lot, device in session.execute(
            select(CartridgeLot, Device)
            .join(Device, Device.id == CartridgeLot.device_id)
            .where(CartridgeLot.clinic_id == actor.clinic_id)
            .order_by(Device.maker, Device.model, CartridgeLot.lot_number)
        ):
            used = sessions.get(lot.id, 0)
            total, grave = events.get(lot.id, (0, 0))
            rows.append(
                {
                    "device_id": device.id,
                    "device": device_label(device),
                    "lot_id": lot.id,
                    "lot_number": lot.lot_number,
                    "sessions": used,
                    "adverse_events": total,
                    "serious": grave,
                    "per_100_sessions": round(100 * total / used, 1) if used else None,
                }
            )
        audit_read(session, actor, "safety.by_lot", "cartridge_lot", actor.clinic_id or "", [])
        return rows


def lot_choices(db: Database, actor: Actor, today: date | None = None) -> list[dict[str, str]]:
    """Lots a session may name today, labelled for a picker (soonest expiry first per device)."""
    authorize(actor, Permission.DEVICE_LIST)
    with db.transaction() as session:
        today = today or clinic_today(session, actor.clinic_id)
        return [
            {
                "id": lot.id,
                "label": f"{device_label(device)} · lot {lot.lot_number} · expires "
                f"{lot.expires_on.isoformat()}",
            }
            for lot, device in usable_lots(session, actor.clinic_id or "", today)
        ]
