"""Dates are judged on the clinic's calendar, not the server's: a chain's clinics may sit in
other time zones than the machine that serves them (both backends).

Each test puts the clinic in a zone whose date differs from this machine's right now (one of
UTC+14 and UTC-12 always does: they are 26 hours apart), so a rule that read the server's
date would be off by a day here, whichever way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from follicle.clinic.errors import InputInvalid
from follicle.records.models import UserAccount
from follicle.services import adverse_events, clinic_admin, consents, devices, patients
from follicle.services.actors import Actor
from follicle.services.auth import actor_for
from follicle.services.commands import (
    AdverseEventReport,
    ConsentSignature,
    NewConsentText,
    NewLot,
    NewPatient,
)
from follicle.services.common import actor_today
from follicle.services.database import Database
from follicle.web.templating import make_templates
from tests.support.factories import make_clinic, make_lot, make_patient, make_user

AHEAD, BEHIND = "Pacific/Kiritimati", "Etc/GMT+12"  # UTC+14 and UTC-12


def _zone_off_the_server() -> str:
    """A zone whose calendar is not this machine's today."""
    for zone in (AHEAD, BEHIND):
        if datetime.now(ZoneInfo(zone)).date() != date.today():
            return zone
    raise AssertionError("UTC+14 and UTC-12 cannot share a date")


class FarClinic:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.zone = _zone_off_the_server()
        self.clinic_id = make_clinic(db, name="Far Clinic", time_zone=self.zone)
        self.patient_id = make_patient(db, self.clinic_id)
        self.admin = self._actor(make_user(db, self.clinic_id, role="admin"))
        self.derm = self._actor(make_user(db, self.clinic_id, credential="dermatologist"))
        self.patient = self._actor(
            make_user(db, self.clinic_id, role="patient", patient_id=self.patient_id)
        )

    def _actor(self, user_id: str) -> Actor:
        with self.db.transaction() as session:
            user = session.get(UserAccount, user_id)
            assert user is not None
            return actor_for(user)

    @property
    def today(self) -> date:
        return datetime.now(ZoneInfo(self.zone)).date()


@pytest.fixture
def far(db: Database) -> FarClinic:
    return FarClinic(db)


def _report(onset_on: date) -> AdverseEventReport:
    return AdverseEventReport(
        category="pain", grade=1, description="tender for a day", onset_on=onset_on
    )


def test_a_patient_reports_a_problem_that_began_on_the_clinics_today(far: FarClinic) -> None:
    reported = adverse_events.report(far.db, far.patient, far.patient_id, _report(far.today))
    assert reported["onset_on"] == far.today.isoformat()
    with pytest.raises(InputInvalid, match="in the future") as caught:
        adverse_events.report(
            far.db, far.patient, far.patient_id, _report(far.today + timedelta(days=1))
        )
    assert caught.value.errors[0].pointer == "/onset_on"


def test_a_lot_is_offered_until_the_end_of_its_expiry_day_at_the_clinic(far: FarClinic) -> None:
    make_lot(far.db, far.clinic_id, far.today, lot_number="LAST-DAY")
    make_lot(far.db, far.clinic_id, far.today - timedelta(days=1), lot_number="EXPIRED")
    offered = [c["label"] for c in devices.lot_choices(far.db, far.derm)]
    assert any("LAST-DAY" in label for label in offered)
    assert not any("EXPIRED" in label for label in offered)
    listed = {
        lot["lot_number"]: lot["expired"]
        for device in devices.list_devices(far.db, far.admin)
        for lot in device["lots"]
    }
    assert listed == {"LAST-DAY": False, "EXPIRED": True}


def test_a_lot_received_today_at_the_clinic_is_not_in_the_future(far: FarClinic) -> None:
    make_lot(far.db, far.clinic_id, lot_number="FIRST")  # (registers the device too)
    device_id = devices.list_devices(far.db, far.admin)[0]["id"]
    received = devices.receive_lot(
        far.db,
        far.admin,
        device_id,
        NewLot(
            lot_number="SECOND",
            received_on=far.today,
            expires_on=far.today + timedelta(days=1),
        ),
    )
    assert received["received_on"] == far.today.isoformat()
    tomorrow = far.today + timedelta(days=1)
    with pytest.raises(InputInvalid) as caught:
        devices.receive_lot(
            far.db,
            far.admin,
            device_id,
            NewLot(lot_number="THIRD", received_on=tomorrow, expires_on=far.today),
        )
    assert [e.pointer for e in caught.value.errors] == ["/received_on", "/expires_on"]


