"""Plans: propose from the clinical engine, override within bounds with a reason, approve,
stop.

A plan is proposed for the practitioner's own credential (the engine caps the depth at what
the clinic allows that credential), and only a practitioner whose credential allows its depth
may approve it. Changing an approved plan sends it back for approval.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.clinic.planning import make_plan
from follicle.records.models import Appointment, Plan, new_id, utcnow
from follicle.services import messages
from follicle.services.actors import Actor
from follicle.services.appointments import cancel_sessions_ahead
from follicle.services.authz import Permission
from follicle.services.commands import PlanOverride, PlanStop
from follicle.services.common import (
    audit_write,
    check_version,
    clinic_settings,
    clinic_today,
    list_patient_records,
    load_patient,
    load_record,
    read_patient_record,
)
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotNow
from follicle.services.intakes import current_intake, latest_screening

ACTIVE_STATUSES = ("approved", "on_hold")
_OVERRIDABLE = {
    "needle_depth_mm": "needle_depth_mm",
    "interval_days": "interval_days",
    "sessions": "sessions",
}


def plan_view(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "patient_id": plan.patient_id,
        "screening_id": plan.screening_id,
        "status": plan.status,
        "plan": plan.document,
        "override_reason": plan.override_reason,
        "proposed_by": plan.proposed_by_id,
        "approved_by": plan.approved_by_id,
        "approved_at": plan.approved_at.isoformat() if plan.approved_at else None,
        "review_on": plan.review_on.isoformat() if plan.review_on else None,
        "hold_reason": plan.hold_reason,
        "stopped_at": plan.stopped_at.isoformat() if plan.stopped_at else None,
        "stopped_by": plan.stopped_by_id,
        "stop_reason": plan.stop_reason,
        "version": plan.version,
        "created_at": plan.created_at.isoformat(),
    }


def propose_plan(
    db: Database, actor: Actor, patient_id: str, today: date | None = None
) -> dict[str, Any]:
    """Propose a plan from the current intake's screening, for the actor's credential."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.PLAN_PROPOSE)
        screening = latest_screening(session, patient.id)
        intake = current_intake(session, patient.id)
        assert intake is not None
        plans = list(
            session.scalars(
                select(Plan).where(Plan.patient_id == patient.id, Plan.voided_at.is_(None))
            )
        )
        if any(p.status in ACTIVE_STATUSES for p in plans):
            raise NotNow("the patient has an approved or held plan; stop it to propose another")
        document = copy.deepcopy(intake.document)
        if actor.credential:
            document.setdefault("operator", {})["credential"] = actor.credential
        result = make_plan(document, clinic_settings(session, patient.clinic_id), as_of=today)
        if result.plan is None:
            raise NotNow(result.why_no_plan or "the screening does not allow a plan")
        now = utcnow()
        for earlier in plans:
            if earlier.status == "proposed":
                earlier.void(actor.user_id, "replaced by a newer proposal", now)
        plan = Plan(
            id=new_id("pln"),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            screening_id=screening.id,
            status="proposed",
            document=result.plan,
            indication=result.plan["indication"],
            needle_depth_mm=result.plan["needle_depth_mm"],
            interval_days=result.plan["interval_days"],
            sessions_planned=result.plan["sessions"],
            proposed_by_id=actor.user_id,
        )
        session.add(plan)
        session.flush()
        audit_write(
            session,
            actor,
            "plan.propose",
            "plan",
            plan.id,
            plan.clinic_id,
            {"patient_id": patient.id, "screening_id": screening.id},
        )
        return plan_view(plan)


def list_plans(db: Database, actor: Actor, patient_id: str) -> list[dict[str, Any]]:
    return list_patient_records(
        db,
        actor,
        patient_id,
        Plan,
        Permission.PLAN_READ,
        "plan.list",
        plan_view,
        (Plan.created_at, Plan.id),
    )


def read_plan(db: Database, actor: Actor, patient_id: str, plan_id: str) -> dict[str, Any]:
    return read_patient_record(
        db, actor, patient_id, plan_id, Plan, Permission.PLAN_READ, "plan.read", plan_view
    )


