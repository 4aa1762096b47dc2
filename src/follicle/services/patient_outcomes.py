"""The patient's own view of the change since treatment began (DESIGN.md §1.8): one question
from the evidence catalogue, answered in the portal or asked by the practitioner at a visit,
shown beside the measured change and never scored against it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from follicle.clinic.catalogue import load_catalogue
from follicle.records.models import PatientOutcome, SessionRecord, new_id, utcnow
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.commands import PatientOutcomeReport
from follicle.services.common import audit_write, list_patient_records, load_patient
from follicle.services.database import Database
from follicle.services.errors import NotNow


def outcome_view(outcome: PatientOutcome) -> dict[str, Any]:
    answers = load_catalogue().patient_outcome.answers
    return {
        "id": outcome.id,
        "patient_id": outcome.patient_id,
        "answered_at": outcome.answered_at.isoformat(),
        "change_score": outcome.change_score,
        "answer": answers[outcome.change_score],
        "comment": outcome.comment,
        "recorded_by": outcome.recorded_by_id,
    }


def question() -> dict[str, Any]:
    """The question and its answers, as the forms ask it."""
    asked = load_catalogue().patient_outcome
    return {
        "question": asked.question,
        "answers": [{"change_score": k, "answer": v} for k, v in sorted(asked.answers.items())],
        "evidence": list(asked.evidence),
    }


def report_outcome(
    db: Database, actor: Actor, patient_id: str, answer: PatientOutcomeReport
) -> dict[str, Any]:
    """Keep the patient's answer; before the first session there is no change to judge."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.PATIENT_OUTCOME_REPORT)
        sessions_done = session.scalar(
            select(func.count(SessionRecord.id)).where(
                SessionRecord.patient_id == patient.id, SessionRecord.voided_at.is_(None)
            )
        )
        if not sessions_done:
            raise NotNow("there is no change to judge yet: the question is asked after a session")
        outcome = PatientOutcome(
            id=new_id("pro"),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            answered_at=utcnow(),
            change_score=answer.change_score,
            comment=answer.comment,
            recorded_by_id=actor.user_id,
        )
        session.add(outcome)
        session.flush()
        audit_write(
            session,
            actor,
            "patient_outcome.report",
            "patient_outcome",
            outcome.id,
            patient.clinic_id,
            {"patient_id": patient.id, "change_score": answer.change_score},
        )
        return outcome_view(outcome)


def list_outcomes(db: Database, actor: Actor, patient_id: str) -> list[dict[str, Any]]:
    """The patient's answers, oldest first."""
    return list_patient_records(
        db,
        actor,
        patient_id,
        PatientOutcome,
        Permission.PATIENT_OUTCOME_READ,
        "patient_outcome.list",
        outcome_view,
        (PatientOutcome.answered_at, PatientOutcome.id),
    )
