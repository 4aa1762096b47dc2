"""No double booking under concurrency: the database refuses the overlap, not only the check
before insert (issue: records API). Over HTTP with many simultaneous requests, and directly
against the database with the service's check bypassed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from follicle.records.models import Appointment, new_id
from tests.api.conftest import ApiServer
from tests.support.api import client_for, next_weekday_at

CONTENDERS = 12


def test_many_clients_book_one_slot_and_exactly_one_wins(api: ApiServer) -> None:
    users = api.demo
    slot = next_weekday_at("Europe/London", 0, 14, 0, days_ahead=35)
    patients = []
    with client_for(api.url, users.tokens["front_desk"]) as desk:
        for number in range(CONTENDERS):
            created = desk.post(
                "/patients",
                json={
                    "given_name": f"Racer{number}",
                    "family_name": "Concurrent",
                    "date_of_birth": "1990-01-01",
                    "sex_at_birth": "female",
                },
            )
            patients.append(created.json()["id"])

    def book(patient_id: str) -> int:
        with client_for(api.url, users.tokens["front_desk"]) as client:
            return client.post(
                f"/patients/{patient_id}/appointments",
                json={
                    "kind": "consultation",
                    "starts_at": slot,
                    "practitioner_id": users.practitioner_id,
                    "room_id": users.room_id,
                },
            ).status_code

    with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
        statuses = list(pool.map(book, patients))
    assert sorted(statuses) == [201] + [409] * (CONTENDERS - 1)
    with client_for(api.url, users.tokens["front_desk"]) as desk:
        day = slot[:10]
        booked = [
            a
            for a in desk.get("/appointments", params={"from": day, "to": day}).json()
            if a["status"] == "booked" and a["practitioner_id"] == users.practitioner_id
        ]
    assert len(booked) == 1


def _appointment(
    api: ApiServer, starts: datetime, minutes: int, status: str = "booked"
) -> Appointment:
    users = api.demo
    return Appointment(
        id=new_id("apt"),
        clinic_id=users.clinic_id,
        patient_id=users.other_patient_id,
        practitioner_id=users.practitioner_id,
        kind="consultation",
        status=status,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
    )


def test_the_database_itself_refuses_an_overlap(api: ApiServer) -> None:
    starts = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
    with api.db.transaction() as session:
        session.add(_appointment(api, starts, 30))
    with pytest.raises(IntegrityError, match=r"(?i)overlap"), api.db.transaction() as session:
        session.add(_appointment(api, starts + timedelta(minutes=15), 30))
    # Back to back is not an overlap, and a cancelled appointment frees its slot.
    with api.db.transaction() as session:
        session.add(_appointment(api, starts + timedelta(minutes=30), 30))
        session.add(_appointment(api, starts, 30, status="cancelled"))
