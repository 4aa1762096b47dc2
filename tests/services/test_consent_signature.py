"""A typed signature names the patient (on both backends): "-1" or "nan" in the box signed
a consent before."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from follicle.clinic.errors import InputInvalid
from follicle.records.models import Consent
from follicle.services import consents
from follicle.services.commands import ConsentSignature
from follicle.services.database import Database
from tests.services.test_care_rules import Clinicians


def test_a_signature_must_name_the_patient_as_registered(db: Database) -> None:
    clinic = Clinicians(db)  # (the patient is Pat Testperson)
    status = consents.list_consents(db, clinic.derm, clinic.patient_id)
    assert status["signs_as"] == "Pat Testperson"
    text_id = status["current_texts"]["treatment"]["id"]

    def sign(name: str) -> dict[str, object]:
        signature = ConsentSignature(kind="treatment", signed_name=name, consent_text_id=text_id)
        return consents.sign(db, clinic.derm, clinic.patient_id, signature)

    for junk in ("-1", "nan", "Pat", "Pat Tester", "Testperson"):
        with pytest.raises(InputInvalid) as refused:
            sign(junk)
        assert [e.pointer for e in refused.value.errors] == ["/signed_name"]
        assert "as registered (Pat Testperson)" in refused.value.errors[0].message
    with db.transaction() as session:
        assert not session.scalars(select(Consent.id)).all()  # (nothing signed)
    # Any order, any case, accents or not, a middle name added.
    assert sign("TESTPERSON, pat")["signed_name"] == "TESTPERSON, pat"
    assert sign("Pat Quinn Testperson")["valid"]
