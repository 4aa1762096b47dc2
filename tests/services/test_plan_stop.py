"""Stopping a plan (on both backends): its sessions still to come are cancelled and the
patient told, its review reminder is dropped, and another plan may be proposed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from follicle.records.models import Appointment, AuditEntry, OutboxMessage, Patient
from follicle.services import plans, portal, sessions
from follicle.services.commands import PlanStop
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotFound, NotNow, StaleVersion
from tests.services.test_care_rules import Clinicians
from tests.services.test_patient_details import _actor
from tests.support.factories import make_clinic

STOPS = PlanStop(reason="started isotretinoin; treatment not advisable this year")


def test_a_stopped_plan_cancels_what_is_booked_and_another_may_be_proposed(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    with db.transaction() as session:
        patient = session.get(Patient, clinic.patient_id)
        assert patient is not None
        patient.email = "pat@test.follicle"  # (so the patient is told)
    plan = clinic.approved_plan()
    with pytest.raises(NotNow, match="stop it to propose another"):
        plans.propose_plan(db, clinic.derm, clinic.patient_id)
    clinic.sign("treatment")
    first = datetime.combine(date.today() + timedelta(days=8), time(10, 0))
    booked = [str(a["id"]) for a in clinic.book_series(str(plan["id"]), first)]
    done = sessions.record_session(
        db,
        clinic.derm,
        clinic.patient_id,
        clinic.session_body(str(plan["id"]), appointment_id=booked[0]),
    )

    stopped = plans.stop_plan(
        db, clinic.derm, clinic.patient_id, str(plan["id"]), STOPS, int(plan["version"])
    )

    assert stopped["status"] == "stopped"
    assert stopped["stop_reason"] == STOPS.reason
    assert stopped["stopped_by"] == clinic.derm.user_id
    with db.transaction() as session:
        statuses = {
            a.id: (a.status, a.status_reason)
            for a in session.scalars(select(Appointment).where(Appointment.id.in_(booked)))
        }
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "cancelled")).all()
        review = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "review_due")
        ).one()
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "plan.stop")).one()
    # The session done stays done; the rest are cancelled, the patient told without the
    # (clinical) reason, and the review reminder dropped.
    assert statuses[booked[0]] == ("completed", None)
    assert {statuses[a] for a in booked[1:]} == {("cancelled", plans.STOPPED_NOTICE)}
    assert len(told) == len(booked) - 1
    assert all("isotretinoin" not in m.body_text for m in told)
    assert (review.status, review.last_error) == ("cancelled", plans.STOPPED_NOTICE)
    assert entry.detail["reason"] == STOPS.reason
    assert sorted(entry.detail["appointments_cancelled"]) == sorted(booked[1:])
    assert [s["id"] for s in sessions.list_sessions(db, clinic.derm, clinic.patient_id)] == [
        done["id"]
    ]
    # The portal tells the patient it stopped; another plan may now be proposed.
    herself = _actor(db, clinic.clinic_id, "patient", patient_id=clinic.patient_id)
    assert portal.portal_home(db, herself).plan_status == "stopped"
    proposed = plans.propose_plan(db, clinic.derm, clinic.patient_id)
    assert proposed["status"] == "proposed"
    # A stopped plan is not stopped again, nor changed.
    with pytest.raises(NotNow):
        again = int(stopped["version"])
        plans.stop_plan(db, clinic.derm, clinic.patient_id, str(plan["id"]), STOPS, again)


def test_stopping_a_plan_needs_its_version_and_a_practitioner_of_the_clinic(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    plan = clinic.approved_plan()
    plan_id, version = str(plan["id"]), int(plan["version"])
    with pytest.raises(StaleVersion):
        plans.stop_plan(db, clinic.derm, clinic.patient_id, plan_id, STOPS, version - 1)
    for role in ("front_desk", "admin"):
        with pytest.raises(Forbidden):
            plans.stop_plan(
                db, _actor(db, clinic.clinic_id, role), clinic.patient_id, plan_id, STOPS, version
            )
    elsewhere = _actor(db, make_clinic(db, "Elsewhere"), "practitioner")
    with pytest.raises(NotFound):
        plans.stop_plan(db, elsewhere, clinic.patient_id, plan_id, STOPS, version)
    assert plans.read_plan(db, clinic.derm, clinic.patient_id, plan_id)["status"] == "approved"
