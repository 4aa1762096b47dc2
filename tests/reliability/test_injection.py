"""Injection and traversal against the real server (issue: reliability): SQL metacharacters in
every text field and in searches, path traversal in ids and file names, header injection.
Markup in free text is shown inert in the browser by tests/browser/test_inert_text.py."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from follicle.records.models import Patient
from tests.reliability.conftest import Site
from tests.reliability.test_uploads import _consenting_patient
from tests.support.api import eligible_intake, photo_png

HOSTILE_NAMES = [
    "O'Brien",
    "Robert'); DROP TABLE patient;--",
    '" OR "1"="1',
    "x' UNION SELECT password_hash FROM user_account --",
    "100%_match\\",
    "Zoë 🧪 <b>bold</b>",
]

TRAVERSALS = [
    "../../../../etc/passwd",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fsettings.py",
    "pat_x%00.png",
    "pat_x;select 1",
]


def _new_patient(client: httpx.Client, family_name: str) -> httpx.Response:
    return client.post(
        "/patients",
        json={
            "given_name": "Ann",
            "family_name": family_name,
            "date_of_birth": "1990-02-03",
            "sex_at_birth": "female",
        },
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_metacharacters_are_data_and_paths_lead_nowhere(site: Site) -> None:
    headers = {"Authorization": f"Bearer {site.token}"}
    with httpx.Client(base_url=site.server.url + "/api/v1", headers=headers, timeout=30) as api:
        created = {}
        for name in HOSTILE_NAMES:
            answer = _new_patient(api, name)
            assert answer.status_code == 201, answer.text
            created[name] = answer.json()["id"]
        for name, patient_id in created.items():
            assert api.get(f"/patients/{patient_id}").json()["family_name"] == name
            found = api.get("/patients", params={"q": name}).json()
            assert patient_id in [p["id"] for p in found], name
        # Searches are for the text as typed: no wildcard, no clause, no error.
        assert api.get("/patients", params={"q": "' OR 1=1 --"}).json() == []
        percent = [p["family_name"] for p in api.get("/patients", params={"q": "%"}).json()]
        assert percent == ["100%_match\\"]
        assert api.get("/patients", params={"q": "_"}).json()[0]["family_name"] == "100%_match\\"

        # Ids and file names that try to leave their place: 404 or 422, never a file.
        for probe in TRAVERSALS:
            for path in (f"/patients/{probe}", f"/patients/{probe}/images/{probe}/content"):
                answer = api.get(path)
                assert answer.status_code in (404, 422), (path, answer.status_code)
                assert b"root:" not in answer.content
        static = httpx.get(site.server.url + "/static/..%2F..%2Fsettings.py", timeout=10)
        assert static.status_code == 404

        patient_id = _consenting_patient(site)
        stored = api.post(
            f"/patients/{patient_id}/images",
            data={"kind": "photo", "view": "vertex"},
            files={"file": ("../../../../tmp/evil.png", photo_png(), "image/png")},
        )
        assert stored.status_code == 201, stored.text
        image_root = site.settings.image_dir.resolve()
        for path in site.settings.data_dir.rglob("*"):
            if path.suffix in (".png", ".jpg"):
                assert path.resolve().is_relative_to(image_root)
        assert "evil" not in " ".join(p.name for p in site.settings.data_dir.rglob("*"))

        # A NUL character (PostgreSQL cannot store one) is refused, naming where it is.
        nul = _new_patient(api, "Nul\x00Byte")
        assert nul.status_code == 422
        assert "/family_name" in nul.json()["errors"][0]["message"]
        intake = eligible_intake()
        intake["history"]["medications"] = [{"name": "x\x00y", "class": "nsaid_regular"}]
        nul_intake = api.post(f"/patients/{patient_id}/intakes", json={"intake": intake})
        assert nul_intake.status_code == 422
        assert "/intake/history/medications/0/name" in nul_intake.text

        # Anywhere else a NUL reaches the database, the answer is 422, never a 500.
        login = httpx.post(
            site.server.url + "/api/v1/auth/token",
            json={"email": "nobody\x00@example.org", "password": "x" * 16},
            timeout=30,
        )
        assert login.status_code in (401, 422), login.text

        # Header injection: a line break in an email or a header value goes nowhere.
        injected = api.post(
            "/patients",
            json={
                "given_name": "Eve",
                "family_name": "Header",
                "date_of_birth": "1990-02-03",
                "sex_at_birth": "female",
                "email": "eve@example.org\r\nBcc: everyone@example.org",
            },
        )
        assert injected.status_code == 422
        assert injected.json()["errors"][0]["pointer"] == "/email"
    with site.db.transaction() as session:  # nothing dropped, nothing extra
        count = session.scalar(select(func.count()).select_from(Patient))
    assert count == len(HOSTILE_NAMES) + 1
