"""Intake and screening: submit or amend an intake, and screen it in the same transaction.

A screening is stored with the rules version that produced it, and a new intake (or an
amendment) is screened again at once, so the chart never shows a decision for an intake that
has since changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.clinic.intake import IntakeInvalid, validate_intake
from follicle.clinic.screening import screen
from follicle.records.models import Intake, Patient, ScreeningResult, new_id
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.commands import IntakeSubmission
from follicle.services.common import (
    audit_read,
    audit_write,
    clinic_settings,
    clinic_today,
    list_patient_records,
    load_patient,
    load_record,
    read_patient_record,
)
from follicle.services.database import Database
from follicle.services.errors import NotFound, NotNow


def intake_view(intake: Intake, superseded_by: str | None = None) -> dict[str, Any]:
    return {
        "id": intake.id,
        "patient_id": intake.patient_id,
        "recorded_on": intake.recorded_on.isoformat(),
        "working_diagnosis": intake.working_diagnosis,
        "intake": intake.document,
        "amends": intake.amends_id,
        "reason": intake.amend_reason,
        "superseded_by": superseded_by,
        "recorded_by": intake.recorded_by_id,
        "created_at": intake.created_at.isoformat(),
    }


def screening_view(result: ScreeningResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "patient_id": result.patient_id,
        "intake_id": result.intake_id,
        "decision": result.decision,
        "rules_version": result.rules_version,
        "screening": result.result,
        "screened_by": result.screened_by_id,
        "created_at": result.created_at.isoformat(),
    }


def _intakes(session: Session, patient_id: str) -> list[Intake]:
    return list(
        session.scalars(
            select(Intake)
            .where(Intake.patient_id == patient_id, Intake.voided_at.is_(None))
            .order_by(Intake.created_at, Intake.id)
        )
    )


def _superseded(intakes: list[Intake]) -> dict[str, str]:
    return {i.amends_id: i.id for i in intakes if i.amends_id}


def newest_unamended(intakes: list[Intake]) -> Intake | None:
    """The newest of these intakes (oldest first) that nothing amends; voided ones count as
    absent."""
    present = [i for i in intakes if i.voided_at is None]
    replaced = _superseded(present)
    live = [i for i in present if i.id not in replaced]
    return live[-1] if live else None


def current_intake(session: Session, patient_id: str) -> Intake | None:
    """The newest intake nothing amends."""
    return newest_unamended(_intakes(session, patient_id))


def submit_intake(
    db: Database,
    actor: Actor,
    patient_id: str,
    submission: IntakeSubmission,
    today: date | None = None,
) -> dict[str, Any]:
    """Store an intake (or an amendment) and its screening; both or neither."""
    try:
        document = validate_intake(submission.intake)
    except IntakeInvalid as exc:
        raise InputInvalid(
            [FieldError("/intake" + e.pointer, e.message) for e in exc.errors]
        ) from exc
    if submission.amends and not submission.reason:
        raise InputInvalid([FieldError("/reason", "an amendment needs a reason")])
    if submission.reason and not submission.amends:
        raise InputInvalid([FieldError("/amends", "a reason is only for an amendment: name it")])
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.INTAKE_WRITE)
        if submission.amends:
            earlier = session.get(Intake, submission.amends)
            if earlier is None or earlier.patient_id != patient.id or earlier.voided_at:
                raise InputInvalid([FieldError("/amends", "no such intake for this patient")])
            newer = _superseded(_intakes(session, patient.id)).get(earlier.id)
            if newer is not None:
                raise NotNow(f"intake {earlier.id} was already amended by {newer}; amend that")
        intake = Intake(
            id=new_id("ink"),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            document=document,
            working_diagnosis=document["hair_loss"]["working_diagnosis"],
            recorded_on=date.fromisoformat(document["recorded_on"])
            if "recorded_on" in document
            else (today or clinic_today(session, patient.clinic_id)),
            amends_id=submission.amends,
            amend_reason=submission.reason,
            recorded_by_id=actor.user_id,
        )
        session.add(intake)
        try:
            session.flush()
        except IntegrityError as exc:
            if "amends" not in str(exc.orig):
                raise
            raise NotNow(
                f"intake {submission.amends} was amended by someone else a moment ago; "
                "read the new version and amend that"
            ) from exc
        audit_write(
            session,
            actor,
            "intake.amend" if submission.amends else "intake.create",
            "intake",
            intake.id,
            patient.clinic_id,
            {"patient_id": patient.id, "amends": submission.amends},
        )
        result = _screen(session, actor, patient, intake, today)
        return {**intake_view(intake), "screening": screening_view(result)}


def _screen(
    session: Session, actor: Actor, patient: Patient, intake: Intake, today: date | None
) -> ScreeningResult:
    outcome = screen(intake.document, clinic_settings(session, patient.clinic_id), as_of=today)
    result = ScreeningResult(
        id=new_id("scr"),
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        intake_id=intake.id,
        decision=outcome.decision,
        result=outcome.as_contract(),
        rules_version=outcome.rules_version,
        screened_by_id=actor.user_id,
    )
    session.add(result)
    session.flush()
    audit_write(
        session,
        actor,
        "screening.create",
        "screening_result",
        result.id,
        patient.clinic_id,
        {"patient_id": patient.id, "intake_id": intake.id, "decision": outcome.decision},
    )
    return result


def list_intakes(db: Database, actor: Actor, patient_id: str) -> list[dict[str, Any]]:
    """Every intake, amendments included, oldest first (the history is kept)."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.INTAKE_READ)
        intakes = _intakes(session, patient.id)
        replaced = _superseded(intakes)
        views = [intake_view(i, replaced.get(i.id)) for i in intakes]
        audit_read(
            session,
            actor,
            "intake.list",
            "intake",
            patient.clinic_id,
            [i.id for i in intakes],
            patient.id,
        )
        return views


