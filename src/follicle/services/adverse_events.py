"""Adverse events: reported by staff or by the patient, graded by a practitioner; a serious
one holds the plan until a practitioner clears it with a note (DESIGN.md §1.9)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.clinic.adverse_events import is_serious, serious_evidence, urgent_advice
from follicle.clinic.errors import FieldError, InputInvalid
from follicle.records.models import AdverseEvent, Plan, SessionRecord, new_id, utcnow
from follicle.services import messages
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.commands import (
    AdverseEventClearance,
    AdverseEventGrading,
    AdverseEventReport,
    AdverseEventVoid,
)
from follicle.services.common import (
    audit_write,
    check_version,
    clinic_today,
    list_patient_records,
    load_patient,
    load_record,
)
from follicle.services.database import Database
from follicle.services.errors import NotNow


def event_view(event: AdverseEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "patient_id": event.patient_id,
        "session_record_id": event.session_record_id,
        "category": event.category,
        "grade": event.grade,
        "serious": event.serious,
        "description": event.description,
        "onset_on": event.onset_on.isoformat(),
        "reported_by": event.reported_by_id,
        "status": event.status,
        "cleared_by": event.cleared_by_id,
        "cleared_at": event.cleared_at.isoformat() if event.cleared_at else None,
        "clearance_note": event.clearance_note,
        # (as first reported: the same as above until a practitioner grades it)
        "reported_category": event.reported_category or event.category,
        "reported_grade": event.reported_grade or event.grade,
        "graded_by": event.graded_by_id,
        "graded_at": event.graded_at.isoformat() if event.graded_at else None,
        "grading_note": event.grading_note,
        "version": event.version,
        "created_at": event.created_at.isoformat(),
    }


def report(
    db: Database,
    actor: Actor,
    patient_id: str,
    new: AdverseEventReport,
    today: date | None = None,
) -> dict[str, Any]:
    """Record the event; a serious one puts the patient's approved plan on hold at once."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.ADVERSE_EVENT_REPORT)
        if new.onset_on > (today or clinic_today(session, patient.clinic_id)):
            raise InputInvalid([FieldError("/onset_on", "is in the future")])
        if new.session_record_id is not None:
            record = session.get(SessionRecord, new.session_record_id)
            if record is None or record.patient_id != patient.id or record.voided_at is not None:
                raise InputInvalid(
                    [FieldError("/session_record_id", "no such session for this patient")]
                )
        serious = is_serious(new.category, new.grade)
        event = AdverseEvent(
            id=new_id("ae"),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            session_record_id=new.session_record_id,
            category=new.category,
            grade=new.grade,
            serious=serious,
            description=new.description,
            onset_on=new.onset_on,
            reported_by_id=actor.user_id,
        )
        session.add(event)
        session.flush()
        held = _hold_plans(session, event) if serious else []
        audit_write(
            session,
            actor,
            "adverse_event.report",
            "adverse_event",
            event.id,
            patient.clinic_id,
            {"patient_id": patient.id, "grade": new.grade, "serious": serious, "held": held},
        )
        return {
            **event_view(event),
            "plans_held": held,
            "advice": urgent_advice(new.category, new.grade),
            "evidence": list(serious_evidence()) if serious else [],
        }


def clear(
    db: Database,
    actor: Actor,
    patient_id: str,
    event_id: str,
    clearance: AdverseEventClearance,
    expected_version: int | None,
) -> dict[str, Any]:
    """A practitioner reviews the event; when no serious event stays open, held plans resume."""
    with db.transaction() as session:
        event = _open_event(
            session, actor, (patient_id, event_id), Permission.ADVERSE_EVENT_CLEAR, expected_version
        )
        event.status = "cleared"
        event.cleared_by_id = actor.user_id
        event.cleared_at = utcnow()
        event.clearance_note = clearance.note
        session.flush()
        resumed = _resume_plans(session, event.patient_id)
        messages.on_problem_reviewed(session, event, _treatment(session, event.patient_id))
        audit_write(
            session,
            actor,
            "adverse_event.clear",
            "adverse_event",
            event.id,
            event.clinic_id,
            {"patient_id": patient_id, "resumed": resumed},
        )
        return {**event_view(event), "plans_resumed": resumed}


