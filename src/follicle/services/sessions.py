"""Session records: the pre-session re-check, then what was done, by whom, with what.

Before a session the patient's current intake is screened again with what changed since
(new medicines, new conditions, today's scalp); a result that does not allow treatment today
stops the session. A session also needs an approved plan that is not on hold, a valid
treatment consent on the current text, an unexpired cartridge, and depths no deeper than the
approved plan.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.clinic.intake import IntakeInvalid, validate_intake
from follicle.clinic.screening import screen
from follicle.records.models import Appointment, Plan, SessionRecord, new_id
from follicle.services import messages
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.commands import NewSessionRecord, PreSessionCheck, SessionVoid
from follicle.services.common import (
    audit_write,
    clinic_settings,
    clinic_today,
    clinic_zone,
    list_patient_records,
    load_patient,
    load_record,
    read_patient_record,
    stated_time,
)
from follicle.services.consents import valid_consents
from follicle.services.database import Database
from follicle.services.devices import device_label, lot_for_session
from follicle.services.errors import NotNow
from follicle.services.intakes import current_intake


def session_view(record: SessionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "patient_id": record.patient_id,
        "plan_id": record.plan_id,
        "appointment_id": record.appointment_id,
        "performed_by": record.performed_by_id,
        "performed_at": record.performed_at.isoformat(),
        "lot_id": record.lot_id,
        "device_name": record.device_name,
        "cartridge_lot": record.cartridge_lot,
        "cartridge_expiry": record.cartridge_expiry.isoformat(),
        "depth_mm_by_region": record.depth_mm_by_region,
        "endpoint": record.endpoint,
        "pain_score": record.pain_score,
        "reactions": record.reactions,
        "notes": record.notes,
        "pre_session_check": record.pre_session_check,
        "version": record.version,
    }


def _recheck(
    session: Session, patient_id: str, clinic_id: str, check: PreSessionCheck, today: date
) -> dict[str, Any]:
    """Screen the current intake plus today's changes; refuse if treatment is not allowed."""
    intake = current_intake(session, patient_id)
    if intake is None:
        raise NotNow("this patient has no intake; record one before a session")
    document = copy.deepcopy(intake.document)
    history = document["history"]
    history["medications"] = [*history["medications"], *check.new_medications]
    history["conditions"] = sorted({*history["conditions"], *check.new_conditions})
    history["active_scalp_conditions"] = sorted(set(check.active_scalp_conditions))
    if check.pregnant is not None and document["patient"]["sex_at_birth"] != "male":
        document["patient"]["pregnant"] = check.pregnant
    document.pop("recorded_on", None)
    try:
        validate_intake(document)
    except IntakeInvalid as exc:
        raise InputInvalid(
            [FieldError("/pre_session_check", f"{e.pointer}: {e.message}") for e in exc.errors]
        ) from exc
    outcome = screen(document, clinic_settings(session, clinic_id), as_of=today)
    result = {
        "asked": check.model_dump(),
        "decision": outcome.decision,
        "rules_version": outcome.rules_version,
        "findings": [f.as_contract() for f in outcome.findings],
    }
    if not outcome.plannable:
        reasons = "; ".join(f.reason for f in outcome.findings if f.level.name == outcome.decision)
        raise NotNow(f"the pre-session check says {outcome.decision.replace('_', ' ')}: {reasons}")
    return result


