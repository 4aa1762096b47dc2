"""Small builders for records tests need, written through the real models."""

from __future__ import annotations

from datetime import date

from follicle.records.models import Clinic, Patient, UserAccount, new_id
from follicle.services.database import Database
from follicle.services.passwords import hash_password


def make_clinic(db: Database, name: str = "Test Clinic", time_zone: str = "Europe/London") -> str:
    with db.transaction() as session:
        clinic = Clinic(
            id=new_id("cln"), name=name, slug=new_id("slug"), time_zone=time_zone, settings={}
        )
        session.add(clinic)
        return clinic.id


def make_patient(
    db: Database, clinic_id: str, family_name: str = "Testperson", given_name: str = "Pat"
) -> str:
    with db.transaction() as session:
        patient = Patient(
            id=new_id("pat"),
            clinic_id=clinic_id,
            given_name=given_name,
            family_name=family_name,
            date_of_birth=date(1990, 1, 2),
            sex_at_birth="female",
        )
        session.add(patient)
        return patient.id


def make_user(
    db: Database,
    clinic_id: str,
    role: str = "practitioner",
    password: str = "correct horse battery",
    email: str | None = None,
    patient_id: str | None = None,
    credential: str | None = None,
) -> str:
    with db.transaction() as session:
        user = UserAccount(
            id=new_id("usr"),
            clinic_id=clinic_id,
            email=email or f"{new_id('u')}@test.follicle",
            display_name="Test User",
            role=role,
            credential=credential,
            patient_id=patient_id,
            password_hash=hash_password(password),
        )
        session.add(user)
        return user.id
