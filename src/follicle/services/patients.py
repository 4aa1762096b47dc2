"""Finding and reading patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from follicle.records import audit
from follicle.records.models import Patient, ScreeningResult
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.database import Database
from follicle.services.errors import NotFound

MAX_LIST = 200


@dataclass(frozen=True)
class PatientSummary:
    id: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex_at_birth: str
    screening_decision: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def _summary(patient: Patient, screening_decision: str | None = None) -> PatientSummary:
    return PatientSummary(
        id=patient.id,
        given_name=patient.given_name,
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth,
        sex_at_birth=patient.sex_at_birth,
        screening_decision=screening_decision,
    )


def _latest_decisions(session: Session, patient_ids: list[str]) -> dict[str, str]:
    rows = session.execute(
        select(ScreeningResult.patient_id, ScreeningResult.decision)
        .where(ScreeningResult.patient_id.in_(patient_ids), ScreeningResult.voided_at.is_(None))
        .order_by(ScreeningResult.created_at, ScreeningResult.id)
    )
    return {row.patient_id: row.decision for row in rows}


def list_patients(db: Database, actor: Actor, name_contains: str = "") -> list[PatientSummary]:
    """The actor's clinic's patients, by family name; the read is audited with the ids shown."""
    authorize(actor, Permission.PATIENT_LIST)
    with db.transaction() as session:
        query = (
            select(Patient)
            .where(Patient.clinic_id == actor.clinic_id, Patient.voided_at.is_(None))
            .order_by(Patient.family_name, Patient.given_name, Patient.id)
            .limit(MAX_LIST)
        )
        needle = name_contains.strip().lower()
        if needle:
            pattern = f"%{needle}%"
            query = query.where(
                or_(Patient.family_name.ilike(pattern), Patient.given_name.ilike(pattern))
            )
        found = list(session.scalars(query))
        decisions = _latest_decisions(session, [p.id for p in found])
        patients = [_summary(p, decisions.get(p.id)) for p in found]
        audit.append(
            session,
            actor=actor.audit_name,
            action="patient.list",
            resource_type="patient",
            clinic_id=actor.clinic_id,
            client_address=actor.client_address,
            detail={"ids": [p.id for p in patients]},
        )
        return patients


def get_patient(db: Database, actor: Actor, patient_id: str) -> PatientSummary:
    """One patient, if the actor may see them; otherwise NotFound, as if absent."""
    with db.transaction() as session:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.voided_at is not None:
            raise NotFound
        authorize(
            actor, Permission.PATIENT_READ, clinic_id=patient.clinic_id, patient_id=patient.id
        )
        audit.append(
            session,
            actor=actor.audit_name,
            action="patient.read",
            resource_type="patient",
            resource_id=patient.id,
            clinic_id=patient.clinic_id,
            client_address=actor.client_address,
        )
        return _summary(patient)
