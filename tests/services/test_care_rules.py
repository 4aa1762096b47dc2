"""The clinical rules of the journey, through the services on a real database (both backends):
time zones across daylight saving, the interval rule, consent versions and withdrawal, the
session's refusals, approval by credential, the serious-event hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from follicle.clinic.errors import InputInvalid
from follicle.records.models import Clinic, ConsentText, Room, UserAccount, new_id, utcnow
from follicle.services import adverse_events, appointments, consents, intakes, plans, sessions
from follicle.services.actors import Actor
from follicle.services.auth import actor_for
from follicle.services.commands import (
    AdverseEventReport,
    ConsentSignature,
    ConsentWithdrawal,
    IntakeSubmission,
    NewConsentText,
    NewSessionRecord,
    Reschedule,
    SeriesBooking,
)
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotNow
from tests.support.api import eligible_intake
from tests.support.factories import make_clinic, make_lot, make_patient, make_user


class Clinicians:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.clinic_id = make_clinic(db, time_zone="Europe/London")
        with db.transaction() as session:
            self.room_id = new_id("room")
            session.add(Room(id=self.room_id, clinic_id=self.clinic_id, name="Room 1"))
            for kind in ("treatment", "photo_use"):
                session.add(
                    ConsentText(
                        id=new_id("ctx"),
                        clinic_id=self.clinic_id,
                        kind=kind,
                        version_number=1,
                        title=f"{kind} consent",
                        body="Synthetic consent text for tests.",
                        published_at=utcnow(),
                    )
                )
        self.derm = self._actor(make_user(db, self.clinic_id, credential="dermatologist"))
        self.aest = self._actor(make_user(db, self.clinic_id, credential="licensed_aesthetician"))
        self.admin = self._actor(make_user(db, self.clinic_id, role="admin"))
        self.patient_id = make_patient(db, self.clinic_id)
        self.lot_id = make_lot(db, self.clinic_id)

    def _actor(self, user_id: str) -> Actor:
        with self.db.transaction() as session:
            user = session.get(UserAccount, user_id)
            assert user is not None
            return actor_for(user)

    def sign(self, kind: str) -> dict[str, object]:
        current = consents.list_consents(self.db, self.derm, self.patient_id)["current_texts"]
        return consents.sign(
            self.db,
            self.derm,
            self.patient_id,
            ConsentSignature(
                kind=kind, signed_name="Pat Testperson", consent_text_id=current[kind]["id"]
            ),
        )

    def approved_plan(self) -> dict[str, object]:
        intakes.submit_intake(
            self.db, self.derm, self.patient_id, IntakeSubmission(intake=eligible_intake())
        )
        plan = plans.propose_plan(self.db, self.derm, self.patient_id)
        return plans.approve_plan(self.db, self.derm, self.patient_id, str(plan["id"]), 1)

    def book_series(self, plan_id: str, first: datetime) -> list[dict[str, object]]:
        return appointments.book_series(
            self.db,
            self.derm,
            self.patient_id,
            SeriesBooking(
                plan_id=plan_id,
                first_starts_at=first,
                practitioner_id=str(self.derm.user_id),
                room_id=self.room_id,
            ),
        )

    def session_body(self, plan_id: str, **changes: object) -> NewSessionRecord:
        body: dict[str, object] = {
            "plan_id": plan_id,
            "lot_id": self.lot_id,
            "depth_mm_by_region": {"vertex": 0.5},
            "endpoint": "mild_erythema",
            "pre_session_check": {"confirmed_with_patient": True},
        }
        body.update(changes)
        return NewSessionRecord.model_validate(body)


@pytest.fixture
def clinic(db: Database) -> Clinicians:
    return Clinicians(db)


def test_a_series_keeps_local_time_across_the_clocks_changing(clinic: Clinicians) -> None:
    plan = clinic.approved_plan()
    # 2027: the UK's clocks go forward on 28 March.
    booked = clinic.book_series(str(plan["id"]), datetime(2027, 3, 9, 10, 0))
    assert {a["starts_local"][11:16] for a in booked} == {"10:00"}
    interval_days = int(plan["plan"]["interval_days"])  # type: ignore[index]
    assert interval_days == 14  # the AGA default, so the third session is on 6 April
    utc = [datetime.fromisoformat(str(a["starts_at"])) for a in booked[:3]]
    assert [(u.month, u.day, u.hour) for u in utc] == [(3, 9, 10), (3, 23, 10), (4, 6, 9)]
    ics = appointments.ics(clinic.db, clinic.derm, clinic.patient_id)
    assert b"TZID=Europe/London" in ics
    assert b"BEGIN:VTIMEZONE" in ics
    # One alarm per event at each of the clinic's reminder lead times (48 h and 2 h).
    assert ics.count(b"BEGIN:VALARM") == 2 * len(booked)
    assert b"TRIGGER:-P2D" in ics
    assert b"TRIGGER:-PT2H" in ics


def test_rescheduling_keeps_the_shortest_interval(clinic: Clinicians) -> None:
    plan = clinic.approved_plan()
    booked = clinic.book_series(str(plan["id"]), datetime(2027, 5, 4, 11, 0))
    second = booked[1]
    too_close = datetime.fromisoformat(str(booked[0]["starts_local"])) + timedelta(days=2)
    with pytest.raises(InputInvalid, match="days apart"):
        appointments.reschedule(
            clinic.db,
            clinic.derm,
            clinic.patient_id,
            str(second["id"]),
            Reschedule(starts_at=too_close.replace(tzinfo=None)),
            1,
        )


def test_a_session_needs_the_current_consent_and_withdrawal_cancels_future_sessions(
    clinic: Clinicians,
) -> None:
    plan = clinic.approved_plan()
    plan_id = str(plan["id"])
    with pytest.raises(NotNow, match="treatment consent"):
        sessions.record_session(
            clinic.db, clinic.derm, clinic.patient_id, clinic.session_body(plan_id)
        )
    clinic.sign("treatment")
    sessions.record_session(clinic.db, clinic.derm, clinic.patient_id, clinic.session_body(plan_id))
    # A new version of the text: sign again before the next session.
    consents.publish_text(
        clinic.db,
        clinic.admin,
        NewConsentText(
            kind="treatment", title="Treatment consent v2", body="Revised synthetic text."
        ),
    )
    with pytest.raises(NotNow, match="treatment consent"):
        sessions.record_session(
            clinic.db, clinic.derm, clinic.patient_id, clinic.session_body(plan_id)
        )
    signed = clinic.sign("treatment")
    booked = clinic.book_series(plan_id, datetime(2027, 6, 1, 9, 0))
    withdrawn = consents.withdraw(
        clinic.db,
        clinic.derm,
        clinic.patient_id,
        str(signed["id"]),
        ConsentWithdrawal(reason="patient no longer wishes to continue"),
        1,
    )
    assert withdrawn["valid"] is False
    statuses = {
        a["status"]
        for a in appointments.list_for_patient(clinic.db, clinic.derm, clinic.patient_id)
    }
    assert statuses == {"cancelled"}
    assert len(booked) > 1
    with pytest.raises(NotNow, match="treatment consent"):
        sessions.record_session(
            clinic.db, clinic.derm, clinic.patient_id, clinic.session_body(plan_id)
        )
    # The signed record stays readable.
    history = consents.list_consents(clinic.db, clinic.derm, clinic.patient_id)["consents"]
    assert [c["version_number"] for c in history] == [1, 2]
    assert history[1]["withdrawn_at"] is not None


def test_session_refusals_name_the_problem(clinic: Clinicians) -> None:
    plan = clinic.approved_plan()
    plan_id = str(plan["id"])
    clinic.sign("treatment")
    old_lot = make_lot(
        clinic.db, clinic.clinic_id, date.today() - timedelta(days=1), lot_number="LOT-OLD"
    )
    expired = clinic.session_body(plan_id, lot_id=old_lot)
    with pytest.raises(InputInvalid, match="LOT-OLD expired") as caught:
        sessions.record_session(clinic.db, clinic.derm, clinic.patient_id, expired)
    assert caught.value.errors[0].pointer == "/lot_id"
    other_clinic_lot = make_lot(clinic.db, make_clinic(clinic.db, name="Elsewhere"))
    with pytest.raises(InputInvalid, match="no such cartridge lot") as caught:
        sessions.record_session(
            clinic.db,
            clinic.derm,
            clinic.patient_id,
            clinic.session_body(plan_id, lot_id=other_clinic_lot),
        )
    too_deep = clinic.session_body(plan_id, depth_mm_by_region={"vertex": 2.4})
    with pytest.raises(InputInvalid, match="deeper than the approved plan"):
        sessions.record_session(clinic.db, clinic.derm, clinic.patient_id, too_deep)
    sunburnt = clinic.session_body(
        plan_id,
        pre_session_check={"confirmed_with_patient": True, "active_scalp_conditions": ["sunburn"]},
    )
    with pytest.raises(NotNow, match="pre-session check"):
        sessions.record_session(clinic.db, clinic.derm, clinic.patient_id, sunburnt)
    anticoagulated = clinic.session_body(
        plan_id,
        pre_session_check={
            "confirmed_with_patient": True,
            "new_medications": [{"name": "apixaban", "class": "anticoagulant"}],
        },
    )
    with pytest.raises(NotNow, match="pre-session check"):
        sessions.record_session(clinic.db, clinic.derm, clinic.patient_id, anticoagulated)
    assert sessions.list_sessions(clinic.db, clinic.derm, clinic.patient_id) == []


def test_only_a_credential_that_allows_the_depth_may_approve(clinic: Clinicians) -> None:
    intakes.submit_intake(
        clinic.db, clinic.derm, clinic.patient_id, IntakeSubmission(intake=eligible_intake())
    )
    plan = plans.propose_plan(clinic.db, clinic.derm, clinic.patient_id)
    assert float(plan["plan"]["needle_depth_mm"]) > 0.5  # type: ignore[index]
    with pytest.raises(Forbidden, match="licensed_aesthetician"):
        plans.approve_plan(clinic.db, clinic.aest, clinic.patient_id, str(plan["id"]), 1)
    # The aesthetician's own proposal is capped at what the clinic allows them.
    own = plans.propose_plan(clinic.db, clinic.aest, clinic.patient_id)
    assert float(own["plan"]["needle_depth_mm"]) <= 0.5  # type: ignore[index]
    approved = plans.approve_plan(clinic.db, clinic.aest, clinic.patient_id, str(own["id"]), 1)
    assert approved["status"] == "approved"


def test_a_serious_event_holds_the_plan_until_every_serious_event_is_cleared(
    clinic: Clinicians,
) -> None:
    plan = clinic.approved_plan()
    report = AdverseEventReport(
        category="erythema_prolonged", grade=3, description="red for 3 weeks", onset_on=date.today()
    )
    first = adverse_events.report(clinic.db, clinic.derm, clinic.patient_id, report)
    second = adverse_events.report(
        clinic.db,
        clinic.derm,
        clinic.patient_id,
        AdverseEventReport(
            category="scarring", grade=1, description="small scar", onset_on=date.today()
        ),
    )
    assert first["plans_held"] == [plan["id"]]
    assert second["serious"] is True
    from follicle.services.commands import AdverseEventClearance

    cleared = adverse_events.clear(
        clinic.db,
        clinic.derm,
        clinic.patient_id,
        str(first["id"]),
        AdverseEventClearance(note="settled with emollients"),
        1,
    )
    assert cleared["plans_resumed"] == []  # the scar is still open
    cleared = adverse_events.clear(
        clinic.db,
        clinic.derm,
        clinic.patient_id,
        str(second["id"]),
        AdverseEventClearance(note="reviewed, flat and pale"),
        1,
    )
    assert cleared["plans_resumed"] == [plan["id"]]
    with pytest.raises(InputInvalid, match="future"):
        adverse_events.report(
            clinic.db,
            clinic.derm,
            clinic.patient_id,
            AdverseEventReport(
                category="pain",
                grade=1,
                description="x y z",
                onset_on=date.today() + timedelta(days=2),
            ),
        )


def test_clinic_check_uses_the_clinic_time_zone(clinic: Clinicians) -> None:
    with clinic.db.transaction() as session:
        found = session.get(Clinic, clinic.clinic_id)
        assert found is not None
        assert found.time_zone == "Europe/London"


def test_a_session_time_without_an_offset_is_the_clinics_and_not_in_the_future(
    clinic: Clinicians,
) -> None:
    plan_id = str(clinic.approved_plan()["id"])
    clinic.sign("treatment")
    ahead = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    with pytest.raises(InputInvalid) as caught:
        sessions.record_session(
            clinic.db,
            clinic.derm,
            clinic.patient_id,
            clinic.session_body(plan_id, performed_at=ahead),
        )
    assert caught.value.errors[0].pointer == "/performed_at"
    summer = clinic.session_body(plan_id, performed_at="2025-07-01T10:00")  # London, BST
    recorded = sessions.record_session(clinic.db, clinic.derm, clinic.patient_id, summer)
    assert datetime.fromisoformat(str(recorded["performed_at"])) == datetime(
        2025, 7, 1, 9, 0, tzinfo=UTC
    )


def test_a_time_in_a_year_no_clinic_means_is_refused_by_field(clinic: Clinicians) -> None:
    plan_id = str(clinic.approved_plan()["id"])
    with pytest.raises(ValidationError) as caught:
        SeriesBooking(
            plan_id=plan_id,
            first_starts_at=datetime(9999, 12, 29, 10, 0),  # (adding the interval overflowed)
            practitioner_id=str(clinic.derm.user_id),
            room_id=clinic.room_id,
        )
    assert [e["loc"] for e in caught.value.errors()] == [("first_starts_at",)]
    with pytest.raises(ValidationError):
        clinic.session_body(plan_id, performed_at="1066-10-14T09:00")
