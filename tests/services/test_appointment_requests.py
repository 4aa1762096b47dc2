"""A patient asks for a visit (from the portal, or when cancelling one) and says when suits
them; the desk's worklist shows it until a visit of the kind is booked, the desk answers it
otherwise, or the patient takes it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from follicle.records.models import Appointment, AppointmentRequest, AuditEntry
from follicle.services import appointment_requests, appointments, chart, portal, worklist
from follicle.services.actors import Actor
from follicle.services.commands import (
    AppointmentAsk,
    Cancellation,
    NewAppointment,
    RequestAnswer,
)
from follicle.services.database import Database
from follicle.services.errors import NotFound, NotNow
from tests.services.test_care_rules import Clinicians
from tests.support.factories import make_patient, make_user


def _patient_actor(clinic: Clinicians, patient_id: str) -> Actor:
    user_id = make_user(clinic.db, clinic.clinic_id, role="patient", patient_id=patient_id)
    return Actor(user_id, clinic.clinic_id, "patient", patient_id=patient_id)


def _book(clinic: Clinicians, days_ahead: int, kind: str = "consultation") -> dict[str, object]:
    day = datetime.now(UTC) + timedelta(days=days_ahead)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return appointments.book(
        clinic.db,
        clinic.derm,
        clinic.patient_id,
        NewAppointment(
            kind=kind,
            starts_at=day.replace(hour=11, minute=0, second=0, microsecond=0),
            practitioner_id=str(clinic.derm.user_id),
        ),
    )


def _version(db: Database, model: type, record_id: object) -> int:
    with db.transaction() as session:
        return int(session.get_one(model, record_id).version)


def _asked(clinic: Clinicians) -> list[tuple[str, str]]:
    listed = worklist.worklist(clinic.db, clinic.admin).asked_to_book
    return [(item.what.split(" (")[0], item.detail) for item in listed]


def test_a_patient_cancels_and_asks_for_another_time_and_a_booking_answers_it(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    me = _patient_actor(clinic, clinic.patient_id)
    visit = _book(clinic, 9)
    cancelled = appointments.cancel(
        db,
        me,
        clinic.patient_id,
        str(visit["id"]),
        Cancellation(reason="a work trip", another_time="  weekday mornings  "),
        _version(db, Appointment, visit["id"]),
    )
    assert cancelled["status"] == "cancelled"
    request_id = cancelled["another_time_request_id"]
    (mine,) = portal.portal_home(db, me).requests
    assert (mine["id"], mine["kind"], mine["preferred_times"]) == (
        request_id,
        "consultation",
        "weekday mornings",
    )
    assert mine["instead_of_id"] == visit["id"]
    # The desk sees the request (which says when suits them), not the bare cancellation.
    work = worklist.worklist(db, clinic.admin)
    assert work.to_rebook == []
    (item,) = work.asked_to_book
    assert item.what.startswith("Asks for a consultation (")
    assert "instead of the one of" in item.what
    assert item.detail == "suits them: weekday mornings"
    with db.transaction() as session:
        made = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "appointment_request.create")
        ).one()
        assert made.resource_id == request_id
        assert made.actor.endswith(str(me.user_id))

    # Booking a visit of the kind answers it, in the same change.
    booked = _book(clinic, 12)
    assert _asked(clinic) == []
    (answered,) = appointment_requests.list_for_patient(db, clinic.admin, clinic.patient_id)
    assert (answered["status"], answered["booked_appointment_id"]) == ("booked", booked["id"])
    assert answered["closed_by_id"] == clinic.derm.user_id
    assert portal.portal_home(db, me).requests == []


def test_one_open_request_per_kind_and_a_refused_one_cancels_nothing(db: Database) -> None:
    clinic = Clinicians(db)
    me = _patient_actor(clinic, clinic.patient_id)
    visit = _book(clinic, 9)  # (booked before the request: a booking after would answer it)
    appointment_requests.ask(
        db, me, clinic.patient_id, AppointmentAsk(kind="consultation", preferred_times="Fridays")
    )
    again = AppointmentAsk(kind="consultation", preferred_times="Mondays")
    with pytest.raises(NotNow, match=r'already asked for on .* \("Fridays"\)'):
        appointment_requests.ask(db, me, clinic.patient_id, again)
    # Cancelling with another time is one change: refused whole, the visit stays booked.
    with pytest.raises(NotNow, match="already asked for"):
        appointments.cancel(
            db,
            me,
            clinic.patient_id,
            str(visit["id"]),
            Cancellation(reason="a work trip", another_time="Mondays"),
            _version(db, Appointment, visit["id"]),
        )
    with db.transaction() as session:
        assert session.get_one(Appointment, visit["id"]).status == "booked"
        assert len(session.scalars(select(AppointmentRequest)).all()) == 1
    # Another kind is another request.
    review = AppointmentAsk(kind="follow_up", preferred_times="after 4 pm")
    assert appointment_requests.ask(db, me, clinic.patient_id, review)["status"] == "open"
    assert sorted(what for what, _ in _asked(clinic)) == [
        "Asks for a consultation",
        "Asks for a follow-up review",
    ]


def test_the_patient_takes_a_request_back_and_the_desk_answers_one(db: Database) -> None:
    clinic = Clinicians(db)
    me = _patient_actor(clinic, clinic.patient_id)
    asked = appointment_requests.ask(
        db, me, clinic.patient_id, AppointmentAsk(kind="consultation", preferred_times="Fridays")
    )
    withdrawn = appointment_requests.withdraw(
        db, me, clinic.patient_id, str(asked["id"]), int(asked["version"])
    )
    assert withdrawn["status"] == "withdrawn"
    with pytest.raises(NotNow, match="already withdrawn"):
        appointment_requests.withdraw(
            db, me, clinic.patient_id, str(asked["id"]), int(withdrawn["version"])
        )
    # A patient cannot answer their own request; the desk can, and says why.
    review = appointment_requests.ask(
        db, me, clinic.patient_id, AppointmentAsk(kind="follow_up", preferred_times="any time")
    )
    note = RequestAnswer(reason="called: she will ring after her holiday")
    with pytest.raises(Exception, match="appointment:book"):
        appointment_requests.answer(db, me, clinic.patient_id, str(review["id"]), note, 1)
    closed = appointment_requests.answer(
        db, clinic.admin, clinic.patient_id, str(review["id"]), note, int(review["version"])
    )
    assert (closed["status"], closed["closed_reason"]) == ("closed", note.reason)
    assert _asked(clinic) == []
    found = chart.patient_chart(db, clinic.admin, clinic.patient_id)
    assert [(r["kind"], r["status"], r["by_patient"]) for r in found.requests] == [
        ("follow_up", "closed", True),
        ("consultation", "withdrawn", True),
    ]


def test_a_patient_cannot_see_or_take_back_someone_elses_request(db: Database) -> None:
    clinic = Clinicians(db)
    other_id = make_patient(db, clinic.clinic_id, family_name="Otherperson")
    theirs = appointment_requests.ask(
        db,
        _patient_actor(clinic, other_id),
        other_id,
        AppointmentAsk(kind="consultation", preferred_times="Fridays"),
    )
    me = _patient_actor(clinic, clinic.patient_id)
    with pytest.raises(NotFound):
        appointment_requests.withdraw(db, me, other_id, str(theirs["id"]), 1)
    with pytest.raises(NotFound):  # (nor through their own patient id)
        appointment_requests.withdraw(db, me, clinic.patient_id, str(theirs["id"]), 1)
    with pytest.raises(NotFound):
        appointment_requests.list_for_patient(db, me, other_id)
    with pytest.raises(NotFound):
        appointment_requests.ask(
            db, me, other_id, AppointmentAsk(kind="consultation", preferred_times="Mondays")
        )


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"kind": "consultation", "preferred_times": "no"}, "preferred_times"),
        ({"kind": "consultation", "preferred_times": "x" * 501}, "preferred_times"),
        ({"kind": "surgery", "preferred_times": "Fridays"}, "kind"),
    ],
)
def test_a_bad_request_names_the_field(body: dict[str, str], pointer: str) -> None:
    with pytest.raises(ValidationError) as refused:
        AppointmentAsk.model_validate(body)
    assert [e["loc"][0] for e in refused.value.errors()] == [pointer]


def test_the_worklist_says_how_long_a_request_has_waited(db: Database) -> None:
    clinic = Clinicians(db)
    me = _patient_actor(clinic, clinic.patient_id)
    asked = appointment_requests.ask(
        db, me, clinic.patient_id, AppointmentAsk(kind="follow_up", preferred_times="Fridays")
    )
    (today,) = worklist.worklist(db, clinic.admin).asked_to_book
    assert "waiting" not in today.what  # (asked today)
    with db.transaction() as session:
        request = session.get_one(AppointmentRequest, asked["id"])
        request.created_at -= timedelta(days=3)
    (later,) = worklist.worklist(db, clinic.admin).asked_to_book
    assert ", waiting 3 days" in later.what
