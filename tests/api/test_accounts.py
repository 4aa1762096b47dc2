"""Accounts over HTTP on both backends (issue: clinic operations, "Accounts"): a portal
invitation and a password reset by one-time email links, NIST password rules, two-factor
sign-in with an authenticator app and recovery codes, deactivation that ends access at once."""

from __future__ import annotations

import re
import time

import httpx
import pyotp
from sqlalchemy import select

from follicle.records.models import AuditEntry, UserAccount
from follicle.services import two_factor
from tests.api.conftest import ApiServer
from tests.support.api import PASSWORD, client_for, ok, token_for
from tests.support.factories import make_user
from tests.support.server import csrf_from, log_in, run_follicle
from tests.support.smtp import SmtpSink, smtp_sink, text_of, worker_env

LINK = re.compile(r"http://\S+/(activate|password-reset)/([A-Za-z0-9_\-]+)")
NEW_PASSWORD = "violet kettle under nine bridges"


def _mail_link(api: ApiServer, sink: SmtpSink, url: str, to: str) -> str:
    result = run_follicle(["worker", "--once"], env=worker_env(api.settings, url))
    assert result.returncode == 0, result.stderr
    mine = [m for m in sink.received if m["To"] == to]
    assert mine, f"no mail to {to}"
    found = LINK.search(text_of(mine[-1]))
    assert found, text_of(mine[-1])
    return f"/{found.group(1)}/{found.group(2)}"


def _choose_password(browser: httpx.Client, path: str, password: str) -> httpx.Response:
    page = browser.get(path)
    assert page.status_code == 200, page.text
    return browser.post(
        path,
        data={"csrf_token": csrf_from(page.text), "password": password, "repeat": password},
    )


def test_invitation_activates_the_portal_once_with_a_sound_password(api: ApiServer) -> None:
    users = api.demo
    email = f"invited-{api.backend}@test.follicle"
    with (
        smtp_sink() as (sink, url),
        client_for(api.url, users.tokens["front_desk"]) as desk,
        httpx.Client(base_url=api.url, timeout=30) as browser,
    ):
        silent = ok(
            desk.post(
                "/patients",
                json={
                    "given_name": "Nora",
                    "family_name": "Noaddress",
                    "date_of_birth": "1990-02-03",
                    "sex_at_birth": "female",
                },
            ),
            201,
        )
        no_email = desk.post(f"/patients/{silent['id']}/invite")
        assert no_email.status_code == 422
        assert no_email.json()["errors"][0]["pointer"] == "/email"
        patient = ok(
            desk.post(
                "/patients",
                json={
                    "given_name": "Ivy",
                    "family_name": "Invited",
                    "date_of_birth": "1985-02-03",
                    "sex_at_birth": "female",
                    "email": email,
                },
            ),
            201,
        )
        invited = ok(desk.post(f"/patients/{patient['id']}/invite"))
        assert invited == {"patient_id": patient["id"], "status": "invited", "email": email}
        listed = ok(desk.get("/patients", params={"name": "Invited"}))
        assert [p["portal"] for p in listed if p["id"] == patient["id"]] == ["invited"]
        path = _mail_link(api, sink, url, email)
        assert path.startswith("/activate/")

        for weak, reason in (
            ("short one", "at least 15 characters"),
            ("passwordpassword", "breached"),
            (f"{email} xyz", "email address"),
        ):
            refused = _choose_password(browser, path, weak)
            assert refused.status_code == 422
            assert reason in refused.text
        done = _choose_password(browser, path, NEW_PASSWORD)
        assert done.status_code == 200
        assert "Your password is set" in done.text
        assert browser.get(path).status_code == 404  # the link works once
        signed_in = log_in(browser, email, NEW_PASSWORD)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/portal"
        assert desk.post(f"/patients/{patient['id']}/invite").status_code == 409


def test_password_reset_answers_alike_and_ends_old_sessions(api: ApiServer) -> None:
    users = api.demo
    email = f"reset-{api.backend}@test.follicle"
    make_user(api.db, users.clinic_id, "front_desk", PASSWORD, email)
    old_token = token_for(api.url, email)
    with smtp_sink() as (sink, url), httpx.Client(base_url=api.url, timeout=30) as browser:
        known = httpx.post(api.url + "/api/v1/auth/password-reset", json={"email": email})
        unknown = httpx.post(
            api.url + "/api/v1/auth/password-reset", json={"email": "nobody@test.follicle"}
        )
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
        assert known.status_code == 202
        page = browser.get("/password-reset")
        form = browser.post(
            "/password-reset",
            data={"csrf_token": csrf_from(page.text), "email": "nobody@test.follicle"},
        )
        assert "If an account uses" in form.text
        path = _mail_link(api, sink, url, email)
        assert not [m for m in sink.received if m["To"] == "nobody@test.follicle"]
        assert _choose_password(browser, path, NEW_PASSWORD).status_code == 200
    with client_for(api.url, old_token) as old:
        assert old.get("/patients").status_code == 401  # the reset ended the old token
    assert token_for(api.url, email, NEW_PASSWORD)
    wrong = httpx.post(api.url + "/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert wrong.status_code == 401


def test_deactivation_ends_access_at_once_and_keeps_the_records(api: ApiServer) -> None:
    users = api.demo
    email = f"leaver-{api.backend}@test.follicle"
    leaver_id = make_user(api.db, users.clinic_id, "front_desk", PASSWORD, email)
    leaver_token = token_for(api.url, email)
    with (
        client_for(api.url, users.tokens["admin"]) as admin,
        client_for(api.url, leaver_token) as leaver,
        client_for(api.url, api.other.tokens["admin"]) as other_admin,
    ):
        assert leaver.get("/patients").status_code == 200
        assert other_admin.post(f"/users/{leaver_id}/deactivate").status_code == 404
        changed = ok(admin.post(f"/users/{leaver_id}/deactivate"))
        assert changed == {"id": leaver_id, "active": False, "sessions_ended": 1}
        assert leaver.get("/patients").status_code == 401
        refused = httpx.post(
            api.url + "/api/v1/auth/token", json={"email": email, "password": PASSWORD}
        )
        assert refused.status_code == 401
        staff = {u["id"]: u for u in ok(admin.get("/users"))}
        assert staff[leaver_id]["status"] == "deactivated"
        ok(admin.post(f"/users/{leaver_id}/reactivate"))
        assert token_for(api.url, email)
    with api.db.transaction() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.resource_id == leaver_id)
        ).all()
    assert "user.deactivate" in actions
    assert "token.issued" in actions  # their earlier entries stay


