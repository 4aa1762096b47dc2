"""A clinic's day in a real browser: register, intake, screening, consent with a drawn
signature, plan, series, session (with a blocking pre-session check), trichoscopy, an adverse
event that holds the plan, clearance. Every page is checked with axe-core on the way."""

from __future__ import annotations

import re
from datetime import date, timedelta

import cv2
from playwright.sync_api import Page, expect
from sqlalchemy import select

from follicle.records.models import Consent, UserAccount
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
from tests.browser.conftest import Site, assert_accessible, sign_in, sign_out


def _next_weekday(weekday: int, days_ahead: int = 7) -> str:
    day = date.today() + timedelta(days=days_ahead)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day.isoformat()


def _trichogram_png(tmp_path_factory: object, folder: str) -> str:
    image = render_trichogram(TrichogramSpec(seed=21, width_px=800, height_px=600))
    path = f"{folder}/site.png"
    cv2.imwrite(path, cv2.cvtColor(image.rgb, cv2.COLOR_RGB2BGR))
    return path


def _phone_jpeg(folder: str) -> str:
    """A trichogram as a phone on a dermoscope saves it: JPEG, colour at half resolution."""
    image = render_trichogram(TrichogramSpec(seed=22, width_px=800, height_px=600))
    path = f"{folder}/phone.jpg"
    sampling = [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]
    cv2.imwrite(path, cv2.cvtColor(image.rgb, cv2.COLOR_RGB2BGR), sampling)
    return path


def test_registering_a_patient_twice_is_caught(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["front_desk"])
    for given, family in (("Dolores", "Ibáñez"), ("DOLORES", "ibanez")):
        page.goto(site.url + "/patients/new")
        page.get_by_label("Given name").fill(given)
        page.get_by_label("Family name").fill(family)
        page.get_by_label("Date of birth").fill("1971-02-03")
        page.get_by_label("female", exact=True).check()
        page.get_by_role("button", name="Register patient").click()
    # The second time: what was typed is kept, with the chart registered already to open.
    expect(page.locator("#error-summary")).to_contain_text("Dolores Ibáñez, born 1971-02-03")
    expect(page.get_by_label("Family name")).to_have_value("ibanez")
    assert_accessible(page)
    first_chart = page.get_by_role("link", name="Open the chart registered already")
    href = first_chart.get_attribute("href")
    assert href
    assert re.fullmatch(r"/patients/pat_[0-9a-f]+", href)
    page.get_by_label("This is another person with the same name and date of birth").check()
    page.get_by_role("button", name="Register patient").click()
    expect(page.locator(".flash")).to_contain_text("Patient registered")
    assert not page.url.endswith(href)  # a second chart
    page.goto(site.url + href)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ibáñez")


def test_front_desk_corrects_a_misspelt_name_and_a_second_tab_overwrites_nothing(
    page: Page, site: Site
) -> None:
    sign_in(page, site, site.emails["front_desk"])
    page.goto(site.url + "/patients/new")
    page.get_by_label("Given name").fill("Eduarda")
    page.get_by_label("Family name").fill("Misspelt")
    page.get_by_label("Date of birth").fill("1966-06-16")
    page.get_by_label("Phone").fill("+351 21 000 0003")
    page.get_by_label("female", exact=True).check()
    page.get_by_role("button", name="Register patient").click()
    chart = page.url
    page.get_by_role("link", name="Correct details").click()
    expect(page.get_by_label("Family name")).to_have_value("Misspelt")  # (as registered)
    expect(page.get_by_label("female", exact=True)).to_be_checked()
    assert_accessible(page)
    other_tab = page.context.new_page()  # (a colleague's form, opened before this one saves)
    other_tab.goto(chart + "/details")
    page.get_by_label("Family name").fill("Misspelled")
    page.get_by_label("Date of birth").fill("2999-01-01")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#error-summary")).to_contain_text("is in the future")
    expect(page.get_by_label("Family name")).to_have_value("Misspelled")  # (kept as typed)
    page.get_by_label("Date of birth").fill("1966-06-16")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator(".flash")).to_contain_text("Details saved")
    expect(page.get_by_role("heading", level=1)).to_have_text("Eduarda Misspelled")
    # The other form saves on the old version: refused, and it shows the details as saved.
    other_tab.get_by_label("Phone").fill("+351 21 000 0004")
    other_tab.get_by_role("button", name="Save details").click()
    expect(other_tab.locator("#error-summary")).to_contain_text("saved these details meanwhile")
    expect(other_tab.get_by_label("Family name")).to_have_value("Misspelled")
    expect(other_tab.get_by_label("Phone")).to_have_value("+351 21 000 0003")
    other_tab.get_by_label("Phone").fill("+351 21 000 0004")
    other_tab.get_by_role("button", name="Save details").click()
    expect(other_tab.locator(".hint").first).to_contain_text("+351 21 000 0004")
    expect(other_tab.get_by_role("heading", level=1)).to_have_text("Eduarda Misspelled")