def record_session(
    db: Database,
    actor: Actor,
    patient_id: str,
    new: NewSessionRecord,
    today: date | None = None,
) -> dict[str, Any]:
    if not new.pre_session_check.confirmed_with_patient:
        raise InputInvalid(
            [
                FieldError(
                    "/pre_session_check/confirmed_with_patient",
                    "ask the patient the pre-session questions first",
                )
            ]
        )
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.SESSION_RECORD)
        plan = session.get(Plan, new.plan_id)
        if plan is None or plan.patient_id != patient.id or plan.voided_at is not None:
            raise InputInvalid([FieldError("/plan_id", "no such plan for this patient")])
        if plan.status == "on_hold":
            raise NotNow(f"the plan is on hold: {plan.hold_reason}")
        if plan.status != "approved":
            raise NotNow(f"the plan is {plan.status}; a session needs an approved plan")
        if "treatment" not in valid_consents(session, patient.clinic_id, patient.id):
            raise NotNow(
                "the patient has not signed the current treatment consent (or withdrew it)"
            )
        too_deep = {r: d for r, d in new.depth_mm_by_region.items() if d > plan.needle_depth_mm}
        if too_deep:
            raise InputInvalid(
                [
                    FieldError(
                        f"/depth_mm_by_region/{region}",
                        f"{depth} mm is deeper than the approved plan ({plan.needle_depth_mm} mm)",
                    )
                    for region, depth in sorted(too_deep.items())
                ]
            )
        appointment = None
        if new.appointment_id:
            appointment = session.get(Appointment, new.appointment_id)
            if (
                appointment is None
                or appointment.patient_id != patient.id
                or appointment.kind != "session"
            ):
                raise InputInvalid(
                    [FieldError("/appointment_id", "no such session appointment for this patient")]
                )
            if appointment.status != "booked":
                raise NotNow(f"the appointment is {appointment.status.replace('_', ' ')}")
        today = today or clinic_today(session, patient.clinic_id)
        performed_at = stated_time(
            new.performed_at, clinic_zone(session, patient.clinic_id), "/performed_at"
        )
        lot, device = lot_for_session(session, patient.clinic_id, new.lot_id, today)
        check = _recheck(session, patient.id, patient.clinic_id, new.pre_session_check, today)

        record = SessionRecord(
            id=new_id("rec"),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            plan_id=plan.id,
            appointment_id=appointment.id if appointment else None,
            performed_by_id=actor.user_id,
            performed_at=performed_at,
            lot_id=lot.id,
            device_name=device_label(device),
            cartridge_lot=lot.lot_number,
            cartridge_expiry=lot.expires_on,
            depth_mm_by_region=dict(new.depth_mm_by_region),
            endpoint=new.endpoint,
            pain_score=new.pain_score,
            reactions=new.reactions,
            notes=new.notes,
            pre_session_check=check,
        )
        session.add(record)
        if appointment is not None:
            appointment.status = "completed"
        session.flush()
        if _sessions_done(session, plan) >= plan.sessions_planned:
            plan.status = "completed"
        messages.on_session_recorded(session, record, plan)
        audit_write(
            session,
            actor,
            "session.record",
            "session_record",
            record.id,
            patient.clinic_id,
            {"patient_id": patient.id, "plan_id": plan.id, "lot": record.cartridge_lot},
        )
        return session_view(record)


def void_session(
    db: Database, actor: Actor, patient_id: str, session_id: str, void: SessionVoid
) -> dict[str, Any]:
    """Void a session record entered wrongly, with the reason: it stops counting (the series,
    the plan, reports, the portal, exports and lot recalls; the FHIR record keeps it, marked
    entered in error). What recording it did is undone so it can be recorded again as it
    was: its appointment is open again, a plan it completed is approved again, and its
    aftercare messages not sent yet are cancelled. A voided record is not found (404)."""
    with db.transaction() as session:
        record = load_record(
            session, actor, SessionRecord, session_id, patient_id, Permission.SESSION_VOID
        )
        voided_at = record.void(actor.user_id, void.reason)
        appointment = session.get(Appointment, record.appointment_id or "")
        reopened = appointment is not None and appointment.status == "completed"
        if appointment is not None and reopened:
            appointment.status = "booked"
        plan = session.get(Plan, record.plan_id)
        assert plan is not None
        session.flush()
        plan_reopened = (
            plan.status == "completed" and _sessions_done(session, plan) < plan.sessions_planned
        )
        if plan_reopened:
            plan.status = "approved"
        cancelled = messages.cancel_aftercare(
            session, record.id, f"the session record was voided: {void.reason}"
        )
        audit_write(
            session,
            actor,
            "session.void",
            "session_record",
            record.id,
            record.clinic_id,
            {
                "patient_id": patient_id,
                "reason": void.reason,
                "appointment_reopened": record.appointment_id if reopened else None,
                "plan_reopened": plan.id if plan_reopened else None,
                "messages_cancelled": cancelled,
            },
        )
        return {
            "session_id": record.id,
            "voided_at": voided_at.isoformat(),
            "void_reason": void.reason,
            "appointment_reopened": reopened,
            "plan_reopened": plan_reopened,
            "messages_cancelled": cancelled,
        }


def _sessions_done(session: Session, plan: Plan) -> int:
    """The plan's sessions recorded and not voided."""
    return int(
        session.scalar(
            select(func.count(SessionRecord.id)).where(
                SessionRecord.plan_id == plan.id, SessionRecord.voided_at.is_(None)
            )
        )
        or 0
    )


def list_sessions(db: Database, actor: Actor, patient_id: str) -> list[dict[str, Any]]:
    return list_patient_records(
        db,
        actor,
        patient_id,
        SessionRecord,
        Permission.SESSION_READ,
        "session.list",
        session_view,
        (SessionRecord.performed_at, SessionRecord.id),
    )


def read_session(db: Database, actor: Actor, patient_id: str, session_id: str) -> dict[str, Any]:
    return read_patient_record(
        db,
        actor,
        patient_id,
        session_id,
        SessionRecord,
        Permission.SESSION_READ,
        "session.read",
        session_view,
    )
