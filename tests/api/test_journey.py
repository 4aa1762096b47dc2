"""The whole journey over real HTTP against the real server, on SQLite and PostgreSQL:
intake → screening → consent → plan → series → three sessions with images → adverse event →
hold → clearance → follow-up with measurements (issue: records API, "Done means")."""

from __future__ import annotations

from datetime import date
from typing import Any

import cv2
import httpx
from sqlalchemy import select

from follicle.records.audit import verify_chain
from follicle.records.models import AuditEntry, UserAccount, new_id
from follicle.services import scales
from follicle.services.auth import actor_for
from follicle.services.passwords import hash_password
from follicle.trichoscopy.synth import TrichogramSpec, render_visit_pair
from follicle.trichoscopy.synth_calibration import CalibrationSpec, render_calibration
from tests.api.conftest import ApiServer
from tests.support.api import (
    PASSWORD,
    client_for,
    eligible_intake,
    next_weekday_at,
    ok,
    photo_png,
    session_body,
)
from tests.support.server import csrf_from, log_in


def _png(rgb: object) -> bytes:
    ok_, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))  # type: ignore[call-overload]
    assert ok_
    return bytes(encoded.tobytes())


def _measured_scale(api: ApiServer, user_id: str) -> dict[str, Any]:
    """The clinic's dermoscope, measured at 5 um per pixel (scales are measured on the
    devices page, not over the API)."""
    with api.db.transaction() as session:
        user = session.get(UserAccount, user_id)
        assert user is not None
        practitioner = actor_for(user)
    ruling = render_calibration(CalibrationSpec(width_px=640, height_px=480, um_per_px=5.0))
    return scales.measure_scale(api.db, practitioner, "Dermoscope, 20x", 100.0, _png(ruling))


