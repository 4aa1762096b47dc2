"""The patient portal in a real browser, on a laptop and on a phone: plan, appointments with
calendar files, aftercare on a timeline, progress released by the clinic, reporting a problem,
opting in and out, consents. Plain pages, checked with axe-core."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from follicle.records.models import AdverseEvent, AuditEntry, Image, Patient, UserAccount
from follicle.services.demo import DEMO_PHONE
from follicle.services.passwords import hash_password
from tests.browser.conftest import Site, assert_accessible, sign_in, sign_out
from tests.support.api import PASSWORD


def _portal_login(site: Site, demo_email: str) -> str:
    """The demo patient's portal account, with this test database's own password (so a test
    never depends on, or locks, the published demo password)."""
    with site.db.transaction() as session:
        account = session.scalars(select(UserAccount).where(UserAccount.email == demo_email)).one()
        account.password_hash = hash_password(PASSWORD)
    return demo_email


def test_a_patient_follows_their_plan_and_reports_a_problem(page: Page, site: Site) -> None:
    email = _portal_login(site, "patient3@demo.follicle")  # three sessions into a course
    sign_in(page, site, email)
    expect(page.get_by_role("heading", name="Hello, Cyrus")).to_be_visible()
    expect(page.get_by_role("heading", name="My plan")).to_be_visible()
    # The clinic's number, one tap to call, wherever the portal says to call the clinic.
    urgent = page.locator("aside.urgent")
    expect(urgent).to_contain_text(f"call your clinic on {DEMO_PHONE} straight away")
    expect(urgent.get_by_role("link", name=DEMO_PHONE)).to_have_attribute(
        "href", "tel:" + DEMO_PHONE.replace(" ", "")
    )
    # Among the upcoming visits (before 09:00 clinic time the demo's consultation of today
    # comes first): the next session of the course.
    expect(page.locator(".appointments li").filter(has_text="Session").first).to_be_visible()
    assert_accessible(page)
    link = page.get_by_role("link", name="Add to calendar").first.get_attribute("href")
    assert link is not None
    calendar = page.request.get(site.url + link)
    assert calendar.status == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in calendar.text()
    expect(page.get_by_role("heading", name="Before your next session")).to_be_visible()

    page.get_by_role("link", name="Aftercare for my last session").click()
    expect(page.locator(".aftercare .step").first).to_be_visible()
    assert page.locator(".aftercare .step").count() >= 4
    assert_accessible(page)

    # Nothing is shown until a clinician releases it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Progress").click()
    expect(page.get_by_text("Your clinician will share")).to_be_visible()
    with site.db.transaction() as session:
        for image in session.scalars(
            select(Image).where(Image.patient_id == _patient_id(site, "patient3@demo.follicle"))
        ):
            image.released_to_patient = True
    page.reload()
    expect(page.locator("figure img").first).to_be_visible()
    for image in page.locator("figure img").all():  # lazy images load when in view
        image.scroll_into_view_if_needed()
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    expect(page.locator("svg.chart polyline")).to_be_visible()  # density over time
    expect(page.locator("svg.chart desc")).to_contain_text("per cm²")
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Report a problem").click()
    assert_accessible(page)
    page.get_by_label("Redness that is not going away").check()
    page.get_by_label("Mild: I notice it").check()
    page.get_by_label("Tell us more").fill("Still a bit red on the crown")
    page.get_by_role("button", name="Send to my clinic").click()
    expect(
        page.get_by_role("heading", name="Thank you, your clinic has your report")
    ).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The clinic will review your report")
    expect(page.get_by_role("status")).to_contain_text(f"call the clinic on {DEMO_PHONE}.")
    with site.db.transaction() as session:
        reported = session.scalars(
            select(AdverseEvent).where(AdverseEvent.description == "Still a bit red on the crown")
        ).one()
        assert reported.grade == 1
        assert not reported.serious

    page.goto(site.url + "/portal")
    page.get_by_label("Education: short guides").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.locator(".flash")).to_contain_text("Your choices are saved")
    expect(page.get_by_label("Education: short guides")).to_be_checked()
    page.get_by_label("Education: short guides").uncheck()  # one click out again
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_label("Education: short guides")).not_to_be_checked()

    page.get_by_role("link", name="My consents").click()
    expect(page.get_by_text("Signed (version 1)").first).to_be_visible()
    assert_accessible(page)


def test_a_patient_says_how_they_see_the_change_and_the_clinic_sees_it(
    page: Page, site: Site
) -> None:
    sign_in(page, site, _portal_login(site, "patient3@demo.follicle"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Progress").click()
    view = page.get_by_role("region", name="How I see it")
    expect(view).to_contain_text("Slightly increased")  # (his answer in the demo)
    view.get_by_label("Moderately increased").check()
    view.get_by_label("Anything you want to add").fill("My partner noticed too")
    assert_accessible(page)
    view.get_by_role("button", name="Send my answer").click()
    expect(page.locator(".flash")).to_contain_text("your clinic will see your answer")
    expect(view.locator("li").first).to_contain_text("Moderately increased")
    sign_out(page)
    sign_in(page, site, site.emails["practitioner"])
    page.goto(site.url + "/patients?q=cyrus")
    page.get_by_role("link", name=re.compile("Cyrus")).first.click()
    page.get_by_role("link", name="Compare baseline and now").click()
    said = page.get_by_role("region", name="What the patient says")
    expect(said.locator("tbody tr")).to_have_count(2)
    expect(said.locator("tbody tr").first).to_contain_text("Moderately increased (+2)")
    expect(said).to_contain_text("My partner noticed too")
    assert_accessible(page)


def _patient_id(site: Site, demo_email: str) -> str:
    with site.db.transaction() as session:
        return session.scalars(select(Patient.id).where(Patient.email == demo_email)).one()


def test_the_portal_works_on_a_phone_and_keeps_to_its_own_records(page: Page, site: Site) -> None:
    email = _portal_login(site, "patient8@demo.follicle")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, site, email)
    for path in ("/portal", "/portal/aftercare", "/portal/progress", "/portal/report"):
        page.goto(site.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways on a phone by {overflow}px"
        assert_accessible(page)
    someone_else = _patient_id(site, "patient3@demo.follicle")
    for path in (f"/patients/{someone_else}", "/patients", "/"):
        page.goto(site.url + path)
        assert page.url.endswith("/portal"), path  # staff pages send a patient home
    response = page.request.get(site.url + f"/api/v1/patients/{someone_else}/appointments.ics")
    assert response.status == 404


def test_a_patient_downloads_their_whole_record(page: Page, site: Site) -> None:
    email = _portal_login(site, "patient3@demo.follicle")
    own = _patient_id(site, email)
    sign_in(page, site, email)
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download my record (ZIP)").click()
    download = waiting.value
    assert download.suggested_filename == f"record-{own}.zip"
    with zipfile.ZipFile(download.path()) as archive:
        bundle = json.loads(archive.read("bundle.json"))
        names = set(archive.namelist())
    resources = [e["resource"] for e in bundle["entry"]]
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert [p["identifier"][0]["value"] for p in patients] == [own]
    photos = {r["content"]["url"] for r in resources if r["resourceType"] == "Media"}
    assert photos
    assert photos <= names  # every photo the bundle names is in the archive
    staff = [r for r in resources if r["resourceType"] == "Practitioner"]
    assert staff
    assert all("telecom" not in r for r in staff)  # no staff email addresses
    with site.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "fhir.export")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None
        assert entry.resource_id == own
    someone_else = _patient_id(site, "patient8@demo.follicle")
    refused = page.request.get(site.url + f"/api/v1/patients/{someone_else}/fhir")
    assert refused.status == 404


def test_a_practitioner_stops_a_plan_and_the_patient_is_told(page: Page, site: Site) -> None:
    sign_in(page, site, site.emails["practitioner"])
    page.goto(site.url + "/patients?q=fictive")
    page.get_by_role("link", name="Fictive, Lena").click()
    page.get_by_role("link", name="Open the plan and its evidence").click()
    page.get_by_label("Why stop it?").fill("the patient is moving abroad")
    assert_accessible(page)
    page.get_by_role("button", name="Stop plan").click()
    expect(page.locator(".flash")).to_contain_text("Plan stopped")
    expect(page.get_by_role("region", name="Plan stopped")).to_contain_text("moving abroad")
    expect(page.get_by_role("button", name="Propose plan")).to_be_visible()  # (another may be)
    sign_out(page)
    sign_in(page, site, _portal_login(site, "patient12@demo.follicle"))
    expect(page.get_by_text("Your clinic has stopped this treatment plan")).to_be_visible()
    expect(page.get_by_text("moving abroad")).to_have_count(0)  # (the reason stays with staff)
    # The shedding she reported, which the clinic graded mild: seen, its note not shown.
    problems = page.get_by_role("region", name="Problems on my record")
    expect(problems).to_contain_text("More hair falling out (reported by you")
    expect(problems).to_contain_text("reviewed by the clinic")
    expect(problems).not_to_contain_text("reassured")
    assert_accessible(page)


def test_a_patient_gives_the_clinic_a_new_phone_number(page: Page, site: Site) -> None:
    sign_in(page, site, _portal_login(site, "patient20@demo.follicle"))
    phone = page.get_by_label("Mobile phone")
    expect(phone).to_have_value("+44 7700 900020")  # (as the clinic has it)
    phone.fill("call me maybe")
    page.get_by_role("button", name="Save my contact details").click()
    expect(page.locator(".flash")).to_contain_text("Not saved: phone: ")
    expect(page.get_by_label("Mobile phone")).to_have_value("+44 7700 900020")  # (unchanged)
    page.get_by_label("Mobile phone").fill("+44 7700 900120")
    page.get_by_role("button", name="Save my contact details").click()
    expect(page.locator(".flash")).to_contain_text("Your contact details are saved")
    expect(page.get_by_label("Mobile phone")).to_have_value("+44 7700 900120")
    assert_accessible(page)
    with site.db.transaction() as session:
        patient = session.scalars(
            select(Patient).where(Patient.email == "patient20@demo.follicle")
        ).one()
        assert patient.phone == "+44 7700 900120"


def test_a_patient_whose_plan_is_on_hold_sees_his_sessions_paused(page: Page, site: Site) -> None:
    sign_in(page, site, _portal_login(site, "patient5@demo.follicle"))  # an open infection
    expect(page.locator(".alert-box")).to_contain_text("Your treatment is paused")
    visits = page.locator("ul.appointments li")
    expect(visits.first).to_be_visible()
    sessions = visits.filter(has_text="Session")
    assert sessions.count() >= 1
    for number in range(sessions.count()):
        expect(sessions.nth(number)).to_contain_text("paused")
    assert_accessible(page)


def test_a_patient_cancels_a_visit_and_the_desk_sees_it_to_book_again(
    page: Page, site: Site
) -> None:
    sign_in(page, site, _portal_login(site, "patient8@demo.follicle"))  # series from next week
    visits = page.locator("#appointments ul.appointments > li")
    first = visits.first.locator("strong").inner_text()
    expect(visits.first).to_contain_text("Session 1")
    visits.first.get_by_text("Can't come? Cancel this visit").click()
    visits.first.get_by_label("Why can't you come?").fill("A work trip that week (synthetic)")
    assert_accessible(page)
    visits.first.get_by_role("button", name="Cancel this visit").click()
    expect(page.locator(".flash")).to_contain_text("Your visit is cancelled")
    expect(visits.first).not_to_contain_text("Session 1")
    assert first not in page.locator("#appointments").inner_text()
    assert_accessible(page)
    sign_out(page)
    sign_in(page, site, site.emails["front_desk"])
    to_rebook = page.get_by_role("region", name="To book again")
    expect(to_rebook).to_contain_text("Hana Synthby")
    expect(to_rebook).to_contain_text("Cancelled session of")
    expect(to_rebook).to_contain_text("A work trip that week (synthetic)")
    # Her chart says who cancelled it and why.
    to_rebook.get_by_role("link", name="Hana Synthby").click()
    page.get_by_text("Cancelled or missed").click()
    missed = page.locator("details.missed")
    expect(missed).to_contain_text("session 1")
    expect(missed).to_contain_text("by the patient")
    expect(missed).to_contain_text("A work trip that week (synthetic)")
    assert_accessible(page)


def _name(site: Site, demo_email: str) -> str:
    with site.db.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.email == demo_email)).one()
        return f"{patient.given_name} {patient.family_name}"


def test_a_patient_asks_for_a_visit_and_the_desk_books_it(page: Page, site: Site) -> None:
    email = _portal_login(site, "patient11@demo.follicle")
    name = _name(site, email)
    sign_in(page, site, email)
    page.get_by_text("Ask for an appointment").click()
    page.get_by_label("What for").select_option("follow_up")
    page.get_by_label("When suits you").fill("Tuesday evenings (synthetic)")
    assert_accessible(page)
    page.get_by_role("button", name="Send to my clinic").click()
    expect(page.locator(".flash")).to_contain_text("your clinic will contact you to book it")
    expect(page.locator("#appointments")).to_contain_text("You asked for a follow-up review on")
    # Asking again for the same is refused, saying why.
    page.get_by_text("Ask for an appointment").click()
    page.get_by_label("What for").select_option("follow_up")
    page.get_by_label("When suits you").fill("any time")
    page.get_by_role("button", name="Send to my clinic").click()
    expect(page.locator(".flash")).to_contain_text("Not sent: a follow-up review was already asked")
    assert_accessible(page)

    sign_out(page)
    sign_in(page, site, site.emails["front_desk"])
    asked = page.get_by_role("region", name="Asked to book")
    expect(asked).to_contain_text("Tuesday evenings (synthetic)")
    asked.get_by_role("link", name=name).click()
    page.locator("#appointments").get_by_role("link", name="Book it").click()
    expect(page.get_by_label("Kind of appointment")).to_have_value("follow_up")
    expect(page.get_by_label("One appointment:")).to_be_checked()
    expect(page.get_by_role("complementary", name="The patient asked for")).to_contain_text(
        "Tuesday evenings (synthetic)"
    )
    assert_accessible(page)
    day = date.today() + timedelta(days=10)
    while day.weekday() != 1:
        day += timedelta(days=1)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Time").fill("17:15")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Appointment booked")
    page.get_by_text("Requests answered (1)").click()
    expect(page.locator("details.answered")).to_contain_text("Follow-up review asked")
    expect(page.locator("details.answered")).to_contain_text("booked")

    # The demo's patient 16 asked when she cancelled; the desk answers without booking.
    page.goto(site.url + "/")
    asked = page.get_by_role("region", name="Asked to book")
    expect(asked).not_to_contain_text(name)
    her = _name(site, "patient16@demo.follicle")
    asked.get_by_role("link", name=her).click()
    expect(page.get_by_role("link", name="asked for consultation")).to_be_visible()
    requests = page.locator("ul.requests")
    expect(requests).to_contain_text("when cancelling a visit")
    requests.get_by_text("Answer without booking").click()
    requests.get_by_label("What was agreed with the patient").fill(
        "Called her: she will ring after her holiday (synthetic)"
    )
    assert_accessible(page)
    requests.get_by_role("button", name="Close the request").click()
    expect(page.locator(".flash")).to_contain_text("The request is closed")
    page.get_by_text("Requests answered (1)").click()
    expect(page.locator("details.answered")).to_contain_text("she will ring after her holiday")
    # She phones again: the desk notes what she asks for, to book when a time frees up.
    note = page.locator("details.note-request")
    note.get_by_text("Note a request from the patient").click()
    note.get_by_label("What for").select_option("follow_up")
    note.get_by_label("When suits them").fill("Mondays only (synthetic)")
    assert_accessible(page)
    note.get_by_role("button", name="Note the request").click()
    expect(page.locator(".flash")).to_contain_text("The request is noted")
    expect(page.locator("ul.requests")).to_contain_text("Mondays only (synthetic)")
    expect(page.locator("ul.requests")).to_contain_text("(taken by ")
