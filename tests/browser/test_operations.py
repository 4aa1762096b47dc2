"""Clinic operations in a real browser, checked with axe-core: devices, lots and a recall;
reminder and sign-in settings; the outbox; inviting a patient who then chooses a password;
two-factor set-up with an authenticator app; deactivating a colleague."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pyotp
from playwright.sync_api import Page, expect
from sqlalchemy import select

from follicle.records.models import AuditEntry, Clinic, OutboxMessage, Patient
from follicle.services import outcomes
from follicle.services.actors import Actor
from follicle.services.demo import DEMO_PHONE
from tests.browser.conftest import Site, assert_accessible, sign_in, sign_out
from tests.support.api import PASSWORD


def test_the_outcomes_page_shows_the_clinics_figures_by_indication(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["practitioner"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", name="Outcomes", exact=True)).to_be_visible()
    assert_accessible(page)
    practitioner = Actor("usr_x", site.clinic_id, "practitioner", "dermatologist")
    (row,) = outcomes.clinic_outcomes(site.db, practitioner)
    # the demo: patient 3 responded and says so; patient 5's infection was serious
    assert (row["responders"], row["said_increased"], row["serious_adverse_events"]) == (1, 1, 1)
    shown = [
        [cell.strip() for cell in table.locator("tbody tr").first.all_inner_texts()[0].split("\t")]
        for table in page.locator("main table").all()
    ]
    rate = f"{100 * row['adverse_events'] / row['sessions']:.1f}"
    assert shown == [
        ["androgenetic alopecia"]
        + [
            str(row[k])
            for k in ("patients_measured", "responders", "non_responders", "undetermined")
        ],
        ["androgenetic alopecia"]
        + [
            str(row[k])
            for k in ("patients_answered", "said_increased", "said_unchanged", "said_decreased")
        ],
        ["androgenetic alopecia"]
        + [str(row[k]) for k in ("sessions", "adverse_events", "serious_adverse_events")]
        + [rate],
    ]
    expect(page.locator("main")).to_contain_text("Since you started treatment")
    # The front desk keeps no clinical figures: no link, and the page is refused.
    sign_out(page)
    sign_in(page, site, site.emails["front_desk"])
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Outcomes")
    ).to_have_count(0)
    response = page.goto(site.url + "/outcomes")
    assert response is not None
    assert response.status == 403


def test_devices_lots_and_a_recall(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["admin"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices").click()
    expect(
        page.get_by_role("heading", name="Demo Medical (synthetic) DP-12 microneedling pen")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Lot number").fill("BR-OLD-1")
    page.get_by_label("Expires on").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Receive lot").click()
    expect(page.locator("#error-summary")).to_contain_text("expired")
    assert_accessible(page)
    page.get_by_label("Expires on").fill((date.today() + timedelta(days=200)).isoformat())
    page.get_by_role("button", name="Receive lot").click()
    expect(page.locator(".flash")).to_contain_text("Lot BR-OLD-1 received")

    page.get_by_role("link", name="Who used lot DEMO-LOT-2611").click()
    expect(page.get_by_role("heading", name="Recall: lot DEMO-LOT-2611")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(3)  # patient 3's three sessions
    expect(page.locator("tbody")).to_contain_text("Demoford, Cyrus")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    rows = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("session_id,performed_at,patient_id")
    assert len(rows) == 4


def test_a_practitioner_measures_a_dermoscope_scale(page: Page, site: Site, tmp_path: Path) -> None:
    from follicle.trichoscopy.synth_calibration import CalibrationSpec, render_calibration

    photo = tmp_path / "micrometer.png"
    rgb = render_calibration(CalibrationSpec(width_px=800, height_px=600, um_per_px=3.2))
    cv2.imwrite(str(photo), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    not_a_ruling = tmp_path / "blank.png"
    cv2.imwrite(str(not_a_ruling), np.full((300, 400, 3), 200, np.uint8))

    sign_in(page, site, site.emails["practitioner"])
    page.goto(site.url + "/devices")
    scales = page.locator("section", has=page.get_by_role("heading", name="Dermoscope scales"))
    expect(scales.locator("tbody")).to_contain_text("Demo dermoscope (synthetic), 20x")
    page.get_by_label("Dermoscope setting").fill("Handheld dermoscope, 40x")
    page.get_by_label("Photograph of the ruling").set_input_files(str(not_a_ruling))
    page.get_by_role("button", name="Measure scale").click()
    expect(page.locator("#error-summary")).to_contain_text("blank")
    expect(page.get_by_label("Dermoscope setting")).to_have_value("Handheld dermoscope, 40x")
    assert_accessible(page)
    page.get_by_label("Photograph of the ruling").set_input_files(str(photo))
    page.get_by_role("button", name="Measure scale").click()
    expect(page.locator(".flash")).to_contain_text("Handheld dermoscope, 40x: 3.2 µm per pixel")
    expect(scales.locator("tbody tr").first).to_contain_text("Handheld dermoscope, 40x")
    assert_accessible(page)


def test_reminder_settings_and_the_outbox(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["admin"])
    page.goto(site.url + "/admin/operations")
    assert_accessible(page)
    page.get_by_label("Reminder 1 (hours)").fill("soon")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-summary")).to_contain_text("whole numbers of hours")
    assert_accessible(page)
    page.get_by_label("Reminder 1 (hours)").fill("24")
    page.get_by_label("Reminder 2 (hours)").fill("")
    notice = page.get_by_label("Patients may cancel a visit from the portal up to")
    expect(notice).to_have_value("24")  # (the default)
    notice.fill("a day")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-summary")).to_contain_text("a whole number of hours")
    expect(notice).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Reminder 1 (hours)")).to_have_value("24")  # (as typed)
    notice.fill("48")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved")
    expect(page.get_by_label("Reminder 1 (hours)")).to_have_value("24")
    expect(page.get_by_label("Reminder 2 (hours)")).to_have_value("")
    expect(notice).to_have_value("48")
    # The number patients are told to call: the demo's, then one no one could call.
    phone = page.get_by_label("The clinic's phone number for patients")
    expect(phone).to_have_value(DEMO_PHONE)
    phone.fill("ask at the desk")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-summary")).to_contain_text("a phone number is 7 to 15 digits")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_value("ask at the desk")  # (as typed)
    assert_accessible(page)
    phone.fill("+44 20 7946 0999")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved")
    expect(phone).to_have_value("+44 20 7946 0999")

    page.goto(site.url + "/messages")
    expect(page.get_by_role("heading", name="Messages to patients")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^sent \(\d+\)"))).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("Booked: your 12 sessions")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^pending")).click()
    expect(page.locator("tbody tr").first).to_contain_text("pending")


def test_message_and_audit_times_are_on_the_clinics_clock(page: Page, site: Site) -> None:
    # (they read UTC: a New York clinic's 09:00 reminder showed as 14:00). Kolkata is 5:30
    # from UTC all year; the test clinic's London is UTC all winter.
    with site.db.transaction() as session:
        clinic = session.get(Clinic, site.clinic_id)
        assert clinic is not None
        was, clinic.time_zone = clinic.time_zone, "Asia/Kolkata"
    try:
        _times_on_the_clinics_clock(page, site, ZoneInfo("Asia/Kolkata"))
    finally:
        with site.db.transaction() as session:
            clinic = session.get(Clinic, site.clinic_id)
            assert clinic is not None
            clinic.time_zone = was


def _times_on_the_clinics_clock(page: Page, site: Site, zone: ZoneInfo) -> None:
    sign_in(page, site, site.emails["admin"])
    page.goto(site.url + "/messages")
    expect(page.get_by_role("columnheader", name=f"Due ({zone.key})")).to_be_visible()
    with site.db.transaction() as session:
        due = session.scalars(
            select(OutboxMessage.due_at)
            .where(OutboxMessage.clinic_id == site.clinic_id)
            .order_by(OutboxMessage.due_at.desc(), OutboxMessage.id)
        ).first()
    assert due is not None
    shown = page.locator("tbody tr").first.locator("td").first
    expect(shown).to_have_text(f"{due.astimezone(zone):%Y-%m-%d %H:%M}")

    page.goto(site.url + "/admin/audit")
    expect(page.get_by_role("columnheader", name=f"When ({zone.key})")).to_be_visible()
    cells = page.locator("tbody tr").first.locator("td")
    seq = int(cells.nth(0).inner_text())
    with site.db.transaction() as session:
        at = session.scalars(select(AuditEntry.at).where(AuditEntry.seq == seq)).one()
    expect(cells.nth(1)).to_have_text(f"{at.astimezone(zone):%Y-%m-%d %H:%M:%S}")


def test_an_invited_patient_chooses_a_password_and_signs_in(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["front_desk"])
    page.goto(site.url + "/patients?name=Notyet")
    page.get_by_role("link", name="Notyet, Omar").click()
    expect(page.locator("#portal-status")).to_contain_text("not invited")
    page.get_by_role("button", name="Invite to the portal").click()
    expect(page.locator(".flash")).to_contain_text("Invitation sent to omar.notyet@demo.follicle")
    expect(page.locator("#portal-status")).to_contain_text("invited")
    with site.db.transaction() as session:
        patient_id = session.scalars(
            select(Patient.id).where(Patient.family_name == "Notyet")
        ).one()
        body = session.scalars(
            select(OutboxMessage.body_text).where(
                OutboxMessage.patient_id == patient_id, OutboxMessage.kind == "invite"
            )
        ).one()
    link = re.search(r"(/activate/[A-Za-z0-9_\-]+)", body)
    assert link
    sign_out(page)
    page.goto(site.url + link.group(1))
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Password", exact=True).fill("password1234567")
    page.get_by_label("The same password again").fill("password1234567")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("alert")).to_contain_text("breached")
    assert_accessible(page)
    chosen = "copper lantern over quiet hills"
    page.get_by_label("Password", exact=True).fill(chosen)
    page.get_by_label("The same password again").fill(chosen)
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    sign_in(page, site, "omar.notyet@demo.follicle", chosen)
    expect(page.get_by_role("heading", name="Hello, Omar")).to_be_visible()


def test_two_factor_set_up_and_deactivating_a_colleague(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["admin"])
    page.goto(site.url + "/admin/operations")
    page.get_by_label("Every staff member signs in with two-factor").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved")

    browser = page.context.browser
    assert browser is not None
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    nurse = other.new_page()
    try:
        nurse.goto(site.url + "/login")
        nurse.get_by_label("Email").fill(site.emails["practitioner"])
        nurse.get_by_label("Password").fill(PASSWORD)
        nurse.get_by_role("button", name="Sign in").click()
        expect(nurse.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
        expect(nurse.locator("figure.qr svg")).to_be_visible()
        assert_accessible(nurse)
        secret = nurse.locator("#totp-secret").inner_text()
        nurse.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        nurse.get_by_role("button", name="Turn on and sign in").click()
        expect(nurse.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
        expect(nurse.locator("#recovery-codes li")).to_have_count(10)
        assert_accessible(nurse)
        nurse.get_by_role("link", name="Continue").click()
        expect(nurse.get_by_role("navigation", name="Main")).to_be_visible()
    finally:
        other.close()

    page.goto(site.url + "/admin/operations")
    page.get_by_label("Every staff member signs in with two-factor").uncheck()
    page.get_by_role("button", name="Save").click()
    page.goto(site.url + "/admin")
    row = page.locator("tr", has_text=site.emails["front_desk"])
    row.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash")).to_contain_text("Deactivated")
    expect(page.locator("tr", has_text=site.emails["front_desk"])).to_contain_text("deactivated")
    practitioner = page.locator("tr", has_text=site.emails["practitioner"])
    expect(practitioner).to_contain_text("on")
    assert_accessible(page)
    page.locator("tr", has_text=site.emails["front_desk"]).get_by_role(
        "button", name="Reactivate"
    ).click()
    expect(page.locator(".flash")).to_contain_text("Reactivated")


def test_the_admin_sends_education_to_the_patients_who_chose_it(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["admin"])
    page.goto(site.url + "/admin")
    page.get_by_role("navigation", name="Admin").get_by_role(
        "link", name="Updates to patients"
    ).click()
    expect(page.get_by_role("heading", name="Updates to patients")).to_be_visible()
    # The demo: patients 3 and 8 chose education, and the admin sent them a guide.
    education = page.get_by_role("radio", name=re.compile(r"^Patients who want education"))
    expect(education).to_be_visible()
    expect(page.locator("#f-audience")).to_contain_text(
        "guides about hair loss and scalp care (2 now)"
    )
    expect(page.locator("table")).to_contain_text("Caring for your scalp between sessions")
    assert_accessible(page)
    education.check()
    page.get_by_label("Subject").fill("Hi")
    page.get_by_label("Message").fill("Short guide about minoxidil after a session (synthetic).")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#error-summary")).to_contain_text("at least 3 characters")
    expect(page.get_by_label("Message")).to_have_value(
        "Short guide about minoxidil after a session (synthetic)."
    )  # (kept as typed)
    assert_accessible(page)
    page.get_by_label("Subject").fill("Minoxidil and microneedling")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".flash")).to_contain_text("Sent to 2 patients")
    expect(page.locator("table tbody tr").first).to_contain_text("Minoxidil and microneedling")
    expect(page.locator("table tbody tr").first).to_contain_text("2 pending")
