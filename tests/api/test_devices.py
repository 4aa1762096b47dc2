"""Devices and lots over HTTP on both backends (issue: clinic operations, "Devices and lots"):
a session must name a registered, unexpired lot; a recall finds every session and patient that
used a lot, as JSON or CSV, and is audited; adverse events are counted per lot."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import select

from follicle.records.models import AuditEntry
from tests.api.conftest import ApiServer
from tests.support.api import client_for, next_weekday_at, ok, session_body, walk_to_sessions
from tests.support.factories import make_lot


def test_registry_sessions_recall_and_safety_by_lot(api: ApiServer) -> None:
    users = api.demo
    today = date.today()
    with (
        client_for(api.url, users.tokens["admin"]) as admin,
        client_for(api.url, users.tokens["practitioner"]) as derm,
        client_for(api.url, users.tokens["front_desk"]) as desk,
        client_for(api.url, api.other.tokens["admin"]) as other_admin,
    ):
        device = ok(
            admin.post(
                "/devices",
                json={
                    "maker": "Recall Medical (synthetic)",
                    "model": f"RM-{api.backend}",
                    "needle_configuration": "36-needle cartridge",
                    "regulatory_status": "synthetic device for tests",
                },
            ),
            201,
        )
        lot_body = {
            "lot_number": "RM-LOT-1",
            "received_on": (today - timedelta(days=3)).isoformat(),
            "expires_on": (today + timedelta(days=90)).isoformat(),
        }
        lot = ok(admin.post(f"/devices/{device['id']}/lots", json=lot_body), 201)
        again = admin.post(f"/devices/{device['id']}/lots", json=lot_body)
        assert again.status_code == 422
        assert again.json()["errors"][0]["pointer"] == "/lot_number"
        stale = admin.post(
            f"/devices/{device['id']}/lots",
            json={**lot_body, "lot_number": "RM-OLD", "expires_on": today.isoformat()},
        )
        assert stale.status_code == 422
        assert stale.json()["errors"][0]["pointer"] == "/expires_on"
        formula = admin.post(
            f"/devices/{device['id']}/lots", json={**lot_body, "lot_number": "=HYPERLINK(1)"}
        )
        assert formula.status_code == 422
        assert derm.post("/devices", json={**lot_body}).status_code in (403, 422)
        listed = {d["id"]: d for d in ok(derm.get("/devices"))}
        assert listed[device["id"]]["lots"][0]["lot_number"] == "RM-LOT-1"
        assert other_admin.get(f"/lots/{lot['id']}/recall").status_code == 404
        assert desk.get(f"/lots/{lot['id']}/recall").status_code == 403

        ids = walk_to_sessions(derm, desk, users, users.other_patient_id, "Europe/London", 14)
        base = f"/patients/{users.other_patient_id}"
        expired_lot = make_lot(api.db, users.clinic_id, today - timedelta(days=1), "OLD-1")
        refused = derm.post(base + "/sessions", json=session_body(ids.plan_id, expired_lot))
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "/lot_id"
        foreign = derm.post(base + "/sessions", json=session_body(ids.plan_id, api.other.lot_id))
        assert foreign.status_code == 422
        booked = ok(
            desk.post(
                base + "/appointments",
                json={
                    "kind": "session",
                    "plan_id": ids.plan_id,
                    "starts_at": next_weekday_at("Europe/London", 2, 8, 0, days_ahead=60),
                    "practitioner_id": users.practitioner_id,
                },
            ),
            201,
        )
        recorded = ok(
            derm.post(base + "/sessions", json=session_body(ids.plan_id, lot["id"], booked["id"])),
            201,
        )
        assert recorded["lot_id"] == lot["id"]
        assert recorded["cartridge_lot"] == "RM-LOT-1"
        assert recorded["device_name"].startswith("Recall Medical (synthetic) RM-")
        ok(
            derm.post(
                base + "/adverse-events",
                json={
                    "category": "infection",
                    "grade": 3,
                    "description": "pustules two days after the session",
                    "onset_on": today.isoformat(),
                    "session_record_id": recorded["id"],
                },
            ),
            201,
        )

        found = ok(admin.get(f"/lots/{lot['id']}/recall"))
        assert found["patients"] == 1
        assert [s["session_id"] for s in found["sessions"]] == [recorded["id"]]
        assert found["sessions"][0]["family_name"] == "Someoneelse"
        exported = admin.get(f"/lots/{lot['id']}/recall", params={"format": "csv"})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        assert "recall-RM-LOT-1.csv" in exported.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [r["session_id"] for r in rows] == [recorded["id"]]

        safety = {r["lot_id"]: r for r in ok(derm.get("/lots/safety"))}
        assert safety[lot["id"]]["sessions"] == 1
        assert safety[lot["id"]]["adverse_events"] == 1
        assert safety[lot["id"]]["serious"] == 1
        assert safety[lot["id"]]["per_100_sessions"] == 100.0
        assert lot["id"] not in {r["lot_id"] for r in ok(other_admin.get("/lots/safety"))}

    with api.db.transaction() as session:
        recalls = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "lot.recall", AuditEntry.clinic_id == users.clinic_id
            )
        ).all()
    assert len(recalls) == 2
    assert all(entry.detail["ids"] == [recorded["id"]] for entry in recalls)
