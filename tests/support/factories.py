"""Small builders for records tests need, written through the real models."""

from __future__ import annotations

from datetime import date, timedelta

from follicle.records.models import CartridgeLot, Clinic, Device, Patient, UserAccount, new_id
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


def make_lot(
    db: Database, clinic_id: str, expires_on: date | None = None, lot_number: str = "LOT-TEST-1"
) -> str:
    """A registered device with one cartridge lot (written directly, so an expired lot can be
    made for a test; the service refuses to receive one)."""
    with db.transaction() as session:
        device = Device(
            id=new_id("dev"),
            clinic_id=clinic_id,
            maker="Test Medical (synthetic)",
            model=new_id("pen"),
            needle_configuration="12-needle cartridge",
            regulatory_status="synthetic test device",
        )
        lot = CartridgeLot(
            id=new_id("lot"),
            clinic_id=clinic_id,
            device_id=device.id,
            lot_number=lot_number,
            expires_on=expires_on or date.today() + timedelta(days=365),
            received_on=date.today() - timedelta(days=10),
        )
        session.add(device)
        session.flush()
        session.add(lot)
        return lot.id
