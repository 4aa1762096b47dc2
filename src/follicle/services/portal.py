"""What a patient sees first in their portal."""

from __future__ import annotations

from dataclasses import dataclass

from follicle.records import audit
from follicle.records.models import Clinic, Patient
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.database import Database
from follicle.services.errors import NotFound


@dataclass(frozen=True)
class PortalHome:
    given_name: str
    clinic_name: str


def portal_home(db: Database, actor: Actor) -> PortalHome:
    authorize(actor, Permission.PORTAL_VIEW)
    with db.transaction() as session:
        patient = session.get(Patient, actor.patient_id) if actor.patient_id else None
        if patient is None or patient.voided_at is not None:
            raise NotFound
        authorize(
            actor, Permission.PATIENT_READ, clinic_id=patient.clinic_id, patient_id=patient.id
        )
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None
        audit.append(
            session,
            actor=actor.audit_name,
            action="portal.view",
            resource_type="patient",
            resource_id=patient.id,
            clinic_id=patient.clinic_id,
            client_address=actor.client_address,
        )
        return PortalHome(given_name=patient.given_name, clinic_name=clinic.name)