def read_intake(db: Database, actor: Actor, patient_id: str, intake_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        intake = load_record(session, actor, Intake, intake_id, patient_id, Permission.INTAKE_READ)
        replaced = _superseded(_intakes(session, patient_id))
        audit_read(
            session, actor, "intake.read", "intake", intake.clinic_id, [intake.id], patient_id
        )
        return intake_view(intake, replaced.get(intake.id))


def rescreen(
    db: Database, actor: Actor, patient_id: str, today: date | None = None
) -> dict[str, Any]:
    """Screen the current intake again (after the rules or the clinic's settings changed)."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.SCREENING_RUN)
        intake = current_intake(session, patient.id)
        if intake is None:
            raise NotNow("this patient has no intake to screen yet")
        return screening_view(_screen(session, actor, patient, intake, today))


def list_screenings(db: Database, actor: Actor, patient_id: str) -> list[dict[str, Any]]:
    return list_patient_records(
        db,
        actor,
        patient_id,
        ScreeningResult,
        Permission.SCREENING_READ,
        "screening.list",
        screening_view,
        (ScreeningResult.created_at, ScreeningResult.id),
    )


def read_screening(
    db: Database, actor: Actor, patient_id: str, screening_id: str
) -> dict[str, Any]:
    return read_patient_record(
        db,
        actor,
        patient_id,
        screening_id,
        ScreeningResult,
        Permission.SCREENING_READ,
        "screening.read",
        screening_view,
    )


def latest_screening(session: Session, patient_id: str) -> ScreeningResult:
    """The screening of the current intake, or NotNow when there is none."""
    intake = current_intake(session, patient_id)
    if intake is None:
        raise NotNow("this patient has no intake yet")
    result = session.scalars(
        select(ScreeningResult)
        .where(ScreeningResult.intake_id == intake.id, ScreeningResult.voided_at.is_(None))
        .order_by(ScreeningResult.created_at.desc(), ScreeningResult.id.desc())
    ).first()
    if result is None:
        raise NotFound
    return result
