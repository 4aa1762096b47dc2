"""Voiding a session record entered wrongly (on both backends): it stops counting, what
recording it did is undone, and it can be recorded again as it was."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from follicle.clinic.errors import InputInvalid
from follicle.records.models import (
    Appointment,
    AuditEntry,
    OutboxMessage,
    Patient,
    Plan,
    SessionRecord,
)
from follicle.services import adverse_events, chart, devices, sessions
from follicle.services.commands import AdverseEventReport, SessionVoid
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotFound
from tests.services.test_care_rules import Clinicians
from tests.services.test_patient_details import _actor
from tests.support.factories import make_clinic

WRONG_PATIENT = SessionVoid(reason="recorded on the wrong patient's chart")


def _aftercare(db: Database) -> list[tuple[str, str | None]]:
    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "aftercare")
            .order_by(OutboxMessage.due_at)
        )
        return [(r.status, r.last_error) for r in rows]


def test_a_voided_session_stops_counting_and_is_recorded_again(db: Database) -> None:
    clinic = Clinicians(db)
    with db.transaction() as session:
        patient = session.get(Patient, clinic.patient_id)
        assert patient is not None
        patient.email = "pat@test.follicle"  # (so the session queues its aftercare)
    plan = clinic.approved_plan()
    clinic.sign("treatment")
    with db.transaction() as session:  # (a one-session plan: the record completes it)
        stored = session.get(Plan, plan["id"])
        assert stored is not None
        stored.sessions_planned = 1
    first = datetime.combine(date.today() + timedelta(days=8), time(10, 0))
    appointment_id = str(clinic.book_series(str(plan["id"]), first)[0]["id"])
    body = clinic.session_body(str(plan["id"]), appointment_id=appointment_id)
    record = sessions.record_session(db, clinic.derm, clinic.patient_id, body)
    queued = len(_aftercare(db))
    assert queued > 0

    voided = sessions.void_session(
        db, clinic.derm, clinic.patient_id, str(record["id"]), WRONG_PATIENT
    )

    assert voided["appointment_reopened"] is True
    assert voided["plan_reopened"] is True
    assert voided["messages_cancelled"] == queued
    assert sessions.list_sessions(db, clinic.derm, clinic.patient_id) == []
    seen = chart.patient_chart(db, clinic.derm, clinic.patient_id)
    assert seen.sessions == []
    assert devices.recall(db, clinic.derm, clinic.lot_id)["sessions"] == []
    assert (
        _aftercare(db)
        == [("cancelled", "the session record was voided: recorded on the wrong patient's chart")]
        * queued
    )
    with db.transaction() as session:
        kept = session.get(SessionRecord, record["id"])
        assert kept is not None  # (voided, not deleted)
        assert kept.void_reason == WRONG_PATIENT.reason
        assert kept.voided_by_id == clinic.derm.user_id
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        assert appointment.status == "booked"
        reopened = session.get(Plan, plan["id"])
        assert reopened is not None
        assert reopened.status == "approved"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "session.void")).one()
        assert entry.resource_id == record["id"]
        assert entry.detail["reason"] == WRONG_PATIENT.reason
    # A voided record is gone from reach: not voided twice, no event or image attaches to it.
    with pytest.raises(NotFound):
        sessions.void_session(db, clinic.derm, clinic.patient_id, str(record["id"]), WRONG_PATIENT)
    with pytest.raises(NotFound):
        sessions.read_session(db, clinic.derm, clinic.patient_id, str(record["id"]))
    with pytest.raises(InputInvalid) as refused:
        adverse_events.report(
            db,
            clinic.derm,
            clinic.patient_id,
            AdverseEventReport(
                category="pain",
                grade=1,
                description="tender for a day",
                onset_on=date.today(),
                session_record_id=str(record["id"]),
            ),
        )
    assert [e.pointer for e in refused.value.errors] == ["/session_record_id"]
    # Recorded again as it was, against the same appointment: the plan completes again.
    again = sessions.record_session(db, clinic.derm, clinic.patient_id, body)
    assert [s["id"] for s in sessions.list_sessions(db, clinic.derm, clinic.patient_id)] == [
        again["id"]
    ]
    with db.transaction() as session:
        completed = session.get(Plan, plan["id"])
        assert completed is not None
        assert completed.status == "completed"


def test_only_the_clinics_practitioners_void_session_records(db: Database) -> None:
    clinic = Clinicians(db)
    plan = clinic.approved_plan()
    clinic.sign("treatment")
    record = sessions.record_session(
        db, clinic.derm, clinic.patient_id, clinic.session_body(str(plan["id"]))
    )
    session_id = str(record["id"])
    for role in ("front_desk", "admin"):
        with pytest.raises(Forbidden):
            sessions.void_session(
                db, _actor(db, clinic.clinic_id, role), clinic.patient_id, session_id, WRONG_PATIENT
            )
    elsewhere = _actor(db, make_clinic(db, "Elsewhere"), "practitioner")
    with pytest.raises(NotFound):
        sessions.void_session(db, elsewhere, clinic.patient_id, session_id, WRONG_PATIENT)
    assert [s["id"] for s in sessions.list_sessions(db, clinic.derm, clinic.patient_id)] == [
        session_id
    ]
