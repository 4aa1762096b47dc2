"""Driving the real server over HTTP as each role, and walking a patient through the journey."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import httpx
import numpy as np
from sqlalchemy import select

from follicle.records.models import CartridgeLot, Patient, Room, UserAccount, new_id
from follicle.services.database import Database
from tests.support.factories import make_lot, make_user

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "intake"
PASSWORD = "correct horse battery staple"
ROLES = ("admin", "practitioner", "front_desk", "patient")


def eligible_intake() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (EXAMPLES / "aga-norwood3-eligible.json").read_text(encoding="utf-8")
    )
    return document


def photo_png(width: int = 64, height: int = 48) -> bytes:
    rng = np.random.default_rng(7)
    pixels = rng.integers(60, 200, size=(height, width, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok
    return encoded.tobytes()


def token_for(base_url: str, email: str, password: str = PASSWORD) -> str:
    response = httpx.post(
        base_url + "/api/v1/auth/token", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def client_for(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url + "/api/v1", headers=headers, timeout=60)


@dataclass
class ClinicUsers:
    """One clinic's people for the tests: a token per role, and the patient behind the
    patient's token (a second patient shows what a patient may not see)."""

    clinic_id: str
    practitioner_id: str
    room_id: str
    lot_id: str = ""
    device_id: str = ""
    spare_user_id: str = ""  # a colleague tests may deactivate
    tokens: dict[str, str] = field(default_factory=dict)
    patient_id: str = ""
    other_patient_id: str = ""


def _patient(db: Database, clinic_id: str, family: str) -> str:
    with db.transaction() as session:
        patient = Patient(
            id=new_id("pat"),
            clinic_id=clinic_id,
            given_name="Test",
            family_name=family,
            date_of_birth=date(1988, 5, 6),
            sex_at_birth="male",
            email=f"{new_id('p')}@test.follicle",  # so a portal invitation can be sent
        )
        session.add(patient)
        return patient.id


def clinic_users(db: Database, base_url: str, slug_email: str) -> ClinicUsers:
    """Users of the demo clinic whose admin is ``admin@<slug_email>``, made for this test run."""
    with db.transaction() as session:
        admin = session.scalar(
            select(UserAccount).where(UserAccount.email == f"admin@{slug_email}")
        )
        assert admin is not None
        clinic_id = admin.clinic_id
        room = session.scalars(select(Room).where(Room.clinic_id == clinic_id)).first()
        room_id = room.id if room else ""
        if room is None:
            extra = Room(id=new_id("room"), clinic_id=clinic_id, name="Test room")
            session.add(extra)
            room_id = extra.id
    patient_id = _patient(db, clinic_id, "Ownrecord")
    other_patient_id = _patient(db, clinic_id, "Someoneelse")
    emails = {role: f"{new_id('t')}-{role}@test.follicle" for role in ROLES}
    practitioner_id = make_user(
        db, clinic_id, "practitioner", PASSWORD, emails["practitioner"], credential="dermatologist"
    )
    make_user(db, clinic_id, "admin", PASSWORD, emails["admin"])
    make_user(db, clinic_id, "front_desk", PASSWORD, emails["front_desk"])
    make_user(db, clinic_id, "patient", PASSWORD, emails["patient"], patient_id=patient_id)
    lot_id = make_lot(db, clinic_id)
    with db.transaction() as session:
        lot = session.get(CartridgeLot, lot_id)
        assert lot is not None
        device_id = lot.device_id
    users = ClinicUsers(clinic_id, practitioner_id, room_id, lot_id, device_id)
    users.spare_user_id = make_user(db, clinic_id, "front_desk", PASSWORD)
    users.patient_id, users.other_patient_id = patient_id, other_patient_id
    users.tokens = {role: token_for(base_url, email) for role, email in emails.items()}
    return users


def clinic_today(zone: str) -> date:
    """Today on a clinic's calendar (its dates are judged there, not on this machine's)."""
    return datetime.now(ZoneInfo(zone)).date()


def next_weekday_at(
    zone: str, weekday: int, hour: int, minute: int = 0, days_ahead: int = 7
) -> str:
    """A local wall-clock time (no offset) on a coming weekday, inside working hours."""
    day = clinic_today(zone) + timedelta(days=days_ahead)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json()