def test_whole_journey(api: ApiServer) -> None:
    users = api.demo
    derm = client_for(api.url, users.tokens["practitioner"])
    desk = client_for(api.url, users.tokens["front_desk"])
    with derm, desk:
        # Registration and intake; screening runs with the intake.
        patient = ok(
            desk.post(
                "/patients",
                json={
                    "given_name": "Journey",
                    "family_name": "Walker",
                    "date_of_birth": "1986-04-12",
                    "sex_at_birth": "male",
                    "email": "journey.walker@example.org",
                },
            ),
            201,
        )
        base = f"/patients/{patient['id']}"
        assert [p["id"] for p in ok(desk.get("/patients", params={"q": "walker"}))] == [
            patient["id"]
        ]
        by_birth = ok(desk.get("/patients", params={"date_of_birth": "1986-04-12"}))
        assert patient["id"] in [p["id"] for p in by_birth]
        intake = ok(derm.post(base + "/intakes", json={"intake": eligible_intake()}), 201)
        assert intake["screening"]["decision"] == "eligible"
        assert intake["screening"]["rules_version"]

        # An amendment keeps the first version readable and screens again.
        amended_doc = eligible_intake()
        amended_doc["history"]["allergies"] = ["latex"]
        amended = ok(
            derm.post(
                base + "/intakes",
                json={"intake": amended_doc, "amends": intake["id"], "reason": "latex allergy"},
            ),
            201,
        )
        history = ok(derm.get(base + "/intakes"))
        assert [i["superseded_by"] for i in history] == [amended["id"], None]
        assert len(ok(derm.get(base + "/screenings"))) == 2

        # No plan session before consent; consent, then plan proposed and approved.
        texts = {t["kind"]: t for t in ok(derm.get("/consent-texts"))}
        for kind in ("treatment", "photo_use"):
            ok(
                derm.post(
                    base + "/consents",
                    json={
                        "kind": kind,
                        "signed_name": "Journey Walker",
                        "consent_text_id": texts[kind]["id"],
                    },
                ),
                201,
            )
        assert ok(derm.get(base + "/consents"))["needed"] == []
        proposed = derm.post(base + "/plans")
        plan = ok(proposed, 201)
        assert plan["status"] == "proposed"
        assert plan["plan"]["evidence"]
        approved = derm.post(
            base + f"/plans/{plan['id']}/approve", headers={"If-Match": proposed.headers["etag"]}
        )
        plan = ok(approved)
        assert plan["status"] == "approved"
        assert plan["review_on"]

        # The series, in the clinic's time zone, every session at the same local time.
        series = ok(
            desk.post(
                base + "/appointments/series",
                json={
                    "plan_id": plan["id"],
                    "first_starts_at": next_weekday_at("Europe/London", 2, 10, 0),
                    "practitioner_id": users.practitioner_id,
                    "room_id": users.room_id,
                },
            ),
            201,
        )
        assert len(series) == plan["plan"]["sessions"]
        assert {a["starts_local"][11:16] for a in series} == {"10:00"}
        calendar = desk.get(base + "/appointments.ics")
        assert calendar.headers["content-type"].startswith("text/calendar")
        assert calendar.text.count("BEGIN:VEVENT") == len(series)
        assert "TZID=Europe/London" in calendar.text

        # Three sessions, each with a photo; trichoscopy at the first and at follow-up.
        pair = render_visit_pair(TrichogramSpec(seed=11, width_px=900, height_px=700))
        for number in range(3):
            recorded = ok(
                derm.post(
                    base + "/sessions",
                    json=session_body(plan["id"], users.lot_id, series[number]["id"]),
                ),
                201,
            )
            assert recorded["pre_session_check"]["decision"] in (
                "eligible",
                "eligible_with_cautions",
            )
            ok(
                derm.post(
                    base + "/images",
                    data={"kind": "photo", "view": "vertex", "session_record_id": recorded["id"]},
                    files={"file": ("vertex.png", photo_png(), "image/png")},
                ),
                201,
            )
            if number == 0:
                baseline = ok(
                    derm.post(
                        base + "/images",
                        data={"kind": "trichoscopy", "site": "vertex", "um_per_px": "5.0"},
                        files={"file": ("t0.png", _png(pair.baseline.rgb), "image/png")},
                    ),
                    201,
                )
                truth = len(pair.baseline.counted_hairs)
                assert abs(baseline["measurement"]["hair_count"] - truth) <= 0.35 * truth
        assert [a["status"] for a in ok(desk.get(base + "/appointments"))[:3]] == ["completed"] * 3
        assert len(ok(derm.get(base + "/sessions"))) == 3

        # A serious adverse event holds the plan; sessions are refused until it is cleared.
        event = ok(
            derm.post(
                base + "/adverse-events",
                json={
                    "category": "infection",
                    "grade": 2,
                    "description": "pustules on the vertex two days after session 3",
                    "onset_on": date.today().isoformat(),
                },
            ),
            201,
        )
        assert event["serious"] is True
        assert event["plans_held"] == [plan["id"]]
        assert ok(derm.get(base + f"/plans/{plan['id']}"))["status"] == "on_hold"
        refused = derm.post(base + "/sessions", json=session_body(plan["id"], users.lot_id))
        assert refused.status_code == 409
        assert "on hold" in refused.json()["detail"]
        # Seen in clinic, it is graded up; the report stays as made, the plan held.
        graded = ok(
            derm.post(
                base + f"/adverse-events/{event['id']}/grade",
                json={"category": "infection", "grade": 3, "note": "spreading; antibiotics"},
                headers={"If-Match": f'"v{event["version"]}"'},
            )
        )
        assert (graded["grade"], graded["reported_grade"], graded["plans_held"]) == (3, 2, [])
        assert ok(derm.get(base + f"/plans/{plan['id']}"))["hold_reason"].endswith("grade 3")
        cleared = ok(
            derm.post(
                base + f"/adverse-events/{event['id']}/clear",
                json={"note": "culture negative, healed; resume"},
                headers={"If-Match": f'"v{graded["version"]}"'},
            )
        )
        assert cleared["plans_resumed"] == [plan["id"]]
        assert ok(derm.get(base + f"/plans/{plan['id']}"))["status"] == "approved"

        # Follow-up: the same site measured again, change from baseline; read this time at
        # the dermoscope's measured scale, which the image keeps (another's is refused).
        scale = _measured_scale(api, users.practitioner_id)

        def follow_up_image(scale_id: str) -> httpx.Response:
            return derm.post(
                base + "/images",
                data={"kind": "trichoscopy", "site": "vertex", "scale_id": scale_id},
                files={"file": ("t1.png", _png(pair.followup.rgb), "image/png")},
            )

        unknown = follow_up_image("scl_elsewhere")
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["pointer"] == "/scale_id"
        followed = ok(follow_up_image(scale["id"]), 201)
        assert followed["dermoscope_scale_id"] == scale["id"]
        follow_up = ok(derm.get(base + "/follow-up"))
        vertex = follow_up["sites"]["vertex"]
        assert vertex["measurements"] == 2
        assert [(s["measured"], s["images"]) for s in vertex["scales"]] == [
            (False, 1),
            (True, 1),
        ]
        assert vertex["scale_notes"] == []  # 5.0 typed and 5.0 measured: the same scale
        assert vertex["hair_by_hair"] is None  # both taken today: one visit, no comparison
        assert vertex["change"]["hair_count"] == (
            vertex["latest"]["hair_count"] - vertex["baseline"]["hair_count"]
        )
        assert follow_up["review_on"] == plan["review_on"]
        assert len(ok(derm.get(base + "/measurements"))) == 2

        # An image taken again by mistake is set aside with a reason: it stops counting.
        again = ok(follow_up_image(scale["id"]), 201)
        assert ok(derm.get(base + "/follow-up"))["sites"]["vertex"]["measurements"] == 3
        unsaid = derm.post(base + f"/images/{again['id']}/void", json={"reason": "  "})
        assert unsaid.status_code == 422
        assert unsaid.json()["errors"][0]["pointer"] == "/reason"
        voided = ok(derm.post(base + f"/images/{again['id']}/void", json={"reason": "a repeat"}))
        assert voided["measurement_ids"] == [again["measurement"]["id"]]
        vertex = ok(derm.get(base + "/follow-up"))["sites"]["vertex"]
        assert [m["image_id"] for m in vertex["readings"]] == [baseline["id"], followed["id"]]
        assert derm.get(base + f"/images/{again['id']}/content").status_code == 404

    # Every write was audited in its own transaction, and the chain still verifies.
    with api.db.transaction() as session:
        actions = set(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.clinic_id == users.clinic_id)
            )
        )
        assert verify_chain(session).ok
    assert {
        "patient.create",
        "intake.create",
        "intake.amend",
        "screening.create",
        "consent.sign",
        "plan.propose",
        "plan.approve",
        "appointment.book_series",
        "session.record",
        "image.upload",
        "image.void",
        "measurement.create",
        "adverse_event.report",
        "adverse_event.grade",
        "adverse_event.clear",
    } <= actions


