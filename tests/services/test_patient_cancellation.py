"""A patient cancels a visit from the portal, up to the clinic's notice; the desk sees it on
the worklist until the visit is booked again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from follicle.clinic.errors import InputInvalid
from follicle.records.models import Appointment, OutboxMessage
from follicle.services import appointments, clinic_admin, worklist
from follicle.services.actors import Actor
from follicle.services.commands import Cancellation, NewAppointment
from follicle.services.database import Database
from follicle.services.errors import NotFound, NotNow
from tests.services.test_care_rules import Clinicians
from tests.support.factories import make_patient, make_user


def _patient_actor(clinic: Clinicians, patient_id: str) -> Actor:
    user_id = make_user(clinic.db, clinic.clinic_id, role="patient", patient_id=patient_id)
    return Actor(user_id, clinic.clinic_id, "patient", patient_id=patient_id)


def _book(clinic: Clinicians, patient_id: str, starts_at: datetime) -> dict[str, object]:
    return appointments.book(
        clinic.db,
        clinic.derm,
        patient_id,
        NewAppointment(
            kind="consultation", starts_at=starts_at, practitioner_id=str(clinic.derm.user_id)
        ),
    )


def _weekday_at(days_ahead: int, hour: int) -> datetime:
    day = datetime.now(UTC) + timedelta(days=days_ahead)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def _cancel(clinic: Clinicians, actor: Actor, appointment: dict[str, object]) -> dict[str, object]:
    with clinic.db.transaction() as session:
        stored = session.get(Appointment, appointment["id"])
        assert stored is not None
        version = stored.version
    return appointments.cancel(
        clinic.db,
        actor,
        str(appointment["patient_id"]),
        str(appointment["id"]),
        Cancellation(reason="my car broke down"),
        version,
    )


def test_a_patient_cancels_their_own_visit_and_the_desk_sees_it_to_book_again(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    me = _patient_actor(clinic, clinic.patient_id)
    visit = _book(clinic, clinic.patient_id, _weekday_at(5, 11))
    cancelled = _cancel(clinic, me, visit)
    assert (cancelled["status"], cancelled["status_reason"]) == ("cancelled", "my car broke down")
    with db.transaction() as session:
        stored = session.get(Appointment, visit["id"])
        assert stored is not None
        assert stored.status_changed_by_id == me.user_id
        assert stored.status_changed_at is not None
        told = session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.appointment_id == visit["id"])
        ).all()
    assert "cancelled" in told  # (the patient gets the cancellation, with the .ics)
    items = worklist.worklist(db, clinic.admin).to_rebook
    assert [(i.patient_id, i.detail) for i in items] == [
        (clinic.patient_id, "the patient's reason: my car broke down")
    ]
    assert items[0].what.startswith("Cancelled consultation of ")
    # The desk books another consultation: off the list.
    _book(clinic, clinic.patient_id, _weekday_at(8, 11))
    assert worklist.worklist(db, clinic.admin).to_rebook == []


def test_a_patient_cannot_cancel_inside_the_clinics_notice_but_staff_can(db: Database) -> None:
    clinic = Clinicians(db)
    me = _patient_actor(clinic, clinic.patient_id)
    soon = _book(clinic, clinic.patient_id, _weekday_at(5, 11))
    with db.transaction() as session:  # (the visit is in 10 hours; the notice is 24)
        stored = session.get(Appointment, soon["id"])
        assert stored is not None
        length = stored.ends_at - stored.starts_at
        stored.starts_at = datetime.now(UTC) + timedelta(hours=10)
        stored.ends_at = stored.starts_at + length
    with pytest.raises(NotNow, match="less than 24 hours away: please contact the clinic"):
        _cancel(clinic, me, soon)
    # A clinic that lets patients cancel up to the start.
    current = clinic_admin.read_operations(db, clinic.admin)
    clinic_admin.update_operations(
        db,
        clinic.admin,
        {**current["operations"], "patient_cancellation_notice_hours": 0},
        current["version"],
    )
    assert _cancel(clinic, me, soon)["status"] == "cancelled"
    # Staff cancel at any time, and their cancelling is not a visit to book again.
    late = _book(clinic, clinic.patient_id, _weekday_at(6, 9))
    assert _cancel(clinic, clinic.derm, late)["status"] == "cancelled"
    assert [i.patient_id for i in worklist.worklist(db, clinic.admin).to_rebook] == [
        clinic.patient_id
    ]  # (only the patient's own)


def test_a_patient_cannot_cancel_someone_elses_visit(db: Database) -> None:
    clinic = Clinicians(db)
    other = make_patient(db, clinic.clinic_id, family_name="Otherperson")
    theirs = _book(clinic, other, _weekday_at(5, 11))
    me = _patient_actor(clinic, clinic.patient_id)
    with pytest.raises(NotFound):
        _cancel(clinic, me, theirs)
    with pytest.raises(NotFound):  # (nor by naming it under their own chart)
        appointments.cancel(
            db, me, clinic.patient_id, str(theirs["id"]), Cancellation(reason="mine now"), 1
        )


@pytest.mark.parametrize("notice", [-1, 10_000, "a day", True, 2.5])
def test_the_notice_must_be_whole_hours_within_two_weeks(db: Database, notice: object) -> None:
    clinic = Clinicians(db)
    current = clinic_admin.read_operations(db, clinic.admin)
    with pytest.raises(InputInvalid) as refused:
        clinic_admin.update_operations(
            db,
            clinic.admin,
            {**current["operations"], "patient_cancellation_notice_hours": notice},
            current["version"],
        )
    assert [e.pointer for e in refused.value.errors] == ["/patient_cancellation_notice_hours"]


def test_a_missed_visit_is_to_book_again_too(db: Database) -> None:
    clinic = Clinicians(db)
    visit = _book(clinic, clinic.patient_id, _weekday_at(5, 11))
    with db.transaction() as session:  # (it was yesterday)
        stored = session.get(Appointment, visit["id"])
        assert stored is not None
        length = stored.ends_at - stored.starts_at
        stored.starts_at = datetime.now(UTC) - timedelta(days=1)
        stored.ends_at = stored.starts_at + length
    with db.transaction() as session:
        version = session.get(Appointment, visit["id"]).version  # type: ignore[union-attr]
    appointments.mark_no_show(db, clinic.admin, clinic.patient_id, str(visit["id"]), version)
    (item,) = worklist.worklist(db, clinic.admin).to_rebook
    assert item.what.startswith("Missed consultation of ")
    assert item.detail == "did not come"
    _book(clinic, clinic.patient_id, _weekday_at(8, 11))
    assert worklist.worklist(db, clinic.admin).to_rebook == []
