"""The patient's own view of the change (on both backends): answered after a session, in the
portal or asked at a visit, kept as answered and read only by those who may."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from follicle.records.models import AuditEntry
from follicle.services import patient_outcomes, sessions
from follicle.services.commands import PatientOutcomeReport
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotFound, NotNow
from tests.services.test_care_rules import Clinicians
from tests.services.test_patient_details import _actor
from tests.support.factories import make_patient


def test_the_patient_answers_after_a_session_and_the_clinic_reads_it(db: Database) -> None:
    clinic = Clinicians(db)
    herself = _actor(db, clinic.clinic_id, "patient", patient_id=clinic.patient_id)
    better = PatientOutcomeReport(change_score=2, comment="fuller at the crown")
    with pytest.raises(NotNow, match="after a session"):
        patient_outcomes.report_outcome(db, herself, clinic.patient_id, better)
    plan = clinic.approved_plan()
    clinic.sign("treatment")
    sessions.record_session(
        db, clinic.derm, clinic.patient_id, clinic.session_body(str(plan["id"]))
    )

    mine = patient_outcomes.report_outcome(db, herself, clinic.patient_id, better)
    asked = patient_outcomes.report_outcome(
        db, clinic.aest, clinic.patient_id, PatientOutcomeReport(change_score=0)
    )

    assert (mine["change_score"], mine["answer"], mine["comment"]) == (
        2,
        "Moderately increased",
        "fuller at the crown",
    )
    assert (asked["answer"], asked["recorded_by"]) == ("No change", clinic.aest.user_id)
    listed = patient_outcomes.list_outcomes(db, clinic.derm, clinic.patient_id)
    assert [a["id"] for a in listed] == [mine["id"], asked["id"]]
    assert patient_outcomes.list_outcomes(db, herself, clinic.patient_id) == listed
    with db.transaction() as session:
        written = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "patient_outcome.report")
        ).all()
        read = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "patient_outcome.list")
        ).first()
    assert [e.detail["change_score"] for e in written] == [2, 0]
    assert read is not None
    assert read.detail["ids"] == [mine["id"], asked["id"]]


def test_only_the_patient_and_the_clinicians_answer_and_read(db: Database) -> None:
    clinic = Clinicians(db)
    answer = PatientOutcomeReport(change_score=-1)
    desk = _actor(db, clinic.clinic_id, "front_desk")
    for actor in (desk, _actor(db, clinic.clinic_id, "admin")):
        with pytest.raises(Forbidden):
            patient_outcomes.report_outcome(db, actor, clinic.patient_id, answer)
    with pytest.raises(Forbidden):
        patient_outcomes.list_outcomes(db, desk, clinic.patient_id)
    another = make_patient(db, clinic.clinic_id, family_name="Otherperson")
    someone_else = _actor(db, clinic.clinic_id, "patient", patient_id=another)
    with pytest.raises(NotFound):
        patient_outcomes.report_outcome(db, someone_else, clinic.patient_id, answer)
    with pytest.raises(NotFound):
        patient_outcomes.list_outcomes(db, someone_else, clinic.patient_id)
    for score in (-4, 4):
        with pytest.raises(ValidationError, match="change_score"):
            PatientOutcomeReport(change_score=score)