def test_reads_of_clinical_records_name_the_records_returned(api: ApiServer) -> None:
    users = api.demo
    with client_for(api.url, users.tokens["practitioner"]) as derm:
        base = f"/patients/{users.patient_id}"
        intake = ok(derm.post(base + "/intakes", json={"intake": eligible_intake()}), 201)
        listed = ok(derm.get(base + "/intakes"))
    with api.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "intake.list")
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert entry is not None
    assert intake["id"] in entry.detail["ids"]
    assert entry.detail["ids"] == [i["id"] for i in listed]
    assert entry.detail["patient_id"] == users.patient_id


def test_bad_input_names_the_field_and_writes_nothing(api: ApiServer) -> None:
    users = api.demo
    with client_for(api.url, users.tokens["practitioner"]) as derm:
        base = f"/patients/{users.other_patient_id}"
        before = ok(derm.get(base + "/intakes"))
        bad = eligible_intake()
        bad["patient"]["fitzpatrick"] = 9
        response = derm.post(base + "/intakes", json={"intake": bad})
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert {"pointer": "/intake/patient/fitzpatrick"}.items() <= response.json()["errors"][
            0
        ].items()
        assert ok(derm.get(base + "/intakes")) == before
        missing = derm.post("/patients", json={"given_name": "No", "sex_at_birth": "unknown"})
        pointers = {e["pointer"] for e in missing.json()["errors"]}
        assert {"/family_name", "/date_of_birth", "/sex_at_birth"} <= pointers
        future = derm.post(
            "/patients",
            json={
                "given_name": "Future",
                "family_name": "Born",
                "date_of_birth": "2999-01-01",
                "sex_at_birth": "female",
            },
        )
        assert future.status_code == 422
        assert future.json()["errors"][0]["pointer"] == "/date_of_birth"
        assert ok(derm.get("/patients", params={"q": "Born"})) == []
        # A phone that is no number (SMS reminders to it would fail) is refused by field,
        # with our words, not pydantic's kind of error.
        no_number = derm.post(
            "/patients",
            json={
                "given_name": "Phoneless",
                "family_name": "Born",
                "date_of_birth": "1990-01-01",
                "sex_at_birth": "female",
                "phone": "ask at the desk",
            },
        )
        assert no_number.status_code == 422
        assert [e["pointer"] for e in no_number.json()["errors"]] == ["/phone"]
        assert no_number.json()["errors"][0]["message"].startswith("a phone number is 7 to 15")