@dataclass
class JourneyIds:
    patient_id: str
    intake_id: str = ""
    screening_id: str = ""
    plan_id: str = ""
    consent_id: str = ""
    appointment_ids: list[str] = field(default_factory=list)
    session_id: str = ""
    image_id: str = ""
    event_id: str = ""
    request_id: str = ""


def path_ids(patient_id: str, ids: JourneyIds, users: ClinicUsers, user_id: str) -> dict[str, str]:
    """Real ids for every id parameter in the API's paths (the authorization matrix and the
    fuzzer fill paths with them)."""
    return {
        "patient_id": patient_id,
        "intake_id": ids.intake_id,
        "screening_id": ids.screening_id,
        "consent_id": ids.consent_id,
        "plan_id": ids.plan_id,
        "appointment_id": ids.appointment_ids[-1],
        "session_id": ids.session_id,
        "image_id": ids.image_id,
        "event_id": ids.event_id,
        "request_id": ids.request_id,
        "user_id": user_id,
        "device_id": users.device_id,
        "lot_id": users.lot_id,
    }


def session_body(
    plan_id: str, lot_id: str, appointment_id: str | None = None, depth_mm: float = 0.5
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "plan_id": plan_id,
        "lot_id": lot_id,
        "depth_mm_by_region": {"vertex": depth_mm, "frontal": depth_mm},
        "endpoint": "mild_erythema",
        "pain_score": 3,
        "pre_session_check": {"confirmed_with_patient": True},
    }
    if appointment_id:
        body["appointment_id"] = appointment_id
    return body


def walk_to_sessions(
    practitioner: httpx.Client,
    desk: httpx.Client,
    users: ClinicUsers,
    patient_id: str,
    zone: str,
    hour: int = 9,
) -> JourneyIds:
    """Intake → screening → consents → plan approved → series booked → one session, one photo,
    one (non-serious) adverse event: every kind of record exists for the patient."""
    ids = JourneyIds(patient_id)
    base = f"/patients/{patient_id}"
    intake = ok(practitioner.post(base + "/intakes", json={"intake": eligible_intake()}), 201)
    ids.intake_id, ids.screening_id = intake["id"], intake["screening"]["id"]
    texts = {t["kind"]: t for t in ok(practitioner.get("/consent-texts"))}
    signs_as = ok(practitioner.get(base + "/consents"))["signs_as"]  # (their registered name)
    for kind in ("treatment", "photo_use"):
        signed = ok(
            practitioner.post(
                base + "/consents",
                json={
                    "kind": kind,
                    "signed_name": signs_as,
                    "consent_text_id": texts[kind]["id"],
                },
            ),
            201,
        )
        if kind == "treatment":
            ids.consent_id = signed["id"]
    proposed = practitioner.post(base + "/plans")
    plan = ok(proposed, 201)
    approved = practitioner.post(
        base + f"/plans/{plan['id']}/approve", headers={"If-Match": proposed.headers["etag"]}
    )
    ids.plan_id = ok(approved)["id"]
    series = ok(
        desk.post(
            base + "/appointments/series",
            json={
                "plan_id": ids.plan_id,
                "first_starts_at": next_weekday_at(zone, 1, hour, 0),
                "practitioner_id": users.practitioner_id,
            },
        ),
        201,
    )
    ids.appointment_ids = [a["id"] for a in series]
    ids.session_id = ok(
        practitioner.post(base + "/sessions", json=session_body(ids.plan_id, users.lot_id)), 201
    )["id"]
    ids.image_id = ok(
        practitioner.post(
            base + "/images",
            data={"kind": "photo", "view": "vertex", "session_record_id": ids.session_id},
            files={"file": ("vertex.png", photo_png(), "image/png")},
        ),
        201,
    )["id"]
    ids.event_id = ok(
        practitioner.post(
            base + "/adverse-events",
            json={
                "category": "erythema_prolonged",
                "grade": 1,
                "description": "redness for four days",
                "onset_on": clinic_today(zone).isoformat(),
                "session_record_id": ids.session_id,
            },
        ),
        201,
    )["id"]
    ids.request_id = ok(  # (the patient phoned the desk for a review)
        desk.post(
            base + "/appointment-requests",
            json={"kind": "follow_up", "preferred_times": "weekday mornings"},
        ),
        201,
    )["id"]
    return ids