def override_plan(
    db: Database,
    actor: Actor,
    patient_id: str,
    plan_id: str,
    change: PlanOverride,
    expected_version: int | None,
) -> dict[str, Any]:
    """Change depth, interval or sessions within the plan's bounds; it needs approval again."""
    with db.transaction() as session:
        plan = load_record(session, actor, Plan, plan_id, patient_id, Permission.PLAN_OVERRIDE)
        check_version(plan, expected_version, plan_view)
        if plan.status not in ("proposed", "approved"):
            raise NotNow(f"a plan that is {plan.status.replace('_', ' ')} cannot be changed")
        document = copy.deepcopy(plan.document)
        requested = {
            name: getattr(change, name)
            for name in _OVERRIDABLE
            if getattr(change, name) is not None
        }
        if not requested:
            raise InputInvalid([FieldError("", "name at least one value to change")])
        errors = []
        for name, value in requested.items():
            low, high = document["bounds"][name]
            if not low <= value <= high:
                errors.append(
                    FieldError(f"/{name}", f"must be within the plan's bounds {low}-{high}")
                )
        depth = requested.get("needle_depth_mm")
        if depth is not None and actor.credential:
            limit = clinic_settings(session, plan.clinic_id).max_depth_mm(actor.credential)
            if depth > limit:
                errors.append(
                    FieldError(
                        "/needle_depth_mm",
                        f"is deeper than the clinic allows a {actor.credential} ({limit} mm)",
                    )
                )
        if errors:
            raise InputInvalid(errors)
        changes = {name: [document[name], value] for name, value in requested.items()}
        document.update(requested)
        document.setdefault("overrides", []).append(
            {
                "by": actor.user_id,
                "at": utcnow().isoformat(),
                "reason": change.reason,
                "changes": changes,
            }
        )
        plan.document = document
        plan.needle_depth_mm = document["needle_depth_mm"]
        plan.interval_days = document["interval_days"]
        plan.sessions_planned = document["sessions"]
        plan.override_reason = change.reason
        plan.status = "proposed"
        plan.approved_by_id = None
        plan.approved_at = None
        plan.review_on = None
        session.flush()
        audit_write(
            session,
            actor,
            "plan.override",
            "plan",
            plan.id,
            plan.clinic_id,
            {"patient_id": patient_id, "changes": changes},
        )
        return plan_view(plan)


def approve_plan(
    db: Database,
    actor: Actor,
    patient_id: str,
    plan_id: str,
    expected_version: int | None,
    today: date | None = None,
) -> dict[str, Any]:
    """Approve a proposed plan; the approver's credential must allow its depth."""
    with db.transaction() as session:
        plan = load_record(session, actor, Plan, plan_id, patient_id, Permission.PLAN_APPROVE)
        check_version(plan, expected_version, plan_view)
        if plan.status != "proposed":
            raise NotNow(f"only a proposed plan can be approved; this one is {plan.status}")
        if not actor.credential:
            raise Forbidden("approving a plan needs a practitioner's credential")
        limit = clinic_settings(session, plan.clinic_id).max_depth_mm(actor.credential)
        if plan.needle_depth_mm > limit:
            raise Forbidden(
                f"a {actor.credential} may approve plans up to {limit} mm in this clinic; "
                f"this plan is {plan.needle_depth_mm} mm"
            )
        now = utcnow()
        plan.status = "approved"
        plan.approved_by_id = actor.user_id
        plan.approved_at = now
        plan.review_on = (today or clinic_today(session, plan.clinic_id)) + timedelta(
            weeks=int(plan.document["review_after_weeks"])
        )
        session.flush()
        messages.on_plan_approved(session, plan)
        audit_write(
            session,
            actor,
            "plan.approve",
            "plan",
            plan.id,
            plan.clinic_id,
            {"patient_id": patient_id, "needle_depth_mm": plan.needle_depth_mm},
        )
        return plan_view(plan)


#: What the patient is told of a stop (the reason stays in the record: it may be clinical).
STOPPED_NOTICE = "the treatment plan was stopped"


def stop_plan(
    db: Database,
    actor: Actor,
    patient_id: str,
    plan_id: str,
    stop: PlanStop,
    expected_version: int | None,
) -> dict[str, Any]:
    """Stop a plan with the reason (the patient stops, or it no longer suits them): its
    sessions still to come are cancelled, the patient told, and its review reminder dropped;
    another plan may then be proposed. The sessions done stay in the record."""
    with db.transaction() as session:
        plan = load_record(session, actor, Plan, plan_id, patient_id, Permission.PLAN_STOP)
        check_version(plan, expected_version, plan_view)
        if plan.status not in ("proposed", *ACTIVE_STATUSES):
            raise NotNow(f"a plan that is {plan.status.replace('_', ' ')} cannot be stopped")
        plan.status = "stopped"
        plan.stopped_at = utcnow()
        plan.stopped_by_id = actor.user_id
        plan.stop_reason = stop.reason
        cancelled = cancel_sessions_ahead(session, Appointment.plan_id == plan.id, STOPPED_NOTICE)
        messages.cancel_review_reminder(session, plan.id, STOPPED_NOTICE)
        audit_write(
            session,
            actor,
            "plan.stop",
            "plan",
            plan.id,
            plan.clinic_id,
            {
                "patient_id": patient_id,
                "reason": stop.reason,
                "appointments_cancelled": cancelled,
            },
        )
        return plan_view(plan)
