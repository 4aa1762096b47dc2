"""What a session, an approved plan and a booking queue for the patient (issue: clinic
operations, "Reminders that arrive"): aftercare at the timeline's points, the review reminder,
text-message reminders through the provider interface, plain text with an HTML twin."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from follicle.delivery.email import Outgoing
from follicle.delivery.sms import LoggingSmsProvider
from follicle.records.models import Clinic, OutboxMessage, Patient, utcnow
from follicle.services import adverse_events, appointments, outbox, schedule, sessions
from follicle.services.commands import AdverseEventClearance, AdverseEventReport, NewAppointment
from follicle.services.database import Database
from tests.services.test_care_rules import Clinicians

LONDON = ZoneInfo("Europe/London")  # (the test clinic's zone)


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
    assert (done.sent, done.failed) == (4, 0)  # the confirmation and the reminder, twice each
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


def _claim_all(db: Database, now: datetime) -> tuple[list[Outgoing], outbox.Outcome]:
    """Claim batch after batch, as the worker does, until nothing due is left."""
    claimed, passed = [], outbox.Outcome()
    while True:
        batch, more = outbox.claim(db, lease_seconds=5, now=now)
        passed.add(more)
        claimed += batch
        if not batch and not more.held:
            return claimed, passed


def _reminded(db: Database, claimed: list[Outgoing]) -> set[str | None]:
    ids = {m.id for m in claimed}
    return {m.appointment_id for m in _rows(db, "reminder") if m.id in ids}


def test_a_session_reminder_waits_while_the_plan_is_on_hold(db: Database) -> None:
    # (an open infection holds the plan: "your microneedling session is tomorrow" must not
    # go out unless the plan resumes first)
    clinic = Clinicians(db)
    _with_contact(db, clinic.patient_id)
    plan = clinic.approved_plan()
    first = datetime.now(UTC) + timedelta(days=10)
    while first.weekday() > 4:
        first += timedelta(days=1)
    booked = clinic.book_series(str(plan["id"]), first.replace(hour=10, minute=0, second=0))
    consultation = appointments.book(
        db,
        clinic.derm,
        clinic.patient_id,
        NewAppointment(
            kind="consultation",
            starts_at=first.replace(hour=15, minute=0, second=0),
            practitioner_id=str(clinic.derm.user_id),
        ),
    )
    event = adverse_events.report(
        db,
        clinic.derm,
        clinic.patient_id,
        AdverseEventReport(
            category="infection", grade=3, description="pustules", onset_on=date.today()
        ),
    )
    assert event["plans_held"] == [plan["id"]]
    session_ids = {str(b["id"]) for b in booked}
    the_day_before = first - timedelta(days=1)
    with db.transaction() as session:
        for message in session.scalars(select(OutboxMessage)):
            message.next_attempt_at = the_day_before - timedelta(hours=2)
    claimed, passed = _claim_all(db, the_day_before)
    held = [m for m in _rows(db, "reminder") if m.appointment_id in session_ids]
    assert held
    assert passed.held == len(held)
    assert all((m.status, m.last_error) == ("pending", outbox.ON_HOLD) for m in held)
    assert all(m.next_attempt_at > the_day_before for m in held)
    # the consultation (to look at the infection) is still reminded of
    assert _reminded(db, claimed) == {consultation["id"]}
    assert "waiting (the plan is on hold) " in str(passed)
    # The day's agenda says so beside the session, not beside the consultation.
    day = datetime.fromisoformat(str(booked[0]["starts_at"])).astimezone(LONDON).date()
    on_the_day = schedule.day_agenda(db, clinic.derm, day).items
    assert {(i.kind, i.plan_on_hold) for i in on_the_day} == {
        ("session", True),
        ("consultation", False),
    }
    # Cleared: the plan resumes and the reminders go at the next look.
    adverse_events.clear(
        db,
        clinic.derm,
        clinic.patient_id,
        str(event["id"]),
        AdverseEventClearance(note="swab negative, healed"),
        1,
    )
    later = the_day_before + outbox.HOLD_RECHECK
    claimed, passed = _claim_all(db, later)
    first_session = min(booked, key=lambda b: str(b["starts_at"]))
    assert passed.held == 0
    assert first_session["id"] in _reminded(db, claimed)
    assert not any(i.plan_on_hold for i in schedule.day_agenda(db, clinic.derm, day).items)
    sent_now = [m for m in _rows(db, "reminder") if m.appointment_id == first_session["id"]]
    assert {m.last_error for m in sent_now if m.status == "sending"} == {None}
