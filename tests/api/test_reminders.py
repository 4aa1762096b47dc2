"""Reminders that arrive, over HTTP on both backends (issue: clinic operations): booking,
moving and cancelling write their messages in the same transaction; `follicle worker --once`
delivers them to a real SMTP server with the ICS attached; times are the clinic's local times
across the change to summer time; a patient's opt-out is honoured; nothing is sent twice."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from follicle.records.models import OutboxMessage, Patient, UserAccount, utcnow
from tests.api.conftest import ApiServer
from tests.support.api import PASSWORD, client_for, ok
from tests.support.server import csrf_from, log_in, run_follicle
from tests.support.smtp import SmtpSink, attachments, smtp_sink, text_of, worker_env


def _outbox(api: ApiServer, appointment_id: str) -> dict[tuple[str, str], int]:
    with api.db.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, func.count(OutboxMessage.id))
            .where(OutboxMessage.appointment_id == appointment_id)
            .group_by(OutboxMessage.kind, OutboxMessage.status)
        ).all()
    return {(kind, status): n for kind, status, n in rows}


def _make_reminders_due(api: ApiServer, appointment_id: str) -> None:
    """What the clock would do: the appointment's pending reminders become due now."""
    with api.db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.appointment_id == appointment_id,
                OutboxMessage.status == "pending",
            )
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


def _deliver(api: ApiServer, sink: SmtpSink, url: str, to: str) -> list[str]:
    before = len(sink.received)
    result = run_follicle(["worker", "--once"], env=worker_env(api.settings, url))
    assert result.returncode == 0, result.stderr
    return [str(m["Subject"]) for m in sink.received[before:] if m["To"] == to]


def test_booking_messages_arrive_once_in_local_time_and_respect_opt_outs(
    api: ApiServer,
) -> None:
    users = api.demo
    with api.db.transaction() as session:
        login_email = session.scalars(
            select(UserAccount.email).where(UserAccount.patient_id == users.patient_id)
        ).one()
        patient_email = session.scalars(
            select(Patient.email).where(Patient.id == users.patient_id)
        ).one()  # the patient's own address comes before the portal login's
    base = f"/patients/{users.patient_id}/appointments"
    with (
        smtp_sink() as (sink, url),
        client_for(api.url, users.tokens["front_desk"]) as desk,
        client_for(api.url, users.tokens["admin"]) as admin,
        client_for(api.url, users.tokens["patient"]) as patient,
    ):
        # Monday 29 March 2027, the day after the clocks go forward in London.
        booking = {
            "kind": "consultation",
            "starts_at": "2027-03-29T10:00",
            "practitioner_id": users.practitioner_id,
        }
        booked = desk.post(base, json=booking)
        appointment = ok(booked, 201)
        assert _outbox(api, appointment["id"]) == {
            ("confirmation", "pending"): 1,
            ("reminder", "pending"): 2,
        }
        with api.db.transaction() as session:
            dues = sorted(
                session.scalars(
                    select(OutboxMessage.due_at).where(
                        OutboxMessage.appointment_id == appointment["id"],
                        OutboxMessage.kind == "reminder",
                    )
                )
            )
        # 48 h and 2 h before 09:00 UTC (10:00 British Summer Time).
        assert [d.isoformat() for d in dues] == [
            "2027-03-27T09:00:00+00:00",
            "2027-03-29T07:00:00+00:00",
        ]
        clash = desk.post(base, json=booking)
        assert clash.status_code == 409
        assert sum(_outbox(api, appointment["id"]).values()) == 3  # the refusal queued nothing

        assert _deliver(api, sink, url, patient_email) == [
            "Booked: Consultation at Demo Hair Clinic"
        ]
        confirmation = sink.received[-1]
        assert "Monday 29 March 2027 at 10:00" in text_of(confirmation)
        ics = attachments(confirmation)["text/calendar"]
        assert "DTSTART;TZID=Europe/London:20270329T100000" in ics
        assert "BEGIN:VALARM" in ics

        moved = desk.patch(
            f"{base}/{appointment['id']}",
            json={"starts_at": "2027-03-30T11:00"},
            headers={"If-Match": booked.headers["etag"]},
        )
        ok(moved)
        assert _outbox(api, appointment["id"]) == {
            ("confirmation", "sent"): 1,
            ("reminder", "cancelled"): 2,
            ("reminder", "pending"): 2,
            ("rescheduled", "pending"): 1,
        }
        assert _deliver(api, sink, url, patient_email) == [
            "Moved: Consultation at Demo Hair Clinic, now Tuesday 30 March 2027 at 11:00"
        ]
        assert "from Monday 29 March 2027 at 10:00 to Tuesday 30 March 2027 at 11:00" in (
            text_of(sink.received[-1])
        )

        _make_reminders_due(api, appointment["id"])
        reminders = _deliver(api, sink, url, patient_email)
        assert (
            reminders
            == ["Reminder: Consultation at Demo Hair Clinic, Tuesday 30 March 2027 at 11:00"] * 2
        )
        assert _deliver(api, sink, url, patient_email) == []  # nothing is sent twice

        cancelled = desk.post(
            f"{base}/{appointment['id']}/cancel",
            json={"reason": "patient is travelling"},
            headers={"If-Match": moved.headers["etag"]},
        )
        ok(cancelled)
        assert _deliver(api, sink, url, patient_email) == [
            "Cancelled: Consultation at Demo Hair Clinic, Tuesday 30 March 2027 at 11:00"
        ]
        assert "STATUS:CANCELLED" in attachments(sink.received[-1])["text/calendar"]

        # The patient turns reminders off in the portal; a new booking's reminders are skipped.
        with httpx.Client(base_url=api.url, timeout=30) as browser:
            assert log_in(browser, login_email, PASSWORD).status_code == 303
            page = browser.get("/portal")
            saved = browser.post(
                "/portal/preferences",
                data={
                    "csrf_token": csrf_from(page.text),
                    "send_aftercare": "yes",
                    "send_review_due": "yes",
                },
            )
            assert saved.status_code == 303
        second = ok(desk.post(base, json={**booking, "starts_at": "2027-04-06T09:00"}), 201)
        _make_reminders_due(api, second["id"])
        assert _deliver(api, sink, url, patient_email) == [
            "Booked: Consultation at Demo Hair Clinic"
        ]
        assert _outbox(api, second["id"]) == {
            ("confirmation", "sent"): 1,
            ("reminder", "skipped"): 2,
        }

        listed = ok(admin.get("/messages", params={"patient_id": users.patient_id}))
        assert listed["counts"]["sent"] >= 5
        assert {m["status"] for m in listed["messages"]} >= {"sent", "skipped", "cancelled"}
        assert ok(desk.get("/messages", params={"status": "skipped"}))["messages"]
        assert patient.get("/messages").status_code == 403
