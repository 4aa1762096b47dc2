"""Updates and education the clinic sends: only to the patients who opted in (portal → Messages
I want), each saying why they get it; opting out stops one already queued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from follicle.delivery.sms import LoggingSmsProvider
from follicle.records.models import AuditEntry, OutboxMessage, Patient, utcnow
from follicle.services import outbox, patient_updates, portal
from follicle.services.actors import Actor
from follicle.services.commands import PatientUpdate
from follicle.services.database import Database
from follicle.services.errors import Forbidden
from tests.services.test_care_rules import Clinicians
from tests.services.test_messages import Collecting
from tests.support.factories import make_clinic, make_patient, make_user

GUIDE = PatientUpdate(
    audience="education",
    subject="Caring for your scalp",
    body="Wash gently with a mild shampoo.\n\nKeep the sun off your scalp for a few days.",
)


def _patient(db: Database, clinic_id: str, name: str, **choices: object) -> str:
    patient_id = make_patient(db, clinic_id, family_name=name)
    with db.transaction() as session:
        patient = session.get_one(Patient, patient_id)
        patient.email = f"{name.lower()}@test.follicle"
        for key, value in choices.items():
            setattr(patient, key, value)
    return patient_id


def _queued(db: Database) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)))


def test_only_the_patients_who_chose_it_get_it(db: Database) -> None:
    clinic = Clinicians(db)  # (its own patient chose nothing)
    wants = _patient(db, clinic.clinic_id, "Wants", education_opt_in=True)
    _patient(db, clinic.clinic_id, "Updatesonly", updates_opt_in=True)
    gone = _patient(db, clinic.clinic_id, "Gone", education_opt_in=True)
    with db.transaction() as session:
        session.get_one(Patient, gone).voided_at = utcnow()
    elsewhere = make_clinic(db, name="Elsewhere")
    _patient(db, elsewhere, "Elsewhere", education_opt_in=True)
    assert patient_updates.audience_sizes(db, clinic.admin) == {"updates": 1, "education": 1}

    sent = patient_updates.send(db, clinic.admin, GUIDE)
    assert sent["sent_to"] == 1
    (message,) = _queued(db)
    assert (message.patient_id, message.kind, message.recipient) == (
        wants,
        "education",
        "wants@test.follicle",
    )
    lines = message.body_text.strip().split("\n\n")
    assert lines[0] == "Dear Pat Wants,"
    assert lines[1:3] == [
        "Wash gently with a mild shampoo.",
        "Keep the sun off your scalp for a few days.",
    ]
    assert lines[3].startswith('You get this because you chose "Education"')
    assert lines[4] == "Test Clinic"
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "patient_update.send")
        ).one()
        assert entry.detail["patients"] == [wants]
    (past,) = patient_updates.history(db, clinic.admin)
    assert (past["kind"], past["subject"], past["by_status"]) == (
        "education",
        GUIDE.subject,
        {"pending": 1},
    )


def test_opting_out_stops_one_already_queued(db: Database) -> None:
    clinic = Clinicians(db)
    stays = _patient(db, clinic.clinic_id, "Stays", education_opt_in=True)
    leaves = _patient(db, clinic.clinic_id, "Leaves", education_opt_in=True)
    patient_updates.send(db, clinic.admin, GUIDE)
    account = make_user(db, clinic.clinic_id, role="patient", patient_id=leaves)
    herself = Actor(account, clinic.clinic_id, "patient", patient_id=leaves)
    portal.set_preferences(db, herself, education=False, updates=False)
    with db.transaction() as session:
        for row in session.scalars(select(OutboxMessage)):
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
    mailer = Collecting()
    done = outbox.run_once(
        db,
        mailer,
        LoggingSmsProvider(),
        mail_from="Clinic <no-reply@clinic.example>",
        retry_seconds=1,
        lease_seconds=5,
    )
    assert (done.sent, done.skipped) == (1, 1)
    assert [str(m["To"]) for m in mailer.sent] == ["stays@test.follicle"]
    status = {m.patient_id: m.status for m in _queued(db)}
    assert status == {stays: "sent", leaves: "skipped"}


def test_only_an_admin_sends(db: Database) -> None:
    clinic = Clinicians(db)
    desk = Actor(make_user(db, clinic.clinic_id, role="front_desk"), clinic.clinic_id, "front_desk")
    for who in (desk, clinic.derm):
        with pytest.raises(Forbidden):
            patient_updates.send(db, who, GUIDE)
    assert _queued(db) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"audience": "everyone"}, "audience"),
        ({"subject": "Hi"}, "subject"),
        ({"body": ""}, "body"),
    ],
)
def test_a_bad_message_names_the_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        PatientUpdate.model_validate(GUIDE.model_dump() | changes)
    assert [e["loc"][0] for e in refused.value.errors()] == [field]
