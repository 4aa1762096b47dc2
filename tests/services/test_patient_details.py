"""Correcting a registered patient's details: what changes, what is kept, where messages go,
and who may (on both backends)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from follicle.clinic.errors import InputInvalid
from follicle.records.models import AuditEntry, OutboxMessage, Patient, UserAccount, utcnow
from follicle.services import appointments, messages, portal
from follicle.services.accounts import invite_patient
from follicle.services.actors import Actor
from follicle.services.auth import actor_for
from follicle.services.commands import (
    ContactDetails,
    NewAppointment,
    NewPatient,
    PatientDetails,
)
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotFound, StaleVersion, VersionRequired
from follicle.services.patients import (
    PossibleDuplicate,
    create_patient,
    list_patients,
    read_patient,
    update_patient,
)
from tests.services.test_care_rules import Clinicians
from tests.support.factories import make_clinic, make_user

BORN = date(1984, 5, 6)


def _actor(db: Database, clinic_id: str, role: str, patient_id: str | None = None) -> Actor:
    with db.transaction() as session:
        user = session.get(UserAccount, make_user(db, clinic_id, role=role, patient_id=patient_id))
        assert user is not None
        return actor_for(user)


def _details(**changes: object) -> PatientDetails:
    fields: dict[str, object] = {
        "given_name": "Ana",
        "family_name": "Lima",
        "date_of_birth": BORN,
        "sex_at_birth": "female",
        "email": "ana.lima@example.org",
        "phone": "+351 21 000 0001",
    }
    return PatientDetails.model_validate({**fields, **changes})


def _register(db: Database, desk: Actor, details: PatientDetails | None = None) -> str:
    new = NewPatient.model_validate((details or _details()).model_dump())
    return str(create_patient(db, desk, new)["id"])


def _queue(db: Database, clinic_id: str, patient_id: str, key: str, **how: str) -> None:
    with db.transaction() as session:
        row = messages.queue(
            session,
            clinic_id=clinic_id,
            kind=how.get("kind", "reminder"),
            key=key,
            recipient=how["recipient"],
            channel=how.get("channel", "email"),
            due_at=utcnow() + timedelta(days=3),
            message=messages.letter("Your appointment", "Dear Ana", ["See you soon."], "Clinic"),
            patient_id=patient_id,
        )
        assert row is not None
        row.status = how.get("status", "pending")


def _messages(db: Database, patient_id: str) -> dict[str, tuple[str, str, str | None]]:
    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.patient_id == patient_id)
        ).all()
        return {r.idempotency_key: (r.recipient, r.status, r.last_error) for r in rows}


def test_a_correction_changes_the_details_and_keeps_what_they_read_before(db: Database) -> None:
    clinic_id = make_clinic(db)
    desk = _actor(db, clinic_id, "front_desk")
    patient_id = _register(db, desk)
    invite_patient(db, desk, patient_id, "https://clinic.example")
    old_mail, old_phone = "ana.lima@example.org", "+351 21 000 0001"
    _queue(db, clinic_id, patient_id, "reminder", recipient=old_mail)
    _queue(db, clinic_id, patient_id, "sms", recipient=old_phone, channel="sms")
    _queue(db, clinic_id, patient_id, "sent", recipient=old_mail, status="sent")

    updated = update_patient(
        db,
        desk,
        patient_id,
        _details(family_name="Lima Sousa", email="ana@new.example", phone="+351 21 000 0002"),
        expected_version=1,
    )

    assert (updated["family_name"], updated["email"], updated["phone"], updated["version"]) == (
        "Lima Sousa",
        "ana@new.example",
        "+351 21 000 0002",
        2,
    )
    # Found by the new name, folded as every name is; the portal greets her by it.
    assert [p.id for p in list_patients(db, desk, "sousa")] == [patient_id]
    with db.transaction() as session:
        account = session.scalars(
            select(UserAccount).where(UserAccount.patient_id == patient_id)
        ).one()
        assert account.display_name == "Ana Lima Sousa"
        assert account.email == old_mail  # (the portal signs in with its own address)
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "patient.update")
        ).one()
        assert entry.resource_id == patient_id
        assert entry.detail["changed"] == {
            "email": {"from": old_mail, "to": "ana@new.example"},
            "family_name": {"from": "Lima", "to": "Lima Sousa"},
            "phone": {"from": old_phone, "to": "+351 21 000 0002"},
        }
        assert entry.detail["messages_readdressed"] == 2
    # Waiting messages go to the new addresses; sent ones and the invitation (to the
    # address the portal signs in with) do not change.
    sent = _messages(db, patient_id)
    assert sent["reminder"][:2] == ("ana@new.example", "pending")
    assert sent["sms"][:2] == ("+351 21 000 0002", "pending")
    assert sent["sent"][:2] == (old_mail, "sent")
    invitation = [v for k, v in sent.items() if k.startswith("invite:")]
    assert [v[:2] for v in invitation] == [(old_mail, "pending")]

    # No phone any more: the text message waiting is cancelled, saying why.
    now = {"family_name": "Lima Sousa", "email": "ana@new.example", "phone": None}
    update_patient(db, desk, patient_id, _details(**now), 2)
    assert _messages(db, patient_id)["sms"] == (
        "+351 21 000 0002",
        "cancelled",
        "the patient's phone number was taken off their details",
    )
    # Saving the details as they are changes nothing and writes nothing.
    assert update_patient(db, desk, patient_id, _details(**now), 3)["version"] == 3
    with db.transaction() as session:
        updates = session.scalars(
            select(AuditEntry.seq).where(AuditEntry.action == "patient.update")
        ).all()
    assert len(updates) == 2


def test_a_refused_correction_writes_nothing(db: Database) -> None:
    clinic_id = make_clinic(db)
    desk = _actor(db, clinic_id, "front_desk")
    patient_id = _register(db, desk)
    _register(db, desk, _details(given_name="Rui", family_name="Costa", email=None, phone=None))

    def unchanged() -> None:
        with db.transaction() as session:
            patient = session.get(Patient, patient_id)
            assert patient is not None
            assert (patient.given_name, patient.family_name, patient.version) == ("Ana", "Lima", 1)
            assert patient.date_of_birth == BORN
            assert not session.scalars(
                select(AuditEntry.seq).where(AuditEntry.action == "patient.update")
            ).all()

    with pytest.raises(InputInvalid) as caught:
        update_patient(db, desk, patient_id, _details(date_of_birth=date(2999, 1, 1)), 1)
    assert [e.pointer for e in caught.value.errors] == ["/date_of_birth"]
    with pytest.raises(VersionRequired):
        update_patient(db, desk, patient_id, _details(given_name="Anna"), None)
    with pytest.raises(StaleVersion):
        update_patient(db, desk, patient_id, _details(given_name="Anna"), 7)
    # Corrected into another registered patient's name and birthday (either name first).
    duplicate = _details(given_name="costa", family_name="RUI")
    with pytest.raises(PossibleDuplicate) as refused:
        update_patient(db, desk, patient_id, duplicate, 1)
    assert [e.pointer for e in refused.value.errors] == ["/not_a_duplicate"]
    unchanged()
    # Confirmed as another person with the same name and birthday, it is saved.
    confirmed = duplicate.model_copy(update={"not_a_duplicate": True})
    assert update_patient(db, desk, patient_id, confirmed, 1)["family_name"] == "RUI"


def test_staff_of_the_clinic_may_correct_details_a_patient_and_other_clinics_may_not(
    db: Database,
) -> None:
    clinic_id = make_clinic(db)
    desk = _actor(db, clinic_id, "front_desk")
    patient_id = _register(db, desk)
    for version, role in enumerate(("practitioner", "admin", "front_desk"), start=1):
        staff = _actor(db, clinic_id, role)
        phone = f"+351 21 000 010{version}"
        assert update_patient(db, staff, patient_id, _details(phone=phone), version)["phone"] == (
            phone
        )
    elsewhere = _actor(db, make_clinic(db, "Elsewhere"), "admin")
    with pytest.raises(NotFound):  # (as if there were no such patient)
        update_patient(db, elsewhere, patient_id, _details(), 4)
    herself = _actor(db, clinic_id, "patient", patient_id=patient_id)
    with pytest.raises(Forbidden):
        update_patient(db, herself, patient_id, _details(), 4)


def test_a_patient_gives_the_clinic_a_new_phone_number_in_the_portal(db: Database) -> None:
    clinic_id = make_clinic(db)
    desk = _actor(db, clinic_id, "front_desk")
    patient_id = _register(db, desk)
    _queue(db, clinic_id, patient_id, "sms", recipient="+351 21 000 0001", channel="sms")
    herself = _actor(db, clinic_id, "patient", patient_id=patient_id)

    portal.set_contact(
        db, herself, ContactDetails(email="ana.lima@example.org", phone="+351 91 000 0009")
    )

    assert _messages(db, patient_id)["sms"][:2] == ("+351 91 000 0009", "pending")
    with db.transaction() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        assert (patient.email, patient.phone) == ("ana.lima@example.org", "+351 91 000 0009")
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "patient.update")
        ).one()
        assert entry.actor == herself.audit_name
        assert entry.detail["changed"] == {
            "phone": {"from": "+351 21 000 0001", "to": "+351 91 000 0009"}
        }
    # Only her own record, and only how she is reached: her name is the clinic's to correct.
    assert "given_name" not in ContactDetails.model_fields
    with pytest.raises(ValidationError):
        ContactDetails.model_validate({"phone": "ask at the desk"})


def test_a_corrected_name_greets_the_patient_in_the_messages_not_sent_yet(db: Database) -> None:
    clinic = Clinicians(db)
    with db.transaction() as session:
        patient = session.get(Patient, clinic.patient_id)
        assert patient is not None
        patient.email = "pat@test.follicle"
    starts = datetime.combine(date.today() + timedelta(days=9), time(10, 0))
    appointments.book(
        db,
        clinic.derm,
        clinic.patient_id,
        NewAppointment(
            kind="consultation",
            starts_at=starts,
            practitioner_id=str(clinic.derm.user_id),
            room_id=clinic.room_id,
        ),
    )
    with db.transaction() as session:
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.patient_id == clinic.patient_id)
        ).all()
        assert queued
        assert all(m.body_text.startswith("Dear Pat Testperson,") for m in queued)
        queued[0].status = "sent"  # (what has gone stays as it went)
        sent_id = queued[0].id
    registered = read_patient(db, clinic.derm, clinic.patient_id)
    fields = ("given_name", "date_of_birth", "sex_at_birth", "email", "phone")
    corrected = PatientDetails.model_validate(
        {k: registered[k] for k in fields} | {"family_name": "Testpersson"}
    )

    update_patient(db, clinic.derm, clinic.patient_id, corrected, registered["version"])

    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.patient_id == clinic.patient_id)
        ).all()
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "patient.update")
        ).one()
        greetings = {
            r.id: (
                r.body_text.split("\n")[0],
                "<p>Dear Pat Testpersson,</p>" in (r.body_html or ""),
            )
            for r in rows
        }
    assert greetings.pop(sent_id) == ("Dear Pat Testperson,", False)
    assert set(greetings.values()) == {("Dear Pat Testpersson,", True)}
    assert entry.detail["messages_regreeted"] == len(greetings)
