"""Someone signing a consent for the patient (on both backends): a minor's parent or legal
guardian signs in their own name and says how they are related; a minor cannot sign alone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from follicle.clinic.errors import InputInvalid
from follicle.records.models import AuditEntry, Patient
from follicle.services import consents
from follicle.services.commands import ConsentSignature
from follicle.services.database import Database
from tests.services.test_care_rules import Clinicians


def _born(clinic: Clinicians, born: date) -> None:
    with clinic.db.transaction() as session:
        patient = session.get(Patient, clinic.patient_id)
        assert patient is not None
        patient.date_of_birth = born


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years, day=min(day.day, 28))


def _sign(clinic: Clinicians, name: str, representative: str | None) -> dict[str, object]:
    texts = consents.list_consents(clinic.db, clinic.derm, clinic.patient_id)["current_texts"]
    return consents.sign(
        clinic.db,
        clinic.derm,
        clinic.patient_id,
        ConsentSignature.model_validate(
            {
                "kind": "treatment",
                "signed_name": name,
                "consent_text_id": texts["treatment"]["id"],
                "representative": representative,
            }
        ),
    )


def test_a_minor_cannot_sign_alone_and_a_parent_signs_in_their_own_name(db: Database) -> None:
    clinic = Clinicians(db)
    today = datetime.now(ZoneInfo("Europe/London")).date()  # (the clinic's day)
    _born(clinic, _years_before(today, 16))
    status = consents.list_consents(db, clinic.derm, clinic.patient_id)
    assert status["minor_until"] == 18

    with pytest.raises(InputInvalid, match="under 18") as alone:
        _sign(clinic, "Pat Testperson", None)
    assert [e.pointer for e in alone.value.errors] == ["/representative"]
    with pytest.raises(InputInvalid, match="full name of the person signing") as typo:
        _sign(clinic, "-1", "parent")
    assert [e.pointer for e in typo.value.errors] == ["/signed_name"]

    signed = _sign(clinic, "Morgan Testperson", "parent")

    assert (signed["signed_name"], signed["representative"]) == ("Morgan Testperson", "parent")
    assert signed["valid"] is True
    assert consents.list_consents(db, clinic.derm, clinic.patient_id)["valid"] == ["treatment"]
    with db.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "consent.sign")).one()
    assert entry.detail["representative"] == "parent"


def test_an_adult_signs_for_themselves_or_through_a_healthcare_proxy(db: Database) -> None:
    clinic = Clinicians(db)
    today = datetime.now(ZoneInfo("Europe/London")).date()
    _born(clinic, _years_before(today, 18))  # (18 today, or a few days ago)
    assert consents.list_consents(db, clinic.derm, clinic.patient_id)["minor_until"] is None
    with pytest.raises(InputInvalid, match="as registered"):
        _sign(clinic, "Morgan Testperson", None)  # (not the patient's name)
    assert _sign(clinic, "Pat Testperson", None)["representative"] is None
    proxy = _sign(clinic, "Morgan Testperson", "healthcare_proxy")
    assert proxy["representative"] == "healthcare_proxy"
    with pytest.raises(ValidationError, match="representative"):
        _sign(clinic, "Morgan Testperson", "neighbour")
