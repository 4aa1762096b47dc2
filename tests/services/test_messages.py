"""What a session, an approved plan and a booking queue for the patient (issue: clinic
operations, "Reminders that arrive"): aftercare at the timeline's points, the review reminder,
text-message reminders through the provider interface, plain text with an HTML twin."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from follicle.delivery.sms import LoggingSmsProvider
from follicle.records.models import Clinic, OutboxMessage, Patient, utcnow
from follicle.services import appointments, outbox, sessions
from follicle.services.commands import NewAppointment
from follicle.services.database import Database
from tests.services.test_care_rules import Clinicians


class Collecting:
    """A mailer that keeps what it is given (the SMTP path has its own tests)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> str:
        self.sent.append(message)
        return str(message["Message-ID"])

    def close(self) -> None:
        return None


def _rows(db: Database, kind: str) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.due_at)
            )
        )


def _with_contact(db: Database, patient_id: str) -> None:
    with db.transaction() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.email, patient.phone = "pat@test.follicle", "+447700900123"


def test_a_session_queues_aftercare_at_the_timeline_points_and_a_plan_its_review(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    _with_contact(db, clinic.patient_id)
    plan = clinic.approved_plan()
    review = _rows(db, "review_due")
    assert len(review) == 1
    review_on = datetime.fromisoformat(str(plan["review_on"])).date()
    assert review[0].due_at.date() == review_on - timedelta(days=7)
    clinic.sign("treatment")
    record = sessions.record_session(
        db, clinic.derm, clinic.patient_id, clinic.session_body(str(plan["id"]))
    )
    performed = datetime.fromisoformat(str(record["performed_at"])).astimezone(UTC)
    aftercare = _rows(db, "aftercare")
    points = sorted({int(item["from_hours"]) for item in plan["plan"]["aftercare"]})
    assert [round((m.due_at - performed).total_seconds() / 3600) for m in aftercare] == [
        max(p, 0) for p in points
    ]
    first = aftercare[0]
    assert first.body_html is not None
    assert first.body_text.splitlines()[0] == "Dear Pat Testperson,"
    for line in first.body_text.split("\n\n")[2:-2]:  # every instruction, escaped, in the HTML
        assert line.replace("'", "&#x27;").replace("&", "&amp;")[:20] in first.body_html


def test_text_message_reminders_go_through_the_provider(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clinic = Clinicians(db)
    _with_contact(db, clinic.patient_id)
    with db.transaction() as session:
        row = session.get(Clinic, clinic.clinic_id)
        assert row is not None
        row.operations = {"reminder_lead_hours": [24], "sms_reminders": True}
    starts = datetime.now(UTC) + timedelta(days=9)
    while starts.weekday() > 4:
        starts += timedelta(days=1)
    appointments.book(
        db,
        clinic.derm,
        clinic.patient_id,
        NewAppointment(
            kind="consultation",
            starts_at=starts.replace(hour=11, minute=0, second=0, microsecond=0),
            practitioner_id=str(clinic.derm.user_id),
        ),
    )
    channels = sorted(m.channel for m in _rows(db, "reminder"))
    assert channels == ["email", "sms"]
    with db.transaction() as session:
        for message in session.scalars(select(OutboxMessage)):
            message.next_attempt_at = utcnow() - timedelta(seconds=1)
    mailer = Collecting()
    with caplog.at_level(logging.INFO, logger="follicle.sms"):
        done = outbox.run_once(
            db,
            mailer,
            LoggingSmsProvider(),
            mail_from="Clinic <no-reply@clinic.example>",
            retry_seconds=1,
            lease_seconds=5,
        )
    assert (done.sent, done.failed) == (3, 0)  # confirmation, two reminders
    assert "+44…23" in caplog.text
    assert "+447700900123" not in caplog.text  # the number is masked in the log
    sms = next(m for m in _rows(db, "reminder") if m.channel == "sms")
    assert sms.status == "sent"
    assert str(sms.provider_reference).startswith("logged:")
    kinds = sorted(str(m["X-Follicle-Kind"]) for m in mailer.sent)
    assert kinds == ["confirmation", "reminder"]
    assert all(m.get_body(("html",)) is not None for m in mailer.sent)


def test_a_reminder_not_sent_before_the_appointment_began_is_not_sent_after(
    db: Database,
) -> None:
    # (a worker stopped over a weekend, or retrying a refusing server, sent "your appointment
    # on Monday at 10:00" on Monday afternoon)
    clinic = Clinicians(db)
    _with_contact(db, clinic.patient_id)
    starts = datetime.now(UTC) + timedelta(days=9)
    while starts.weekday() > 4:
        starts += timedelta(days=1)
    starts = starts.replace(hour=11, minute=0, second=0, microsecond=0)
    appointments.book(
        db,
        clinic.derm,
        clinic.patient_id,
        NewAppointment(
            kind="consultation", starts_at=starts, practitioner_id=str(clinic.derm.user_id)
        ),
    )
    assert _rows(db, "reminder")
    with db.transaction() as session:
        for message in session.scalars(select(OutboxMessage)):
            message.next_attempt_at = starts - timedelta(days=2)
    # The worker comes back a minute after the appointment began.
    claimed, passed = outbox.claim(db, lease_seconds=5, now=starts + timedelta(minutes=1))
    assert [m.kind for m in claimed] == ["confirmation"]  # (that one still tells the booking)
    assert passed.too_late == len(_rows(db, "reminder")) > 0
    for reminder in _rows(db, "reminder"):
        assert (reminder.status, reminder.last_error) == ("cancelled", outbox.TOO_LATE)
    assert "not sent (the appointment had begun) " in str(passed)
