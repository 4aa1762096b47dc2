"""Every endpoint × every role × own record / another patient / another clinic, generated from
the OpenAPI description: a new endpoint without a declared permission, or without a request
this test knows how to make, fails here (issue: records API, "Done means").

Expected answers follow one rule (DESIGN.md §4): what the caller may not see is 404, exactly
like a record that does not exist; what they may see but not do is 403; otherwise the request
gets past authorization (2xx, or 409 when the record's state refuses it, e.g. an already
approved plan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from follicle.records.models import new_id
from follicle.services.authz import ROLE_PERMISSIONS, Permission
from tests.api.conftest import ApiServer
from tests.support.api import (
    ROLES,
    ClinicUsers,
    JourneyIds,
    client_for,
    clinic_today,
    eligible_intake,
    next_weekday_at,
    ok,
    path_ids,
    photo_png,
    session_body,
    walk_to_sessions,
)

ALLOWED = {200, 201, 409}


@dataclass(frozen=True)
class Target:
    """The records a request names: whose path ids, and the clinic they live in."""

    name: str
    ids: JourneyIds
    users: ClinicUsers
    zone: str
    treatment_text_id: str
    patient_path_id: str  # differs from ids.patient_id for the "mismatched" target
    signs_as: str  # the path's patient's registered name
    #: Photos that may be set aside, one per request that names one (not the journey's
    #: image, which other requests still read).
    spare_images: list[str] = field(default_factory=list)
    #: Session records that may be voided, likewise.
    spare_sessions: list[str] = field(default_factory=list)
    #: Adverse events that may be voided, likewise.
    spare_events: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class World:
    own: Target
    other_patient: Target
    mismatched: Target
    other_clinic: Target


def _treatment_text(client: httpx.Client) -> str:
    return next(t["id"] for t in ok(client.get("/consent-texts")) if t["kind"] == "treatment")


@pytest.fixture(scope="module")
def world(api: ApiServer) -> World:
    targets: dict[str, Target] = {}
    for name, users, patient_id, zone, hour in (
        ("own", api.demo, api.demo.patient_id, "Europe/London", 9),
        ("other_patient", api.demo, api.demo.other_patient_id, "Europe/London", 11),
        ("other_clinic", api.other, api.other.patient_id, "America/New_York", 9),
    ):
        with (
            client_for(api.url, users.tokens["practitioner"]) as practitioner,
            client_for(api.url, users.tokens["front_desk"]) as desk,
        ):
            ids = walk_to_sessions(practitioner, desk, users, patient_id, zone, hour)
            text_id = _treatment_text(practitioner)
            signs_as = ok(practitioner.get(f"/patients/{patient_id}/consents"))["signs_as"]
            spares = [_spare_image(practitioner, patient_id) for _ in range(len(ROLES) + 1)]
            extra = [
                str(ok(practitioner.post(f"/patients/{patient_id}/sessions", json=body), 201)["id"])
                for body in [session_body(ids.plan_id, users.lot_id)] * (len(ROLES) + 1)
            ]
            events = [_spare_event(practitioner, patient_id, zone) for _ in range(len(ROLES) + 1)]
        targets[name] = Target(
            name, ids, users, zone, text_id, patient_id, signs_as, spares, extra, events
        )
    own = targets["own"]
    foreign = targets["other_clinic"]
    # The own patient's path with another clinic's record ids under it.
    mismatched = Target(
        "mismatched",
        foreign.ids,
        own.users,
        own.zone,
        own.treatment_text_id,
        own.patient_path_id,
        own.signs_as,
    )
    return World(own, targets["other_patient"], mismatched, foreign)


def _spare_event(practitioner: httpx.Client, patient_id: str, zone: str) -> str:
    reported = practitioner.post(
        f"/patients/{patient_id}/adverse-events",
        json={
            "category": "headache",
            "grade": 1,
            "description": "typed on this chart by mistake",
            "onset_on": clinic_today(zone).isoformat(),
        },
    )
    return str(ok(reported, 201)["id"])


def _spare_image(practitioner: httpx.Client, patient_id: str) -> str:
    stored = practitioner.post(
        f"/patients/{patient_id}/images",
        data={"kind": "photo", "view": "frontal"},
        files={"file": ("spare.png", photo_png(), "image/png")},
    )
    return str(ok(stored, 201)["id"])


def _path_value(name: str, target: Target, path: str = "") -> str:
    if name == "user_id" and path.endswith(("/deactivate", "/reactivate")):
        return target.users.spare_user_id  # not a user whose token the matrix still needs
    if name == "image_id" and path.endswith("/void") and target.spare_images:
        return target.spare_images.pop()
    if name == "session_id" and path.endswith("/void") and target.spare_sessions:
        return target.spare_sessions.pop()
    if name == "event_id" and path.endswith("/void") and target.spare_events:
        return target.spare_events.pop()
    values = path_ids(
        target.patient_path_id, target.ids, target.users, target.users.practitioner_id
    )
    values["name"] = "measurements.csv"
    if name not in values:
        pytest.fail(f"the matrix does not know how to fill path parameter {name!r}")
    return values[name]


Request = dict[str, Any]
_SOON = date.today() + timedelta(days=30)


def _book(t: Target) -> Request:
    return {
        "json": {
            "kind": "consultation",
            "starts_at": next_weekday_at(t.zone, 3, 15, 0, days_ahead=21),
            "practitioner_id": t.users.practitioner_id,
        }
    }


REQUESTS: dict[tuple[str, str], Callable[[Target], Request]] = {
    ("post", "/api/v1/patients"): lambda t: {
        "json": {
            "given_name": "Matrix",
            "family_name": "Case",
            "date_of_birth": "1979-09-09",
            "sex_at_birth": "female",
            "not_a_duplicate": True,  # (each role that may registers the same person)
        }
    },
    ("put", "/api/v1/patients/{patient_id}"): lambda t: {
        "json": {
            # (the name kept: the consents signed later must still name the patient)
            "given_name": t.signs_as.split(" ", 1)[0],
            "family_name": t.signs_as.split(" ", 1)[1],
            "date_of_birth": "1979-09-09",
            "sex_at_birth": "female",
            "phone": "+44 20 7946 0000",
            "email": f"corrected.{t.name}@test.follicle",  # (the invitations go there)
            "not_a_duplicate": True,
        },
        "headers": {"If-Match": '"v1"'},  # (the first role that may corrects; the rest: 409)
    },
    ("post", "/api/v1/patients/{patient_id}/intakes"): lambda t: {
        "json": {"intake": eligible_intake()}
    },
    ("post", "/api/v1/patients/{patient_id}/screenings"): lambda t: {},
    ("post", "/api/v1/consent-texts"): lambda t: {
        "json": {
            "kind": "photo_use",
            "title": "Clinical photographs (revised)",
            "body": "Synthetic consent text for the authorization matrix test.",
        }
    },
    ("post", "/api/v1/patients/{patient_id}/consents"): lambda t: {
        "json": {
            "kind": "treatment",
            "signed_name": t.signs_as,
            "consent_text_id": t.treatment_text_id,
        }
    },
    ("post", "/api/v1/patients/{patient_id}/consents/{consent_id}/withdraw"): lambda t: {
        "json": {"reason": "wants to think again"},
        "headers": {"If-Match": '"v1"'},
    },
    ("post", "/api/v1/patients/{patient_id}/plans"): lambda t: {},
    ("patch", "/api/v1/patients/{patient_id}/plans/{plan_id}"): lambda t: {
        "json": {"sessions": 10, "reason": "fewer sessions agreed"},
        "headers": {"If-Match": '"v2"'},
    },
    ("post", "/api/v1/patients/{patient_id}/plans/{plan_id}/stop"): lambda t: {
        "json": {"reason": "the patient moves abroad"},
        "headers": {"If-Match": '"v1"'},  # (an old version: past authorization, not stopped)
    },
    ("post", "/api/v1/patients/{patient_id}/plans/{plan_id}/approve"): lambda t: {
        "headers": {"If-Match": '"v1"'}
    },
    ("get", "/api/v1/appointments"): lambda t: {
        "params": {"from": date.today().isoformat(), "to": _SOON.isoformat()}
    },
    ("post", "/api/v1/patients/{patient_id}/appointments"): _book,
    ("post", "/api/v1/patients/{patient_id}/appointments/series"): lambda t: {
        "json": {
            "plan_id": t.ids.plan_id,
            "first_starts_at": next_weekday_at(t.zone, 4, 9, 0),
            "practitioner_id": t.users.practitioner_id,
        }
    },
    ("patch", "/api/v1/patients/{patient_id}/appointments/{appointment_id}"): lambda t: {
        "json": {"starts_at": next_weekday_at(t.zone, 4, 16, 0, days_ahead=400)},
        "headers": {"If-Match": '"v1"'},
    },
    ("post", "/api/v1/patients/{patient_id}/appointments/{appointment_id}/cancel"): lambda t: {
        "json": {"reason": "patient asked to cancel"},
        "headers": {"If-Match": '"v1"'},
    },
    ("post", "/api/v1/patients/{patient_id}/appointments/{appointment_id}/no-show"): lambda t: {
        "headers": {"If-Match": '"v1"'}
    },
    ("post", "/api/v1/patients/{patient_id}/appointment-requests"): lambda t: {
        "json": {"kind": "consultation", "preferred_times": "any afternoon"}
    },
    ("post", "/api/v1/patients/{patient_id}/appointment-requests/{request_id}/withdraw"): (
        lambda t: {"headers": {"If-Match": '"v1"'}}
    ),
    ("post", "/api/v1/patients/{patient_id}/appointment-requests/{request_id}/answer"): (
        lambda t: {"json": {"reason": "booked by phone"}, "headers": {"If-Match": '"v1"'}}
    ),
    ("post", "/api/v1/patients/{patient_id}/sessions"): lambda t: {
        "json": session_body(t.ids.plan_id, t.users.lot_id)
    },
    ("post", "/api/v1/patients/{patient_id}/sessions/{session_id}/void"): lambda t: {
        "json": {"reason": "recorded with the wrong lot"}
    },
    ("post", "/api/v1/patients/{patient_id}/images"): lambda t: {
        "data": {"kind": "photo", "view": "frontal"},
        "files": {"file": ("frontal.png", photo_png(), "image/png")},
    },
    ("post", "/api/v1/patients/{patient_id}/images/{image_id}/void"): lambda t: {
        "json": {"reason": "taken of the wrong site"}
    },
    ("post", "/api/v1/patients/{patient_id}/follow-up/compare"): lambda t: {
        "json": {"site": "vertex"}
    },
    ("post", "/api/v1/patients/{patient_id}/adverse-events"): lambda t: {
        "json": {
            "category": "pain",
            "grade": 1,
            "description": "tender for a day",
            "onset_on": clinic_today(t.zone).isoformat(),
        }
    },
    ("post", "/api/v1/patients/{patient_id}/adverse-events/{event_id}/grade"): lambda t: {
        "json": {"category": "erythema_prolonged", "grade": 2, "note": "seen: moderate"},
        "headers": {"If-Match": '"v1"'},
    },
    ("post", "/api/v1/patients/{patient_id}/patient-outcomes"): lambda t: {
        "json": {"change_score": 1, "comment": "a little fuller"}
    },
    ("post", "/api/v1/patients/{patient_id}/adverse-events/{event_id}/void"): lambda t: {
        "json": {"reason": "entered on the wrong chart"}
    },
    ("post", "/api/v1/patients/{patient_id}/adverse-events/{event_id}/clear"): lambda t: {
        "json": {"note": "reviewed, no action"},
        "headers": {"If-Match": '"v1"'},
    },
    ("put", "/api/v1/settings"): lambda t: {
        "json": {"schema": "follicle.clinic-settings/1"},
        "headers": {"If-Match": '"v1"'},
    },
    ("post", "/api/v1/users"): lambda t: {
        "json": {
            "email": f"{new_id('m')}@test.follicle",
            "display_name": "Matrix Nurse",
            "role": "practitioner",
            "credential": "registered_nurse",
            "password": "a long enough first password",
        }
    },
    ("post", "/api/v1/patient-updates"): lambda t: {
        "json": {
            "audience": "education",
            "subject": "A matrix guide",
            "body": "Synthetic text for the authorization matrix.",
        }
    },
    ("put", "/api/v1/operations"): lambda t: {
        "json": {"reminder_lead_hours": [48, 2]},
        "headers": {"If-Match": '"v1"'},
    },
    ("post", "/api/v1/patients/{patient_id}/invite"): lambda t: {},
    ("post", "/api/v1/users/{user_id}/deactivate"): lambda t: {},
    ("post", "/api/v1/users/{user_id}/reactivate"): lambda t: {},
    ("post", "/api/v1/devices"): lambda t: {
        "json": {
            "maker": "Matrix Medical (synthetic)",
            "model": new_id("pen"),
            "needle_configuration": "12 needles",
            "regulatory_status": "synthetic",
        }
    },
    ("post", "/api/v1/devices/{device_id}/lots"): lambda t: {
        "json": {
            "lot_number": new_id("L"),
            "received_on": clinic_today(t.zone).isoformat(),
            "expires_on": _SOON.isoformat(),
        }
    },
    ("put", "/api/v1/users/{user_id}/working-hours"): lambda t: {
        "json": {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
        "headers": {"If-Match": '"v1"'},
    },
}


CLINIC_RECORD_PATHS = {"user_id", "device_id", "lot_id"}  # the clinic's, not a patient's


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    permission: str
    has_body: bool

    @property
    def patient_scoped(self) -> bool:
        return any(f"{{{name}}}" in self.path for name in CLINIC_RECORD_PATHS | {"patient_id"})

    @property
    def names_clinic_record(self) -> bool:
        return any(f"{{{name}}}" in self.path for name in CLINIC_RECORD_PATHS)

    @property
    def names_sub_record(self) -> bool:
        return self.path.count("{") > 1


def _operations(spec: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            permission = operation.get("x-permission")
            assert permission, f"{method.upper()} {path} declares no x-permission"
            if permission == "public":
                continue
            assert permission in {p.value for p in Permission}, permission
            found.append(Operation(method, path, permission, "requestBody" in operation))
    return found


def _request(op: Operation, target: Target) -> Request:
    builder = REQUESTS.get((op.method, op.path))
    if builder is None:
        if op.has_body or op.method != "get":
            pytest.fail(f"no request for {op.method.upper()} {op.path}: add one to REQUESTS")
        return {}
    return builder(target)


def _url(op: Operation, target: Target) -> str:
    path = op.path.removeprefix("/api/v1")
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + _path_value(path[start + 1 : end], target, op.path) + path[end + 1 :]
    return path


def _expected(op: Operation, role: str, target: Target) -> set[int]:
    if target.name == "other_clinic":
        return {404}
    if target.name == "mismatched":
        return {404}
    if target.name == "other_patient" and role == "patient":
        return {404}
    if Permission(op.permission) not in ROLE_PERMISSIONS[role]:
        return {403}
    return ALLOWED


def test_every_endpoint_every_role_own_other_patient_other_clinic(
    api: ApiServer, world: World
) -> None:
    spec = httpx.get(api.url + "/api/v1/openapi.json", timeout=30).json()
    operations = _operations(spec)
    assert len(operations) >= 40  # the whole journey is there
    failures = []
    checked = 0
    for op in operations:
        targets = [world.own]
        if op.patient_scoped:
            targets += [world.other_patient, world.other_clinic]
        if op.names_sub_record and not op.names_clinic_record:
            targets.append(world.mismatched)
        for role in ROLES:
            with client_for(api.url, world.own.users.tokens[role]) as client:
                for target in targets:
                    if target.name == "other_patient" and op.names_clinic_record:
                        continue
                    response = client.request(op.method, _url(op, target), **_request(op, target))
                    checked += 1
                    expected = _expected(op, role, target)
                    if response.status_code not in expected:
                        failures.append(
                            f"{role:12} {target.name:13} {op.method.upper()} {op.path}: "
                            f"{response.status_code} (expected {sorted(expected)}) "
                            f"{response.text[:160]}"
                        )
                    if response.status_code == 404:
                        assert response.json() == {
                            "type": "about:blank",
                            "title": "Not Found",
                            "status": 404,
                        }
    assert not failures, f"{len(failures)} of {checked}:\n" + "\n".join(failures)


def test_every_endpoint_needs_authentication(api: ApiServer, world: World) -> None:
    spec = httpx.get(api.url + "/api/v1/openapi.json", timeout=30).json()
    with client_for(api.url, None) as anonymous:
        for op in _operations(spec):
            response = anonymous.request(op.method, _url(op, world.own), **_request(op, world.own))
            assert response.status_code == 401, f"{op.method.upper()} {op.path}"