def test_a_practitioner_voids_a_session_recorded_wrongly(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["practitioner"])
    page.goto(site.url + "/patients?q=fictive")
    page.get_by_role("link", name="Fictive, Lena").click()
    rows = page.locator("#sessions tbody tr")
    expect(rows).to_have_count(2)
    latest = rows.last
    latest.get_by_text("Void", exact=True).click()
    latest.get_by_label(re.compile("Why void the session")).fill("recorded with the wrong lot")
    assert_accessible(page)
    latest.get_by_role("button", name="Void record").click()
    expect(page.locator(".flash")).to_contain_text("Session record voided")
    expect(page.locator(".flash")).to_contain_text("Record the session again as it was")
    expect(rows).to_have_count(1)


def test_a_practitioner_grades_what_a_patient_reported_and_the_report_is_kept(
    page: Page, site: Site
) -> None:
    sign_in(page, site, site.emails["practitioner"])
    page.goto(site.url + "/patients?q=fictive")
    page.get_by_role("link", name="Fictive, Lena").click()
    event = page.locator("#events article").filter(has_text="hair shedding")
    expect(event).to_contain_text("Reported by Lena Fictive")
    expect(event).to_contain_text("as hair shedding, grade 4; graded by")
    event.get_by_text("Grade this event").click()
    event.get_by_label("CTCAE grade").select_option("2")
    event.get_by_label("Why this grading").fill("Seen: patchy shedding over the crown")
    assert_accessible(page)
    event.get_by_role("button", name="Save grading").click()
    expect(page.locator(".flash")).to_contain_text("Event graded.")
    expect(event).to_contain_text("hair shedding, grade 2")
    expect(event).to_contain_text("as hair shedding, grade 4; graded by")
    expect(event).to_contain_text("patchy shedding over the crown")
    # Saved again unchanged, it is refused by name and nothing changes.
    event.get_by_text("Grade this event").click()
    event.get_by_label("Why this grading").fill("no change")
    event.get_by_role("button", name="Save grading").click()
    expect(page.locator(".flash")).to_contain_text("Not graded")
    expect(page.locator(".flash")).to_contain_text("already hair shedding, grade 2")


def test_an_event_on_the_wrong_chart_is_voided_and_stays_in_view(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["practitioner"])
    page.goto(site.url + "/patients?q=fauxley")
    page.get_by_role("link", name="Fauxley, Emeka").click()
    expect(page.locator(".alert-box")).to_contain_text("Plan on hold")
    event = page.locator("#events article").filter(has_text="infection")
    event.get_by_text("Void", exact=True).click()
    event.get_by_label(re.compile("Why void this event")).fill("meant for another patient")
    assert_accessible(page)
    event.get_by_role("button", name="Void record").click()
    expect(page.locator(".flash")).to_contain_text("Adverse event voided")
    expect(page.locator(".flash")).to_contain_text("the plan is active again")
    expect(page.locator(".alert-box")).to_have_count(0)
    expect(page.locator("#events")).to_contain_text("None reported.")
    voided = page.locator("#voided li")
    expect(voided).to_have_count(1)
    expect(voided.locator("del")).to_contain_text("Adverse event: infection, grade 2")
    expect(voided).to_contain_text("meant for another patient")
    assert_accessible(page)