def test_two_clinicians_editing_one_plan_the_second_gets_409_with_the_change(
    api: ApiServer,
) -> None:
    users = api.demo
    patient = users.other_patient_id
    with client_for(api.url, users.tokens["practitioner"]) as derm:
        base = f"/patients/{patient}"
        if not ok(derm.get(base + "/intakes")):
            ok(derm.post(base + "/intakes", json={"intake": eligible_intake()}), 201)
        proposed = derm.post(base + "/plans")
        plan = ok(proposed, 201)
        etag = proposed.headers["etag"]
        first = derm.patch(
            base + f"/plans/{plan['id']}",
            json={"interval_days": 21, "reason": "patient travels every third week"},
            headers={"If-Match": etag},
        )
        ok(first)
        second = derm.patch(
            base + f"/plans/{plan['id']}",
            json={"sessions": 8, "reason": "shorter course"},
            headers={"If-Match": etag},
        )
        assert second.status_code == 409
        assert second.json()["current"]["plan"]["interval_days"] == 21
        assert second.headers["etag"] == first.headers["etag"]
        unversioned = derm.patch(
            base + f"/plans/{plan['id']}", json={"sessions": 8, "reason": "shorter course"}
        )
        assert unversioned.status_code == 428
        out_of_bounds = derm.patch(
            base + f"/plans/{plan['id']}",
            json={"sessions": 99, "reason": "far too many"},
            headers={"If-Match": first.headers["etag"]},
        )
        assert out_of_bounds.status_code == 422
        assert out_of_bounds.json()["errors"][0]["pointer"] == "/sessions"


def test_tokens_and_cookies(api: ApiServer) -> None:
    with httpx.Client(base_url=api.url + "/api/v1", timeout=30) as anonymous:
        assert anonymous.get("/patients").status_code == 401
        assert (
            anonymous.get("/patients", headers={"Authorization": "Bearer not-a-token"}).status_code
            == 401
        )
        wrong = anonymous.post(
            "/auth/token", json={"email": "nobody@test.follicle", "password": "wrong"}
        )
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"


def test_a_refused_request_is_audited(api: ApiServer) -> None:
    with client_for(api.url, api.other.tokens["practitioner"]) as outsider:
        probe = outsider.get(f"/patients/{api.demo.patient_id}/plans")
    assert probe.status_code == 404
    with api.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "access.denied")
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert entry is not None
    assert entry.detail["path"] == f"/api/v1/patients/{api.demo.patient_id}/plans"
    assert entry.detail["status"] == 404
    assert entry.clinic_id == api.other.clinic_id


