"""Concurrency on one patient (issues: records API, reliability): many simultaneous bookings
of one slot, amendments of one intake, edits of one plan version and session records against
one appointment. Exactly one of each wins, the rest get 409, no update is lost, and the audit
chain still verifies. Over HTTP to the real server, and directly against the database with the
service's check bypassed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from follicle.records.audit import verify_chain
from follicle.records.models import Appointment, new_id
from tests.api.conftest import ApiServer
from tests.support.api import (
    client_for,
    eligible_intake,
    next_weekday_at,
    ok,
    session_body,
)

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


def _race(
    api: ApiServer, role: str, count: int, send: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """``count`` clients fire at the same moment (a barrier), each on its own connection."""
    barrier = threading.Barrier(count)

    def one(number: int) -> httpx.Response:
        with client_for(api.url, api.demo.tokens[role]) as client:
            barrier.wait()
            return send(client, number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def _statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def test_one_patient_under_concurrent_amendments_edits_and_sessions(api: ApiServer) -> None:
    users = api.demo
    with (
        client_for(api.url, users.tokens["front_desk"]) as desk,
        client_for(api.url, users.tokens["practitioner"]) as derm,
    ):
        patient = ok(
            desk.post(
                "/patients",
                json={
                    "given_name": "Many",
                    "family_name": "Hands",
                    "date_of_birth": "1980-01-01",
                    "sex_at_birth": "male",
                },
            ),
            201,
        )["id"]
        base = f"/patients/{patient}"
        first = ok(derm.post(base + "/intakes", json={"intake": eligible_intake()}), 201)

    # Eight clinicians amend the same intake at once: one amendment, not a fork.
    amended = _race(
        api,
        "practitioner",
        CONTENDERS,
        lambda c, n: c.post(
            base + "/intakes",
            json={"intake": eligible_intake(), "amends": first["id"], "reason": f"edit {n}"},
        ),
    )
    assert _statuses(amended) == [201] + [409] * (CONTENDERS - 1)
    with client_for(api.url, users.tokens["practitioner"]) as derm:
        history = ok(derm.get(base + "/intakes"))
        assert [i["amends"] for i in history] == [None, first["id"]]
        texts = {t["kind"]: t for t in ok(derm.get("/consent-texts"))}
        signs_as = ok(derm.get(base + "/consents"))["signs_as"]
        for kind in ("treatment", "photo_use"):
            signed = {
                "kind": kind,
                "signed_name": signs_as,
                "consent_text_id": texts[kind]["id"],
            }
            ok(derm.post(base + "/consents", json=signed), 201)
        proposed = derm.post(base + "/plans")
        plan = ok(proposed, 201)
        etag = proposed.headers["etag"]

    # Eight edits of the same plan version: one lands, the others are told it changed.
    edits = _race(
        api,
        "practitioner",
        CONTENDERS,
        lambda c, n: c.patch(
            base + f"/plans/{plan['id']}",
            json={"sessions": 6 + n, "reason": f"edit {n}"},
            headers={"If-Match": etag},
        ),
    )
    assert _statuses(edits) == [200] + [409] * (CONTENDERS - 1)
    winner = next(r for r in edits if r.status_code == 200).json()
    with client_for(api.url, users.tokens["practitioner"]) as derm:
        current = derm.get(base + f"/plans/{plan['id']}")
        assert ok(current)["plan"]["sessions"] == winner["plan"]["sessions"]  # nothing lost
        approved = derm.post(
            base + f"/plans/{plan['id']}/approve", headers={"If-Match": current.headers["etag"]}
        )
        ok(approved)
    with client_for(api.url, users.tokens["front_desk"]) as desk:
        series = ok(
            desk.post(
                base + "/appointments/series",
                json={
                    "plan_id": plan["id"],
                    "first_starts_at": next_weekday_at("Europe/London", 2, 8, 0, days_ahead=42),
                    "practitioner_id": users.practitioner_id,
                },
            ),
            201,
        )

    # Six clinicians record the session of the same appointment: one record.
    appointment_id = series[0]["id"]
    recorded = _race(
        api,
        "practitioner",
        6,
        lambda c, n: c.post(
            base + "/sessions", json=session_body(plan["id"], users.lot_id, appointment_id)
        ),
    )
    assert _statuses(recorded) == [201] + [409] * 5
    with client_for(api.url, users.tokens["practitioner"]) as derm:
        sessions = ok(derm.get(base + "/sessions"))
        assert [s["appointment_id"] for s in sessions] == [appointment_id]
    with api.db.transaction() as session:
        assert verify_chain(session).ok
