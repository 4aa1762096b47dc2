"""The clinic's phone number (admin → Reminders and sign-in): every message, portal page and
patient report that tells the patient to call the clinic gives the number to call, and one
the admin mistyped is refused by field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from follicle.clinic.errors import InputInvalid
from follicle.documents.fhir_resources import organization
from follicle.records.models import Appointment, Clinic, OutboxMessage, Patient
from follicle.services import appointments, clinic_admin, portal, sessions
from follicle.services.actors import Actor
from follicle.services.commands import Cancellation, NewAppointment, Reschedule
from follicle.services.database import Database
from follicle.services.errors import NotNow
from follicle.services.messages import clinic_operations
from tests.services.test_care_rules import Clinicians
from tests.support.factories import make_user

PHONE = "020 7946 0123"


def _set_phone(clinic: Clinicians, phone: object) -> dict[str, object]:
    current = clinic_admin.read_operations(clinic.db, clinic.admin)
    document = {**current["operations"], "clinic_phone": phone}
    return clinic_admin.update_operations(clinic.db, clinic.admin, document, current["version"])


def _with_contact(clinic: Clinicians) -> None:
    with clinic.db.transaction() as session:
        patient = session.get(Patient, clinic.patient_id)
        assert patient is not None
        patient.email, patient.phone = "pat@test.follicle", "+447700900123"
        row = session.get(Clinic, clinic.clinic_id)
        assert row is not None
        row.operations = {**(row.operations or {}), "sms_reminders": True}


def _book(clinic: Clinicians, days_ahead: int, hour: int = 11) -> dict[str, object]:
    starts = datetime.now(UTC) + timedelta(days=days_ahead)
    while starts.weekday() > 4:
        starts += timedelta(days=1)
    return appointments.book(
        clinic.db,
        clinic.derm,
        clinic.patient_id,
        NewAppointment(
            kind="consultation",
            starts_at=starts.replace(hour=hour, minute=0, second=0, microsecond=0),
            practitioner_id=str(clinic.derm.user_id),
        ),
    )


def _version(db: Database, appointment: dict[str, object]) -> int:
    with db.transaction() as session:
        return session.get_one(Appointment, appointment["id"]).version


def _messages(db: Database) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [(f"  {PHONE} ", PHONE), ("+44 (0)20 7946-0123", "+44 (0)20 7946-0123"), ("", None)],
)
def test_the_admin_sets_the_number_as_written(db: Database, typed: str, stored: str) -> None:
    clinic = Clinicians(db)
    assert clinic_admin.read_operations(db, clinic.admin)["operations"]["clinic_phone"] is None
    saved = _set_phone(clinic, typed)
    assert saved["operations"]["clinic_phone"] == stored


@pytest.mark.parametrize("typed", ["ask at the desk", "12345", 2079460123, "0" * 41])
def test_a_number_no_one_could_call_is_refused_by_field(db: Database, typed: object) -> None:
    clinic = Clinicians(db)
    with pytest.raises(InputInvalid) as refused:
        _set_phone(clinic, typed)
    assert [e.pointer for e in refused.value.errors] == ["/clinic_phone"]
    with db.transaction() as session:
        row = session.get(Clinic, clinic.clinic_id)
        assert row is not None
        assert clinic_operations(row)["clinic_phone"] is None  # nothing half-written


def test_every_message_that_says_call_the_clinic_gives_the_number(db: Database) -> None:
    clinic = Clinicians(db)
    _with_contact(clinic)
    _set_phone(clinic, PHONE)
    booked = _book(clinic, 9)
    plan = clinic.approved_plan()
    clinic.sign("treatment")
    sessions.record_session(db, clinic.derm, clinic.patient_id, clinic.session_body(plan["id"]))
    appointments.cancel(
        db,
        clinic.derm,
        clinic.patient_id,
        str(booked["id"]),
        Cancellation(reason="ill"),
        _version(db, booked),
    )
    sent = _messages(db)
    by_kind = {(m.kind, m.channel): m for m in sent}
    emails = [m for m in sent if m.channel == "email"]
    assert {m.kind for m in emails} >= {
        "confirmation",
        "reminder",
        "aftercare",
        "review_due",
        "cancelled",
    }
    for message in emails:  # signed with the number to call back on
        assert message.body_text.rstrip().endswith(f"· phone {PHONE}"), message.kind
        assert f"phone {PHONE}</p>" in str(message.body_html)
    for kind in ("reminder", "aftercare", "review_due", "cancelled"):
        assert f"call the clinic on {PHONE}" in by_kind[(kind, "email")].body_text, kind
    assert by_kind[("reminder", "sms")].body_text.endswith(f"Can't come? Call {PHONE}.")
    ics = str(by_kind[("confirmation", "email")].ics)
    assert f"To change this appointment\\, call {PHONE}." in ics.replace("\r\n ", "")


def test_without_a_number_the_patient_is_told_to_contact_the_clinic(db: Database) -> None:
    clinic = Clinicians(db)
    _with_contact(clinic)
    _book(clinic, 9)
    sent = _messages(db)
    reminder = next(m for m in sent if m.kind == "reminder" and m.channel == "email")
    assert "please contact the clinic as soon as you can" in reminder.body_text
    assert reminder.body_text.rstrip().splitlines()[-1] == "Test Clinic"
    sms = next(m for m in sent if m.kind == "reminder" and m.channel == "sms")
    assert "Call" not in sms.body_text


def test_the_portal_and_a_late_cancellation_give_the_number(db: Database) -> None:
    clinic = Clinicians(db)
    _set_phone(clinic, PHONE)
    patient_user = make_user(db, clinic.clinic_id, role="patient", patient_id=clinic.patient_id)
    herself = Actor(patient_user, clinic.clinic_id, "patient", patient_id=clinic.patient_id)
    assert portal.portal_home(db, herself).clinic_phone == PHONE
    assert portal.clinic_contact(db, herself) == PHONE
    current = clinic_admin.read_operations(db, clinic.admin)  # (two weeks' notice)
    clinic_admin.update_operations(
        db,
        clinic.admin,
        {**current["operations"], "patient_cancellation_notice_hours": 336},
        current["version"],
    )
    soon = _book(clinic, 9)
    with pytest.raises(NotNow, match=f"please call the clinic on {PHONE} to cancel it"):
        appointments.cancel(
            db,
            herself,
            clinic.patient_id,
            str(soon["id"]),
            Cancellation(reason="cannot come"),
            _version(db, soon),
        )


def test_the_number_travels_in_the_fhir_organization(db: Database) -> None:
    clinic = Clinicians(db)
    _set_phone(clinic, PHONE)
    with db.transaction() as session:
        resource = organization(session.get_one(Clinic, clinic.clinic_id))
    assert resource["telecom"] == [{"system": "phone", "value": PHONE, "use": "work"}]
    _set_phone(clinic, None)
    with db.transaction() as session:
        assert "telecom" not in json.dumps(organization(session.get_one(Clinic, clinic.clinic_id)))


def test_a_patient_with_only_a_mobile_is_texted_when_a_visit_is_booked_moved_or_cancelled(
    db: Database,
) -> None:
    # (before, such a patient heard of a cancelled visit only when they came for it)
    clinic = Clinicians(db)
    _set_phone(clinic, PHONE)
    with db.transaction() as session:
        patient = session.get_one(Patient, clinic.patient_id)
        patient.email, patient.phone = None, "+447700900123"
    booked = _book(clinic, 9)
    starts = datetime.fromisoformat(str(booked["starts_at"]))
    appointments.reschedule(
        db,
        clinic.derm,
        clinic.patient_id,
        str(booked["id"]),
        Reschedule(starts_at=starts + timedelta(hours=2)),
        _version(db, booked),
    )
    assert [m.kind for m in _messages(db)] == []  # (the clinic does not text: nothing at all)
    with db.transaction() as session:
        row = session.get_one(Clinic, clinic.clinic_id)
        row.operations = {**(row.operations or {}), "sms_reminders": True}
    appointments.reschedule(
        db,
        clinic.derm,
        clinic.patient_id,
        str(booked["id"]),
        Reschedule(starts_at=starts + timedelta(hours=3)),
        _version(db, booked),
    )
    appointments.cancel(
        db,
        clinic.derm,
        clinic.patient_id,
        str(booked["id"]),
        Cancellation(reason="the practitioner is ill"),
        _version(db, booked),
    )
    second = _book(clinic, 16)
    texts = {m.kind: m for m in _messages(db) if m.kind != "reminder"}
    assert {m.channel for m in texts.values()} == {"sms"}
    assert texts["rescheduled"].body_text.startswith("Test Clinic: your consultation has moved")
    assert texts["cancelled"].body_text.endswith(
        f"is cancelled. To book another time, call the clinic on {PHONE}."
    )
    assert texts["confirmation"].appointment_id == second["id"]
    assert texts["confirmation"].body_text.startswith("Test Clinic: booked your consultation on")
    assert texts["confirmation"].body_text.endswith(f"To change it, call {PHONE}.")
    assert all(m.recipient == "+447700900123" for m in texts.values())
    assert all(len(m.body_text) <= 160 for m in texts.values()), [
        len(m.body_text) for m in texts.values()
    ]