def test_a_patient_born_today_at_the_clinic_can_be_registered(far: FarClinic) -> None:
    created = patients.create_patient(
        far.db,
        far.admin,
        NewPatient(
            given_name="Newborn",
            family_name="Synthetic",
            date_of_birth=far.today,
            sex_at_birth="female",
        ),
    )
    assert created["date_of_birth"] == far.today.isoformat()
    with pytest.raises(InputInvalid, match="in the future"):
        patients.create_patient(
            far.db,
            far.admin,
            NewPatient(
                given_name="Unborn",
                family_name="Synthetic",
                date_of_birth=far.today + timedelta(days=1),
                sex_at_birth="female",
            ),
        )


def test_forms_offer_the_clinics_today(far: FarClinic) -> None:
    assert actor_today(far.db, far.patient) == far.today
    assert actor_today(far.db, far.admin) == far.today
    assert far.today != date.today()  # (the point of the zone chosen)


def test_an_audit_search_from_a_time_without_an_offset_is_the_clinics(far: FarClinic) -> None:
    patients.create_patient(
        far.db,
        far.admin,
        NewPatient(
            given_name="Audited",
            family_name="Synthetic",
            date_of_birth=date(1980, 5, 6),
            sex_at_birth="male",
        ),
    )
    wall_clock = datetime.now(ZoneInfo(far.zone)).replace(tzinfo=None)
    since = clinic_admin.audit_log(far.db, far.admin, since=wall_clock - timedelta(minutes=5))
    assert "patient.create" in [e["action"] for e in since["entries"]]
    until = clinic_admin.audit_log(far.db, far.admin, until=wall_clock - timedelta(minutes=5))
    assert "patient.create" not in [e["action"] for e in until["entries"]]


def test_consent_pages_date_a_signature_by_the_clinics_calendar(far: FarClinic) -> None:
    # (the pages cut the stored UTC time: a signature read as signed a day off)
    text = consents.publish_text(
        far.db,
        far.admin,
        NewConsentText(kind="photo_use", title="Photographs", body="We take photographs of..."),
    )
    consents.sign(
        far.db,
        far.patient,
        far.patient_id,
        ConsentSignature(
            kind="photo_use", signed_name="Pat Testperson", consent_text_id=text["id"]
        ),
    )
    status = consents.list_consents(far.db, far.patient, far.patient_id)
    assert status["time_zone"] == far.zone
    env = make_templates().env
    portal = env.get_template("portal_consents.html").render(status=status, patient_id="x")
    assert f"signed {far.today.isoformat()}" in portal
    page = env.get_template("consent.html").render(
        status=status,
        text=status["current_texts"]["photo_use"],
        kind="photo_use",
        errors={},
        values={},
    )
    assert f"published {far.today.isoformat()}" in page


def test_the_recall_list_dates_a_session_by_the_clinics_calendar() -> None:
    # (a Los Angeles session at 16:10 is past midnight UTC; the list cut the UTC time)
    session = {
        "performed_at": "2025-11-13T00:10:00+00:00",
        "patient_id": "pat_1",
        "family_name": "Testperson",
        "given_name": "Pat",
        "date_of_birth": "1990-01-02",
        "email": None,
        "phone": None,
        "performed_by": "Dr Example",
    }
    recall = {
        "lot": {"id": "lot_1", "lot_number": "L-1", "expires_on": "2026-01-01"},
        "device": "Pen",
        "patients": 1,
        "sessions": [session],
        "time_zone": "America/Los_Angeles",
    }
    page = make_templates().env.get_template("recall.html").render(recall=recall)
    assert "<td>2025-11-12</td>" in page
    assert "2025-11-13" not in page


def test_the_event_form_and_the_consent_texts_date_by_the_clinics_calendar() -> None:
    # (the same cut of the stored UTC time as the recall list's)
    env = make_templates().env
    evening = "2025-11-13T00:10:00+00:00"  # 16:10 on the 12th in Los Angeles
    form = env.get_template("event_new.html").render(
        chart={
            "time_zone": "America/Los_Angeles",
            "sessions": [{"id": "ses_1", "performed_at": evening}],
            "patient": {"id": "pat_1", "given_name": "Pat", "family_name": "Testperson"},
        },
        categories=("pain",),
        errors={},
        values={},
    )
    assert '<option value="ses_1" >2025-11-12</option>' in form
    texts = env.get_template("admin_consents.html").render(
        texts=[
            {
                "version_number": 1,
                "title": "T",
                "published_at": evening,
                "body": "b",
                "kind": "treatment",
            }
        ],
        errors={},
        values={},
        time_zone="America/Los_Angeles",
    )
    assert "· 2025-11-12</summary>" in texts
