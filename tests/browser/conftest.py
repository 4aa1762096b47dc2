"""A real browser (Debian's Chromium through Playwright) against the real server.

Every page a test visits can be checked with axe-core (fetched and integrity-checked by
`scripts/setup.sh test`): zero serious or critical violations.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from follicle.services.database import Database
from tests.conftest import fresh_database_url, settings_for
from tests.support.api import PASSWORD
from tests.support.factories import make_user
from tests.support.server import loaded_demo_env, running_server

ROOT = Path(__file__).resolve().parents[2]
AXE = sorted((ROOT / ".cache").glob("axe-core-*/axe.min.js"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"


@dataclass(frozen=True)
class Site:
    url: str
    db: Database
    clinic_id: str
    emails: dict[str, str]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    for old in ARTIFACTS.glob(f"{worker}-*.png"):  # this run's screenshots only
        old.unlink()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `scripts/setup.sh test`"
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="module")
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("browser")
    settings = settings_for(fresh_database_url("sqlite", folder, request), folder)
    env = loaded_demo_env(settings.database_url or "", settings.data_dir)
    db = Database.from_settings(settings)
    try:
        from sqlalchemy import select

        from follicle.records.models import Clinic

        with db.transaction() as session:
            clinic_id = session.scalars(select(Clinic.id).where(Clinic.slug == "demo")).one()
        emails = {}
        for role, credential in (
            ("practitioner", "dermatologist"),
            ("front_desk", None),
            ("admin", None),
        ):
            email = f"browser-{role}@test.follicle"
            make_user(db, clinic_id, role, PASSWORD, email, credential=credential)
            emails[role] = email
        with running_server(env, folder / "server.log") as base_url:
            yield Site(base_url, db, clinic_id, emails)
    finally:
        db.dispose()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()


def sign_out(page: Page) -> None:
    """Forget the session, once the page has stopped loading: a lazy image still loading when
    the cookies go is redirected to the login page, and each of those redirects mints a new
    CSRF cookie that races the login form's own (a 400 on signing in)."""
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()


def sign_in(page: Page, site: Site, email: str, password: str = PASSWORD) -> None:
    page.goto(site.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:500]


def accessibility_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    assert AXE, "axe-core is missing: run `scripts/setup.sh test`"
    # Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') holds.
    page.evaluate(AXE[-1].read_text(encoding="utf-8") + ";undefined")
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')[:160]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
        for node in v["nodes"]
    ]


def assert_accessible(page: Page) -> None:
    """Zero serious or critical axe-core violations; also keeps a screenshot of the page in
    tests/artifacts/ (ignored by git) for a person to look at."""
    snapshot(page)
    problems = accessibility_problems(page)
    assert not problems, f"{page.url}:\n" + "\n".join(problems)


_SHOTS = itertools.count(1)


def snapshot(page: Page) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = re.sub(r"[^a-z0-9]+", "-", page.url.split("://", 1)[-1].split("/", 1)[-1].lower())
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    target = ARTIFACTS / f"{worker}-{next(_SHOTS):03d}-{path.strip('-') or 'home'}.png"
    page.screenshot(path=str(target), full_page=True)
    return target