def grade(
    db: Database,
    actor: Actor,
    patient_id: str,
    event_id: str,
    grading: AdverseEventGrading,
    expected_version: int | None,
) -> dict[str, Any]:
    """A practitioner grades an open event (a patient's own grade is in their words, and a
    first report may be graded before it is seen): the event as first reported is kept. A
    plan is on hold exactly while a serious event is open, so graded serious it holds the
    plan, and graded not serious it resumes it when no other serious event is open."""
    with db.transaction() as session:
        event = _open_event(
            session, actor, (patient_id, event_id), Permission.ADVERSE_EVENT_GRADE, expected_version
        )
        if (grading.category, grading.grade) == (event.category, event.grade):
            raise InputInvalid(
                [FieldError("/grade", f"is already {_graded_as(event.category, event.grade)}")]
            )
        before = {"category": event.category, "grade": event.grade, "serious": event.serious}
        if event.reported_grade is None:
            event.reported_category, event.reported_grade = event.category, event.grade
        event.category, event.grade = grading.category, grading.grade
        event.serious = is_serious(grading.category, grading.grade)
        event.graded_by_id = actor.user_id
        event.graded_at = utcnow()
        event.grading_note = grading.note
        session.flush()
        held: list[str] = []
        resumed: list[str] = []
        if event.serious and not before["serious"]:
            held = _hold_plans(session, event)
        elif before["serious"] and not event.serious:
            resumed = _resume_plans(session, event.patient_id)
        elif event.serious:  # (still serious: the plans it holds say its grade now)
            for plan in _plans(session, event.patient_id, "on_hold"):
                if (plan.hold_reason or "").startswith(_hold_prefix(event)):
                    plan.hold_reason = _hold_reason(event)
        messages.on_problem_reviewed(session, event, _treatment(session, event.patient_id))
        audit_write(
            session,
            actor,
            "adverse_event.grade",
            "adverse_event",
            event.id,
            event.clinic_id,
            {
                "patient_id": patient_id,
                "from": before,
                "to": {"category": event.category, "grade": event.grade, "serious": event.serious},
                "held": held,
                "resumed": resumed,
            },
        )
        return {**event_view(event), "plans_held": held, "plans_resumed": resumed}


def void_event(
    db: Database, actor: Actor, patient_id: str, event_id: str, void: AdverseEventVoid
) -> dict[str, Any]:
    """Void an event entered wrongly (the wrong patient, a duplicate), with the reason: it
    stops counting (the chart's list, reports, exports; the FHIR record keeps it, marked
    entered in error) and stops holding the plan, which resumes when no other serious event
    is open. A voided event is not found (404)."""
    with db.transaction() as session:
        event = load_record(
            session, actor, AdverseEvent, event_id, patient_id, Permission.ADVERSE_EVENT_VOID
        )
        voided_at = event.void(actor.user_id, void.reason)
        session.flush()
        resumed = _resume_plans(session, patient_id) if event.serious else []
        audit_write(
            session,
            actor,
            "adverse_event.void",
            "adverse_event",
            event.id,
            event.clinic_id,
            {"patient_id": patient_id, "reason": void.reason, "resumed": resumed},
        )
        return {
            "event_id": event.id,
            "voided_at": voided_at.isoformat(),
            "void_reason": void.reason,
            "plans_resumed": resumed,
        }


def _open_event(
    session: Session,
    actor: Actor,
    ids: tuple[str, str],
    permission: Permission,
    expected_version: int | None,
) -> AdverseEvent:
    """The patient's event (patient id, event id) at the version the caller saw, still open."""
    patient_id, event_id = ids
    event = load_record(session, actor, AdverseEvent, event_id, patient_id, permission)
    check_version(event, expected_version, event_view)
    if event.status == "cleared":
        raise NotNow("this event was already cleared; report a new one if it came back")
    return event


def _graded_as(category: str, grade: int) -> str:
    return f"{category.replace('_', ' ')}, grade {grade}"


def _hold_plans(session: Session, event: AdverseEvent) -> list[str]:
    """Put the patient's approved plans on hold for this serious event; their ids."""
    held = []
    for plan in _plans(session, event.patient_id, "approved"):
        plan.status = "on_hold"
        plan.hold_reason = _hold_reason(event)
        held.append(plan.id)
    return held


def _hold_prefix(event: AdverseEvent) -> str:
    return f"serious adverse event {event.id}: "


def _hold_reason(event: AdverseEvent) -> str:
    return _hold_prefix(event) + _graded_as(event.category, event.grade)


def _treatment(session: Session, patient_id: str) -> str | None:
    """Where the patient's treatment stands: on hold, going on (approved), or neither."""
    for status in ("on_hold", "approved"):
        if _plans(session, patient_id, status):
            return status
    return None


def _plans(session: Session, patient_id: str, status: str) -> list[Plan]:
    return list(
        session.scalars(
            select(Plan).where(
                Plan.patient_id == patient_id, Plan.status == status, Plan.voided_at.is_(None)
            )
        )
    )


def _resume_plans(session: Session, patient_id: str) -> list[str]:
    """Resume the patient's plans on hold when no serious event of theirs is open; their ids."""
    still_open = session.scalars(
        select(AdverseEvent.id).where(
            AdverseEvent.patient_id == patient_id,
            AdverseEvent.serious.is_(True),
            AdverseEvent.status == "open",
            AdverseEvent.voided_at.is_(None),
        )
    ).first()
    if still_open is not None:
        return []
    resumed = []
    for plan in _plans(session, patient_id, "on_hold"):
        plan.status = "approved"
        plan.hold_reason = None
        resumed.append(plan.id)
    return resumed


def list_events(db: Database, actor: Actor, patient_id: str) -> list[dict[str, Any]]:
    return list_patient_records(
        db,
        actor,
        patient_id,
        AdverseEvent,
        Permission.ADVERSE_EVENT_READ,
        "adverse_event.list",
        event_view,
        (AdverseEvent.created_at, AdverseEvent.id),
    )