def _enrol(browser: httpx.Client, email: str) -> tuple[str, list[str], str]:
    """Set up two-factor sign-in; returns the secret, the recovery codes and the app code
    that completed the set-up."""
    started = log_in(browser, email, PASSWORD)
    assert started.status_code == 303
    assert started.headers["location"] == "/login/two-factor/setup"
    page = browser.get("/login/two-factor/setup")
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.text)
    assert secret, page.text
    wrong = browser.post(
        "/login/two-factor/setup", data={"csrf_token": csrf_from(page.text), "code": "000000"}
    )
    assert wrong.status_code == 400
    page = browser.get("/login/two-factor/setup")  # a new secret each time it is shown
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.text)
    assert secret
    used = pyotp.TOTP(secret.group(1)).now()
    done = browser.post(
        "/login/two-factor/setup", data={"csrf_token": csrf_from(page.text), "code": used}
    )
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.text)
    assert len(codes) == 10
    return secret.group(1), codes, used


def test_two_factor_required_by_the_clinic_with_app_codes_and_recovery_codes(
    api: ApiServer,
) -> None:
    users = api.demo
    email = f"twofactor-{api.backend}@test.follicle"
    make_user(
        api.db, users.clinic_id, "practitioner", PASSWORD, email, credential="registered_nurse"
    )
    with client_for(api.url, users.tokens["admin"]) as admin:
        current = admin.get("/operations")
        ok(
            admin.put(
                "/operations",
                json={**current.json()["operations"], "two_factor_for_staff": True},
                headers={"If-Match": current.headers["etag"]},
            )
        )
    try:
        not_set_up = httpx.post(
            api.url + "/api/v1/auth/token", json={"email": email, "password": PASSWORD}
        )
        assert not_set_up.status_code == 401
        assert "two-factor" in not_set_up.json()["detail"]
        with httpx.Client(base_url=api.url, timeout=30) as browser:
            assert browser.get("/").status_code == 303  # nothing opens before the code
            secret, codes, enrolment_code = _enrol(browser, email)
            assert browser.get("/").status_code == 200  # signed in
        with httpx.Client(base_url=api.url, timeout=30) as browser:
            step = log_in(browser, email, PASSWORD)
            assert step.headers["location"] == "/login/two-factor"
            assert browser.get("/").status_code == 303
            page = browser.get("/login/two-factor")
            replayed = browser.post(
                "/login/two-factor",
                data={"csrf_token": csrf_from(page.text), "code": enrolment_code},
            )
            # The enrolment's code cannot be used again (the same code, not a fresh now():
            # when the 30 s step turns between the two, now() is a new, valid code).
            assert replayed.status_code == 401
            recovered = browser.post(
                "/login/two-factor", data={"csrf_token": csrf_from(page.text), "code": codes[0]}
            )
            assert recovered.status_code == 303
            assert browser.get("/").status_code == 200
        with httpx.Client(base_url=api.url, timeout=30) as browser:
            log_in(browser, email, PASSWORD)
            page = browser.get("/login/two-factor")
            spent = browser.post(
                "/login/two-factor", data={"csrf_token": csrf_from(page.text), "code": codes[0]}
            )
            assert spent.status_code == 401  # each recovery code works once
        # An API client gives the code with the password; the next time step's code is new.
        later = pyotp.TOTP(secret).at(time.time() + 30)
        issued = httpx.post(
            api.url + "/api/v1/auth/token",
            json={"email": email, "password": PASSWORD, "totp_code": later},
        )
        assert issued.status_code == 200, issued.text
        with api.db.transaction() as session:
            user = session.scalars(select(UserAccount).where(UserAccount.email == email)).one()
            assert user.totp_secret is not None
            assert secret not in user.totp_secret  # stored sealed, not in the clear
            # The demo-mode server keeps its generated key beside its data.
            server_key = api.settings.model_copy(update={"secret_key": None}).resolved_secret_key()
            assert two_factor.unseal(server_key, user.totp_secret) == secret
            assert len(user.recovery_code_hashes or []) == 9
            assert codes[1] not in str(user.recovery_code_hashes)
    finally:
        with client_for(api.url, users.tokens["admin"]) as admin:
            current = admin.get("/operations")
            ok(
                admin.put(
                    "/operations",
                    json={**current.json()["operations"], "two_factor_for_staff": False},
                    headers={"If-Match": current.headers["etag"]},
                )
            )