def test_a_parent_signs_for_a_minor_in_their_own_name(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["practitioner"])
    page.goto(site.url + "/patients?q=youngman")
    page.get_by_role("link", name="Youngman, Theo").click()
    expect(page.locator("#consents")).to_contain_text("by Clara Youngman (parent, for the patient)")
    page.goto(page.url.split("#")[0] + "/consent/treatment")
    expect(page.get_by_text("Theo Youngman is under 18")).to_be_visible()
    expect(page.get_by_label("Who is signing")).to_have_value("parent")
    assert_accessible(page)
    page.get_by_label("Who is signing").select_option("")  # (the patient himself)
    page.get_by_label("Type your full name to sign").fill("Theo Youngman")
    page.get_by_role("button", name="I have read this and I agree").click()
    expect(page.locator("#err-representative")).to_contain_text(
        "is needed: the patient is under 18"
    )
    expect(page.get_by_label("Who is signing")).to_have_value("")  # (as it was sent)
    assert_accessible(page)
    page.get_by_label("Who is signing").select_option("legal_guardian")
    page.get_by_label("Type your full name to sign").fill("Robin Youngman")
    page.get_by_role("button", name="I have read this and I agree").click()
    expect(page.locator(".flash")).to_contain_text("Consent signed")
    expect(page.locator("#consents")).to_contain_text("by Robin Youngman (legal guardian")