def test_the_pages_session_cookie_works_for_the_api_with_the_csrf_header(api: ApiServer) -> None:
    with httpx.Client(base_url=api.url, timeout=30) as browser:
        email = f"{api.demo.patient_id}-cookie@test.follicle"
        with api.db.transaction() as session:
            session.add(
                UserAccount(
                    id=new_id("usr"),
                    clinic_id=api.demo.clinic_id,
                    email=email,
                    display_name="Cookie Desk",
                    role="front_desk",
                    password_hash=hash_password(PASSWORD),
                )
            )
        assert log_in(browser, email, PASSWORD).status_code == 303
        assert browser.get("/api/v1/patients").status_code == 200
        body = {
            "given_name": "Cookie",
            "family_name": "Client",
            "date_of_birth": "1970-02-02",
            "sex_at_birth": "female",
        }
        refused = browser.post("/api/v1/patients", json=body)
        assert refused.status_code == 403
        assert "X-CSRF-Token" in refused.json()["detail"]
        token = csrf_from(browser.get("/login", follow_redirects=True).text)
        created = browser.post("/api/v1/patients", json=body, headers={"X-CSRF-Token": token})
        assert created.status_code == 201


def test_an_admin_filters_the_audit_log_and_others_may_not(api: ApiServer) -> None:
    users = api.demo
    with client_for(api.url, users.tokens["practitioner"]) as derm:
        ok(derm.get(f"/patients/{users.patient_id}"))
        assert derm.get("/audit").status_code == 403
    with client_for(api.url, users.tokens["admin"]) as admin:
        page = ok(admin.get("/audit", params={"action": "patient.read", "limit": 2}))
        assert page["entries"]
        assert {e["action"] for e in page["entries"]} == {"patient.read"}
        assert len(page["entries"]) <= 2
        if page["next_before_seq"]:
            older = ok(
                admin.get(
                    "/audit",
                    params={"action": "patient.read", "before_seq": page["next_before_seq"]},
                )
            )
            assert all(e["seq"] < page["next_before_seq"] for e in older["entries"])
        reads = ok(admin.get("/audit", params={"resource_id": users.patient_id}))["entries"]
        assert "patient.read" in {e["action"] for e in reads}
    with client_for(api.url, api.other.tokens["admin"]) as other_admin:
        theirs = ok(other_admin.get("/audit", params={"resource_id": users.patient_id}))
        assert theirs["entries"] == []


def test_front_desk_corrects_a_patients_details_with_the_version_it_read(api: ApiServer) -> None:
    users = api.demo
    with client_for(api.url, users.tokens["front_desk"]) as desk:
        registered = desk.post(
            "/patients",
            json={
                "given_name": "Jaime",
                "family_name": "Misspelt",
                "date_of_birth": "1988-08-08",
                "sex_at_birth": "male",
                "phone": "+34 91 000 0001",
            },
        )
        patient = ok(registered, 201)
        base = f"/patients/{patient['id']}"
        details = {
            "given_name": "Jaime",
            "family_name": "Misspelled",
            "date_of_birth": "1988-08-08",
            "sex_at_birth": "male",
        }
        assert desk.put(base, json=details).status_code == 428  # (which version?)
        corrected = desk.put(base, json=details, headers={"If-Match": registered.headers["etag"]})
        assert ok(corrected)["family_name"] == "Misspelled"
        assert corrected.json()["phone"] is None  # (left out: cleared)
        assert corrected.headers["etag"] == '"v2"'
        again = desk.put(
            base,
            json={**details, "phone": "+34 91 000 0002"},
            headers={"If-Match": registered.headers["etag"]},
        )
        assert again.status_code == 409
        assert again.json()["current"]["family_name"] == "Misspelled"
        bad = desk.put(
            base,
            json={**details, "date_of_birth": "2999-01-01"},
            headers={"If-Match": corrected.headers["etag"]},
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["pointer"] == "/date_of_birth"
        assert ok(desk.get(base))["version"] == 2
        found = ok(desk.get("/patients", params={"q": "misspelled"}))
        assert [p["id"] for p in found] == [patient["id"]]
    with client_for(api.url, users.tokens["admin"]) as admin:
        entries = ok(admin.get("/audit", params={"action": "patient.update"}))["entries"]
        mine = [e for e in entries if e["resource_id"] == patient["id"]]
        assert [e["detail"]["changed"]["family_name"] for e in mine] == [
            {"from": "Misspelt", "to": "Misspelled"}
        ]
