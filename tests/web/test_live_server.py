"""`make run` end to end: the real server process over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from follicle.records.models import Clinic, Patient, new_id
from follicle.services.database import Database
from follicle.services.demo import DEMO_PASSWORD
from follicle.settings import Settings
from tests.conftest import BACKENDS, fresh_database_url, settings_for
from tests.support.factories import make_user
from tests.support.server import (
    csrf_from,
    loaded_demo_env,
    log_in,
    run_follicle,
    running_server,
)


@dataclass(frozen=True)
class DemoServer:
    url: str
    settings: Settings
    env: dict[str, str]
    log_path: Path


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    """One demo server per backend for this module, set up exactly as `make run` does."""
    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    settings = settings_for(fresh_database_url(request.param, folder, request), folder)
    env = loaded_demo_env(settings.database_url or "", settings.data_dir)
    with running_server(env, folder / "server.log") as base_url:
        yield DemoServer(base_url, settings, env, folder / "server.log")


@pytest.fixture
def demo_server(demo: DemoServer) -> str:
    return demo.url


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=15)


def test_demo_server_serves_login_and_every_demo_login_works(demo_server: str) -> None:
    with _client(demo_server) as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        page = anonymous.get("/login")
        assert page.status_code == 200
        assert 'name="email"' in page.text
        assert 'name="password"' in page.text
        assert anonymous.get("/").headers["location"] == "/login?next=/"
    for email, home in [
        ("admin@demo.follicle", "/"),
        ("derm@demo.follicle", "/"),
        ("aesthetician@demo.follicle", "/"),
        ("desk@demo.follicle", "/"),
        ("patient1@demo.follicle", "/portal"),
        ("patient20@demo.follicle", "/portal"),
        ("derm@other.follicle", "/"),
        ("patient1@other.follicle", "/portal"),
    ]:
        with _client(demo_server) as client:
            response = log_in(client, email, DEMO_PASSWORD)
            assert response.status_code == 303, email
            assert response.headers["location"] == home
            cookie = response.headers["set-cookie"].lower()
            assert "httponly" in cookie
            assert "samesite=lax" in cookie


def test_staff_home_lists_this_clinics_patients_and_today(demo_server: str) -> None:
    with _client(demo_server) as client:
        log_in(client, "desk@demo.follicle", DEMO_PASSWORD)
        home = client.get("/")
        assert home.status_code == 200
        assert "Demo Hair Clinic" in home.text
        assert "09:00" in home.text  # today's first appointment
        assert home.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
        listed = client.get("/patients").text
        assert "Testwood, Arlo" in listed
        assert "Elsewhere" not in listed  # the other clinic's patient
        found = client.get("/patients", params={"q": "mockr"})
        assert "Mockridge, Dalia" in found.text
        assert "Testwood" not in found.text
    with _client(demo_server) as other:
        log_in(other, "admin@other.follicle", DEMO_PASSWORD)
        page = other.get("/patients").text
        assert "Elsewhere, Otto" in page
        assert "Testwood" not in page


def test_patient_gets_the_portal_not_the_staff_pages(demo_server: str) -> None:
    with _client(demo_server) as client:
        log_in(client, "patient2@demo.follicle", DEMO_PASSWORD)
        portal = client.get("/portal")
        assert portal.status_code == 200
        assert "Hello, Bea" in portal.text
        staff = client.get("/")
        assert staff.status_code == 303
        assert staff.headers["location"] == "/portal"


def test_the_problem_report_offers_the_clinics_today(demo_server: str) -> None:
    """The onset date a patient may give runs to today on their clinic's calendar (the
    second demo clinic is in New York, five hours behind the first)."""
    for email, zone in [
        ("patient1@demo.follicle", "Europe/London"),
        ("patient1@other.follicle", "America/New_York"),
    ]:
        with _client(demo_server) as client:
            log_in(client, email, DEMO_PASSWORD)
            before = datetime.now(ZoneInfo(zone)).date()
            form = client.get("/portal/report")
            after = datetime.now(ZoneInfo(zone)).date()
        assert form.status_code == 200
        offered = re.search(r'id="f-onset_on"[^>]*max="([0-9-]+)"', form.text)
        assert offered is not None
        assert offered.group(1) in {before.isoformat(), after.isoformat()}, email


def _alert(html: str) -> str:
    match = re.search(r'<p class="error" role="alert"[^>]*>([^<]*)</p>', html)
    assert match, "no error message on the page"
    return match.group(1)


def test_failed_logins_say_the_same_thing(demo: DemoServer) -> None:
    # A user of our own, so that failing logins cannot lock the shared demo accounts.
    database = Database.from_settings(demo.settings)
    try:
        with database.transaction() as session:
            clinic_id = session.scalars(select(Clinic.id).where(Clinic.slug == "demo")).one()
        email = f"{new_id('tester')}@test.follicle"
        make_user(database, clinic_id, email=email, password="the right password")
    finally:
        database.dispose()
    with _client(demo.url) as client:
        wrong = log_in(client, email, "not-the-password")
        unknown = log_in(client, "nobody@demo.follicle", "the right password")
        right = log_in(client, email, "the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert _alert(wrong.text) == _alert(unknown.text)
    assert "Email or password is not right" in _alert(wrong.text)
    assert right.status_code == 303


def test_login_without_csrf_token_is_refused(demo_server: str) -> None:
    with _client(demo_server) as client:
        client.get("/login")
        response = client.post(
            "/login", data={"email": "derm@demo.follicle", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 400
        assert "follicle_session" not in response.headers.get("set-cookie", "")


def test_logout_ends_the_session(demo_server: str) -> None:
    with _client(demo_server) as client:
        log_in(client, "derm@demo.follicle", DEMO_PASSWORD)
        home = client.get("/")
        assert home.status_code == 200
        stolen_cookie = client.cookies.get("follicle_session")
        client.post("/logout", data={"csrf_token": csrf_from(home.text)})
        assert client.get("/").headers["location"] == "/login?next=/"
    with _client(demo_server) as replay:  # the old cookie is dead on the server, not just deleted
        replay.cookies.set("follicle_session", stolen_cookie or "")
        assert replay.get("/").headers["location"] == "/login?next=/"


def test_second_demo_run_keeps_data(demo: DemoServer) -> None:
    result = run_follicle(["demo"], demo.env)
    assert result.returncode == 0
    assert "already loaded" in result.stdout
    with _client(demo.url) as client:
        log_in(client, "admin@demo.follicle", DEMO_PASSWORD)
        assert client.get("/patients").text.count("Testwood, Arlo") == 1


def test_logs_are_json_with_request_ids_and_no_patient_data(demo: DemoServer) -> None:
    database = Database.from_settings(demo.settings)
    try:
        with database.transaction() as session:
            patient = session.scalars(select(Patient).order_by(Patient.created_at)).first()
            assert patient is not None
            identifying = [patient.id, patient.family_name, patient.given_name, str(patient.email)]
    finally:
        database.dispose()
    with _client(demo.url) as client:
        assert log_in(client, "derm@demo.follicle", DEMO_PASSWORD).status_code == 303
        chart = client.get(f"/patients/{patient.id}")
        assert chart.status_code == 200
        search = client.get("/patients", params={"q": patient.family_name})
        assert search.status_code == 200
        mine = client.get("/patients/pat_doesnotexist", headers={"X-Request-ID": "probe-1234abcd"})
        assert mine.status_code == 404
        assert mine.headers["x-request-id"] == "probe-1234abcd"
        forged = client.get("/healthz", headers={"X-Request-ID": "<script>bad id</script>"})
        assert re.fullmatch(r"[0-9a-f]{16}", forged.headers["x-request-id"])
    text = demo.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "follicle.access"]
    by_id = {line["request_id"]: line for line in access}
    assert by_id[chart.headers["x-request-id"]]["route"] == "/patients/{patient_id}"
    assert by_id[search.headers["x-request-id"]]["route"] == "/patients"
    assert by_id["probe-1234abcd"]["status"] == 404
    assert all(
        {"ts", "level", "request_id", "method", "status", "duration_ms"} <= set(a) for a in access
    )
    logged = "\n".join(line for line in text.splitlines() if line.startswith("{"))
    for value in identifying:  # (the demo banner on stdout lists demo logins; logs do not)
        assert value not in logged, "a log line names the patient"


def test_working_hours_with_a_start_and_no_end_are_not_saved_as_a_day_off(
    demo_server: str,
) -> None:
    with _client(demo_server) as client:
        log_in(client, "admin@demo.follicle", DEMO_PASSWORD)
        page = client.get("/admin").text
        form = re.search(r'action="/admin/users/(usr_\w+)/hours".*?</form>', page, re.S)
        assert form is not None
        user_id = form.group(1)
        fields = {
            name: value
            for tag in re.findall(r"<input[^>]*>", form[0])
            for name, value in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', tag)
        }
        assert fields["mon_to"]  # (the form shows Monday's hours)
        assert fields["version"]
        saved = client.post(
            f"/admin/users/{user_id}/hours",
            data={**fields, "mon_to": "", "csrf_token": csrf_from(page)},
        )
        assert saved.status_code == 303
        assert "Mon needs both a start and an end time" in unquote(saved.cookies["follicle_flash"])
        # A day that ends before it starts is named as the form shows it, with its times.
        backwards = client.post(
            f"/admin/users/{user_id}/hours",
            data={**fields, "tue_from": "17:00", "tue_to": "09:00", "csrf_token": csrf_from(page)},
        )
        assert backwards.status_code == 303
        told = unquote(backwards.cookies["follicle_flash"])
        assert "Hours not saved: Tue ends at 09:00, not after its start." in told
        after = client.get("/admin").text
        shown = re.search(rf'id="{user_id}-mon-to"[^>]*value="([^"]*)"', after)
        assert shown is not None
        assert shown.group(1) == fields["mon_to"]  # (Monday is as it was)


def test_the_research_page_serves_every_file_it_lists_and_only_to_the_admin(
    demo_server: str,
) -> None:
    with _client(demo_server) as client:
        log_in(client, "admin@demo.follicle", DEMO_PASSWORD)
        page = client.get("/admin/research").text
        listed = re.findall(r'href="/admin/research/([\w-]+\.csv)"', page)
        assert listed == [
            "measurements.csv",
            "sessions.csv",
            "patient_outcomes.csv",
            "data-dictionary.csv",
        ]
        for name in listed:
            got = client.get(f"/admin/research/{name}")
            assert got.status_code == 200, name
            assert got.headers["content-type"].startswith("text/csv")
            assert len(got.text.splitlines()) > 1, name  # a header and rows
        outcomes = client.get("/admin/research/patient_outcomes.csv").text
        assert outcomes.startswith("outcome_id,patient,clinic,")
        assert ",1,Slightly increased,portal" in outcomes
        assert client.get("/admin/research/patients.csv").status_code == 404
    with _client(demo_server) as client:
        log_in(client, "derm@demo.follicle", DEMO_PASSWORD)
        # (a page of the admin role: forbidden, not hidden)
        assert client.get("/admin/research/patient_outcomes.csv").status_code == 403