def test_a_patient_from_registration_to_clearance(page: Page, site: Site, tmp_path: object) -> None:
    # Front desk registers the patient; a bad form keeps what was typed and names the fields.
    sign_in(page, site, site.emails["front_desk"])
    page.goto(site.url + "/patients")
    assert_accessible(page)
    page.get_by_role("link", name="New patient").click()
    page.get_by_label("Given name").fill("Browser")
    page.get_by_role("button", name="Register patient").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.get_by_label("Given name")).to_have_value("Browser")
    expect(page.get_by_label("Family name")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    page.get_by_label("Family name").fill("Journeyman")
    page.get_by_label("Date of birth").fill("1984-07-19")
    page.get_by_label("male", exact=True).check()
    page.get_by_role("button", name="Register patient").click()
    expect(page.locator(".flash")).to_contain_text("Patient registered")
    chart_url = page.url
    assert re.search(r"/patients/pat_[0-9a-f]+$", chart_url)
    assert_accessible(page)

    # The practitioner records the intake; the screening appears with its citations.
    sign_out(page)
    sign_in(page, site, site.emails["practitioner"])
    page.goto(chart_url)
    page.get_by_role("link", name="Record intake").click()
    expect(page.get_by_label("Age (years)")).to_have_value("42")
    assert_accessible(page)
    page.get_by_label("Fitzpatrick skin type").fill("3")
    page.get_by_label("Working diagnosis").select_option("androgenetic_alopecia")
    page.get_by_label("Onset").select_option("gradual")
    page.get_by_label("Norwood-Hamilton stage").select_option("III")
    page.get_by_role("button", name="Save and screen").click()
    expect(page.locator("#error-summary")).to_contain_text("duration_months")
    expect(page.get_by_label("Norwood-Hamilton stage")).to_have_value("III")  # nothing lost
    page.get_by_label("Duration (months)").fill("30")
    page.get_by_role("button", name="Save and screen").click()
    expect(page.locator(".flash")).to_contain_text("Screening:")
    expect(page.locator("#screening")).to_contain_text("eligible")
    assert_accessible(page)

    # Consent: typed name and a drawn signature.
    for kind in ("treatment", "photo_use"):
        page.locator("#consents").get_by_role("link", name="Read and sign").first.click()
        assert_accessible(page)
        page.get_by_label("Type your full name to sign").fill("Browser Journeyman")
        pad = page.locator("#signature-pad").bounding_box()
        assert pad is not None
        page.mouse.move(pad["x"] + 20, pad["y"] + 60)
        page.mouse.down()
        page.mouse.move(pad["x"] + 120, pad["y"] + 40, steps=8)
        page.mouse.move(pad["x"] + 220, pad["y"] + 90, steps=8)
        page.mouse.up()
        page.get_by_role("button", name="I have read this and I agree").click()
        expect(page.locator(".flash")).to_contain_text("Consent signed")
        del kind
    expect(page.locator("#consents")).not_to_contain_text("not signed")
    patient_id = chart_url.rsplit("/", 1)[-1]
    with site.db.transaction() as session:
        drawn = list(
            session.scalars(select(Consent.signature_png).where(Consent.patient_id == patient_id))
        )
    assert len(drawn) == 2
    assert all(png and png.startswith(b"\x89PNG") for png in drawn)

    # Plan: propose, read its evidence, approve.
    page.get_by_role("button", name="Propose plan").click()
    expect(page.locator(".flash")).to_contain_text("Plan proposed")
    expect(page.get_by_text("Evidence:").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Approve this plan").click()
    expect(page.locator(".flash")).to_contain_text("Plan approved")

    # The series, at the same local time, with this practitioner.
    with site.db.transaction() as session:
        me = session.scalars(
            select(UserAccount.id).where(UserAccount.email == site.emails["practitioner"])
        ).one()
    page.goto(chart_url + "/book")
    assert_accessible(page)
    page.get_by_label("Date").fill(_next_weekday(1))
    page.get_by_label("Time").fill("10:30")
    page.get_by_label("Practitioner").select_option(me)
    page.get_by_role("button", name="Check the dates").click()
    expect(page.locator("#preview")).to_contain_text("All 12 dates are free")
    assert_accessible(page)
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Booked 12 sessions")

    # A session: the pre-session check blocks it while the scalp is sunburnt.
    page.get_by_role("link", name="Record session").click()
    assert_accessible(page)
    page.get_by_label("sunburn").check()
    page.get_by_label("I asked the patient these questions today").check()
    lot = page.get_by_label("Device and cartridge lot")
    lot.select_option(label=lot.locator("option", has_text="DEMO-LOT-2702").inner_text())
    page.get_by_label("vertex").fill("0.5")
    page.get_by_role("button", name="Record session").click()
    expect(page.locator("#error-summary")).to_contain_text("pre-session check says defer")
    expect(lot.locator("option:checked")).to_contain_text("DEMO-LOT-2702")
    page.get_by_label("sunburn").uncheck()
    page.get_by_role("button", name="Record session").click()
    expect(page.locator(".flash")).to_contain_text("Session recorded")
    expect(page.locator("#sessions")).to_contain_text("DEMO-LOT-2702")

    # Trichoscopy: uploaded, analysed, the overlay shown for checking by eye.
    page.get_by_role("link", name="Images & follow-up").click()
    # The clinic's measured dermoscope scale is the one offered, not a typed guess; a typed
    # scale as well is refused (which one?), and the image keeps the scale it was read at.
    expect(page.locator("#t-scale-id option:checked")).to_contain_text(
        "Demo dermoscope (synthetic), 20x"
    )
    image_path = _trichogram_png(None, str(tmp_path))
    page.get_by_label("Or type a scale (µm per pixel)").fill("5.2")
    page.get_by_label("Image (JPEG, PNG or TIFF)").set_input_files(image_path)
    page.get_by_role("button", name="Upload and analyse").click()
    expect(page.locator(".flash")).to_contain_text("choose a measured scale or type one")
    page.get_by_label("Image (JPEG, PNG or TIFF)").set_input_files(image_path)
    page.get_by_role("button", name="Upload and analyse").click()
    expect(page.locator(".flash")).to_contain_text("Analysed:")
    expect(page.get_by_text(re.compile("^Read at"))).to_contain_text(
        "Demo dermoscope (synthetic), 20x"
    )
    overlay = page.locator("figure img").first
    expect(overlay).to_be_visible()
    overlay.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=overlay.element_handle()
    )
    assert_accessible(page)
    # A JPEG as a phone saves it is analysed, and what its saving may cost is said at upload
    # and beside the change it affects.
    page.get_by_label("Image (JPEG, PNG or TIFF)").set_input_files(_phone_jpeg(str(tmp_path)))
    page.get_by_role("button", name="Upload and analyse").click()
    expect(page.locator(".flash")).to_contain_text("colour stored at reduced resolution (4:2:0)")
    expect(page.locator(".alert-box", has_text="4:2:0")).to_contain_text("The image of")
    assert_accessible(page)
    # The clinician decides: the phone's image is set aside with a reason, and stops counting.
    page.get_by_text("Each image at this site (2)").click()
    phone_row = page.locator("details.readings tr", has_text="4:2:0")
    phone_row.locator("summary", has_text="Set aside").click()
    assert_accessible(page)
    phone_row.get_by_role("button", name="Set aside").click()  # no reason: the browser asks
    expect(page.locator(".flash")).not_to_contain_text("set aside")
    phone_row.get_by_role("textbox").fill("Taken with the phone; retaken with the dermoscope")
    phone_row.get_by_role("button", name="Set aside").click()
    expect(page.locator(".flash")).to_contain_text("Image set aside")
    expect(page.locator(".alert-box", has_text="4:2:0")).to_have_count(0)
    expect(page.get_by_text("Each image at this site (1)")).to_be_visible()
    expect(page.locator("section", has=page.locator("#set-aside-h"))).to_contain_text(
        "Taken with the phone; retaken with the dermoscope"
    )
    assert_accessible(page)

    # A serious adverse event holds the plan; clearing it resumes the plan.
    page.goto(chart_url)
    page.get_by_role("link", name="Report adverse event").click()
    assert_accessible(page)
    page.get_by_label("What").select_option("infection")
    page.get_by_label("2 moderate").check()
    page.get_by_label("Onset").fill(date.today().isoformat())
    page.get_by_label("Description").fill("Pustules two days after the session")
    page.get_by_role("button", name="Record event").click()
    expect(page.locator(".flash")).to_contain_text("on hold")
    expect(page.locator(".alert-box")).to_contain_text("Plan on hold")
    expect(page.get_by_role("link", name="Record session")).to_have_count(0)
    page.get_by_label("Clearance note").fill("Swab negative, healed after a week")
    page.get_by_role("button", name="Clear event").click()
    expect(page.locator(".flash")).to_contain_text("The plan is active again")
    assert_accessible(page)


def test_staff_pages_are_accessible_and_keyboard_first(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["admin"])
    for path in (
        "/",
        "/patients",
        "/calendar",
        "/evidence",
        "/admin",
        "/admin/settings",
        "/admin/consent-texts",
        "/admin/audit",
    ):
        response = page.goto(site.url + path)
        assert response is not None
        assert response.status == 200, path
        assert_accessible(page)
    page.goto(site.url + "/admin/settings")
    depth = page.locator("#f-plan_bounds-needle_depth_mm")
    depth.get_by_label("highest").fill("3.5")  # looser than the evidence allows
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#error-summary")).to_contain_text("/plan_bounds/needle_depth_mm")
    expect(page.locator("#error-summary")).to_contain_text("cited range")
    expect(depth.get_by_label("highest")).to_have_attribute("aria-invalid", "true")
    expect(depth.get_by_label("highest")).to_have_value("3.5")  # what was typed is kept
    assert_accessible(page)
    depth.get_by_label("lowest").fill("0.5")
    depth.get_by_label("highest").fill("2")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash")).to_contain_text("Settings saved")
    expect(page.locator("#f-plan_bounds-needle_depth_mm").get_by_label("highest")).to_have_value(
        "2"
    )
    page.goto(site.url + "/admin")
    page.get_by_label("Name").fill("Nina Nurse")
    page.get_by_label("Email").fill("nina.nurse@test.follicle")
    page.get_by_label("Credential (practitioners)").select_option("registered_nurse")
    page.get_by_label("First password").fill("short")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#error-summary")).to_contain_text("password")
    expect(page.get_by_label("Email")).to_have_value("nina.nurse@test.follicle")
    page.get_by_label("First password").fill("a sufficiently long first password")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Nina Nurse can now sign in")
    expect(page.get_by_role("heading", name="Working hours: Nina Nurse")).to_be_visible()
    page.goto(site.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_front_desk_sees_no_clinical_notes(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["front_desk"])
    page.goto(site.url + "/patients?q=Demoford")
    page.get_by_role("link", name="Demoford, Cyrus").click()
    expect(page.locator("h1")).to_contain_text("Cyrus Demoford")
    expect(page.locator("#screening")).to_have_count(0)
    expect(page.locator("#sessions")).to_have_count(0)
    expect(page.get_by_role("link", name="Book")).to_be_visible()
    response = page.goto(page.url + "/intake")
    assert response is not None
    assert response.status == 403


def test_a_course_under_way_is_measured_hair_by_hair(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["practitioner"])
    page.goto(site.url + "/patients?q=Demoford")
    page.get_by_role("link", name="Demoford, Cyrus").click()
    page.get_by_role("link", name="Images & follow-up").click()
    hair_by_hair = page.locator("p", has_text="Hair by hair")
    expect(hair_by_hair).to_contain_text("over 9 image pairs")
    expect(hair_by_hair).to_contain_text("hairs at baseline in the field both images see")
    # the overexposed image the dermatologist set aside, with why
    expect(page.locator("section", has=page.locator("#set-aside-h"))).to_contain_text(
        "light was on high"
    )
    page.get_by_text("Each image at this site (6)").click()
    expect(page.locator("details.readings tr", has_text="4:2:0")).to_have_count(1)
    assert_accessible(page)
    # compared again on request, from the stored images: the same pairs
    page.get_by_role("button", name="Compare again").click()
    expect(page.locator(".flash")).to_contain_text(
        "Compared again: 3 latest image(s) with the first visit's 3."
    )
    expect(page.locator("p", has_text="Hair by hair")).to_contain_text("over 9 image pairs")
