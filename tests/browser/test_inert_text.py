"""Text people type is shown as text: markup in a name, an intake, a consent or an adverse
event never runs in another user's browser (Jinja autoescaping, plus a CSP without inline
scripts as a second wall)."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import select

from follicle.records.models import Patient, UserAccount
from follicle.services import adverse_events, patients
from follicle.services.auth import actor_for
from follicle.services.commands import AdverseEventReport, NewPatient
from tests.browser.conftest import Site, sign_in

PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def test_markup_in_free_text_is_inert(page: Page, site: Site) -> None:
    with site.db.transaction() as session:
        user = session.scalars(
            select(UserAccount).where(UserAccount.email == site.emails["practitioner"])
        ).one()
        practitioner = actor_for(user)
    created = patients.create_patient(
        site.db,
        practitioner,
        NewPatient(
            given_name="Eve" + PAYLOAD[:60],
            family_name="Hostile",
            date_of_birth=date(1990, 1, 1),
            sex_at_birth="female",
        ),
    )
    adverse_events.report(
        site.db,
        practitioner,
        created["id"],
        AdverseEventReport(category="other", grade=1, description=PAYLOAD, onset_on=date.today()),
    )
    dialogs: list[Dialog] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog))
    sign_in(page, site, site.emails["practitioner"])
    for path in ("/patients?q=Hostile", f"/patients/{created['id']}", "/"):
        page.goto(site.url + path)
        assert page.evaluate("window.__pwned === undefined"), path
    expect(page.get_by_text("onerror", exact=False).first).to_be_visible()
    assert not dialogs
    with site.db.transaction() as session:
        stored = session.get(Patient, created["id"])
        assert stored is not None
        assert stored.given_name.startswith("Eve<script>")  # kept as typed, shown as text
