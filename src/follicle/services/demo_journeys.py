"""Demo patients part-way through the journey, made through the same services staff use.

So `make run` shows every capability working: a plan waiting for approval, a course under way
(past sessions, trichoscopy at baseline and now, photos, the rest of the series booked), a
plan on hold after a serious adverse event, and a series booked from next week. All synthetic.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from sqlalchemy import or_, select

from follicle.records.files import ImageStore
from follicle.records.models import (
    Appointment,
    Clinic,
    Consent,
    Intake,
    OutboxMessage,
    Patient,
    Plan,
    ScreeningResult,
    UserAccount,
    utcnow,
)
from follicle.services import (
    accounts,
    adverse_events,
    appointment_requests,
    appointments,
    consents,
    devices,
    images,
    messages,
    patient_outcomes,
    patient_updates,
    patients,
    plans,
    portal,
    scales,
    sessions,
)
from follicle.services.actors import Actor
from follicle.services.auth import actor_for
from follicle.services.commands import (
    AdverseEventGrading,
    AdverseEventReport,
    AdverseEventVoid,
    AppointmentAsk,
    Cancellation,
    ConsentSignature,
    ImageVoid,
    NewAppointment,
    NewDevice,
    NewLot,
    NewPatient,
    NewSessionRecord,
    PatientDetails,
    PatientOutcomeReport,
    PatientUpdate,
    PlanStop,
    SeriesBooking,
)
from follicle.services.database import Database
from follicle.services.errors import NotNow
from follicle.trichoscopy.synth import (
    TrichogramSpec,
    VisitPair,
    render_trichogram,
    render_visit_pair,
)
from follicle.trichoscopy.synth_calibration import CalibrationSpec, render_calibration

#: The demo dermoscope's scale (the synthetic trichoscopy images are rendered at it).
DEMO_UM_PER_PX = TrichogramSpec().um_per_px
#: Where links in demo messages point (`make run` serves here).
DEMO_PUBLIC_URL = "http://127.0.0.1:8000"
#: Why the demo's overexposed image was set aside (the follow-up page lists it).
OVEREXPOSED_REASON = "Overexposed: the dermoscope's light was on high; taken again"
#: ...and why Bea Samplefield's first baseline image was (her blond hair showed too faintly).
FAINT_HAIR_REASON = "Blond hair showed too faintly to count; dyed and taken again"


def _png(rgb: Any) -> bytes:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return bytes(encoded.tobytes())


def _phone_jpeg(rgb: Any) -> bytes:
    """As a phone on a dermoscope adapter saves it: JPEG with the colour at half resolution
    (4:2:0), which the upload warns of."""
    options = [cv2.IMWRITE_JPEG_QUALITY, 92, cv2.IMWRITE_JPEG_SAMPLING_FACTOR]
    options.append(cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), options)
    assert ok
    return bytes(encoded.tobytes())


def _vertex_photo(seed: int, density: float) -> bytes:
    """A stand-in for a standardised vertex photograph: skin, a crown of dark strokes."""
    rng = np.random.default_rng(seed)
    height, width = 480, 640
    image = np.full((height, width, 3), (196, 160, 140), dtype=np.uint8)
    centre = np.array([width / 2, height / 2])
    for _ in range(int(4000 * density)):
        angle = rng.uniform(0, 2 * np.pi)
        radius = abs(rng.normal(0, 1)) * 160 + 60
        start = centre + radius * np.array([np.cos(angle), np.sin(angle)])
        end = (
            start + rng.normal(0, 6, 2) + 14 * np.array([np.cos(angle + 1.2), np.sin(angle + 1.2)])
        )
        cv2.line(image, tuple(int(v) for v in start), tuple(int(v) for v in end), (45, 32, 25), 1)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return bytes(encoded.tobytes())


def _next_weekday(day: date, weekday: int) -> date:
    day += timedelta(days=3)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def _trichoscopy_repeats(
    pair: VisitPair, visit: str, taken_at: datetime, scale_id: str | None = None
) -> list[images.ImageUpload]:
    """Three images of the marked vertex site at one visit: their spread is the noise the
    follow-up interval needs. Read at the measured scale ``scale_id``, or else at the scale
    typed in (the baseline's, before the clinic measured its dermoscope). The baseline's last
    image was taken with a phone on the dermoscope and saved as its JPEG, so the follow-up
    shows the warning that goes with it."""
    first = pair.baseline if visit == "baseline" else pair.followup
    shots = [first, pair.repeat(visit, 1), pair.repeat(visit, 2)]
    by_phone = 2 if visit == "baseline" else None
    return [
        images.ImageUpload(
            kind="trichoscopy",
            content=_phone_jpeg(shot.rgb) if minute == by_phone else _png(shot.rgb),
            site="vertex",
            um_per_px=None if scale_id else shot.spec.um_per_px,
            scale_id=scale_id,
            taken_at=taken_at - timedelta(minutes=len(shots) - minute),  # before needling
        )
        for minute, shot in enumerate(shots)
    ]


def _baseline_of_blond_hair(
    db: Database,
    store: ImageStore,
    derm: Actor,
    patient_id: str,
    scale_id: str,
    day: date,
    zone: ZoneInfo,
) -> None:
    """Her blond hair on skin of its own colour showed faintly: the upload warned that thin
    hairs would be missed, so the hair was dyed (as the phototrichogram protocol does), the
    site taken again and the first image set aside with the reason."""
    blond = TrichogramSpec(  # dense, many vellus hairs, a noisy camera (as benchmark 2028008)
        seed=2621,
        width_px=1200,
        height_px=900,
        fitzpatrick=3,
        hair_colour="blond",
        density_per_cm2=305.0,
        vellus_fraction=0.4,
        blur_sigma_px=0.83,
        noise_sd=4.4,
        dandruff_flakes=2,
        yellow_dots=3,
        erythema=0.16,
        vignette=0.125,
    )
    taken = datetime.combine(day, time(11, 0), zone)
    shots = [(blond, taken), (replace(blond, hair_colour="black"), taken + timedelta(minutes=25))]
    faint, _ = (
        images.upload_image(
            db,
            store,
            derm,
            patient_id,
            images.ImageUpload(
                kind="trichoscopy",
                content=_png(render_trichogram(spec).rgb),
                site="vertex",
                scale_id=scale_id,
                taken_at=taken_at,
            ),
        )
        for spec, taken_at in shots
    )
    images.void_image(db, derm, patient_id, faint["id"], ImageVoid(reason=FAINT_HAIR_REASON))


def _devices(db: Database, admin: Actor, today: date) -> dict[str, str]:
    """Two registered devices and their lots; returns lot ids by lot number."""
    pen = devices.register_device(
        db,
        admin,
        NewDevice(
            maker="Demo Medical (synthetic)",
            model="DP-12 microneedling pen",
            needle_configuration="12-needle cartridge, 0.25-2.5 mm",
            regulatory_status="Synthetic demo device: not a real product or a real clearance.",
        ),
    )
    roller = devices.register_device(
        db,
        admin,
        NewDevice(
            maker="Demo Medical (synthetic)",
            model="DR-540 scalp roller",
            needle_configuration="540 needles, 0.5 mm",
            regulatory_status="Synthetic demo device: not a real product or a real clearance.",
        ),
    )
    lots = {}
    for device, number, received, expires in (
        (pen, "DEMO-LOT-2611", 150, 300),
        (pen, "DEMO-LOT-2702", 20, 420),
        (roller, "DEMO-R-0415", 60, 240),
    ):
        lot = devices.receive_lot(
            db,
            admin,
            device["id"],
            NewLot(
                lot_number=number,
                received_on=today - timedelta(days=received),
                expires_on=today + timedelta(days=expires),
            ),
            today,
        )
        lots[number] = lot["id"]
    return lots


def _dermoscope_scale(db: Database, admin: Actor) -> str:
    """The demo dermoscope's scale, measured from a synthetic stage micrometer photographed at
    the demo trichoscopy images' 5 um per pixel."""
    photo = render_calibration(
        CalibrationSpec(seed=27, width_px=800, height_px=600, um_per_px=DEMO_UM_PER_PX)
    )
    measured = scales.measure_scale(
        db, admin, "Demo dermoscope (synthetic), 20x", 100.0, _png(photo)
    )
    return str(measured["id"])


def _session(
    plan_id: str, performed_at: datetime, lot_id: str, depth_mm: float
) -> NewSessionRecord:
    return NewSessionRecord.model_validate(
        {
            "plan_id": plan_id,
            "performed_at": performed_at,
            "lot_id": lot_id,
            "depth_mm_by_region": {"vertex": depth_mm, "frontal": depth_mm, "midscalp": depth_mm},
            "endpoint": "mild_erythema",
            "pain_score": 3,
            "reactions": "Even redness, settled within the hour.",
            "pre_session_check": {"confirmed_with_patient": True},
        }
    )


def load_journeys(db: Database, store: ImageStore, today: date) -> None:
    with db.transaction() as session:
        clinic = session.scalars(select(Clinic).where(Clinic.slug == "demo")).one()
        zone = ZoneInfo(clinic.time_zone)
        users = {
            u.email: actor_for(u)
            for u in session.scalars(select(UserAccount).where(UserAccount.clinic_id == clinic.id))
        }
        people = {
            p.email: p.id
            for p in session.scalars(select(Patient).where(Patient.clinic_id == clinic.id))
        }
    derm, desk = users["derm@demo.follicle"], users["desk@demo.follicle"]
    lots = _devices(db, users["admin@demo.follicle"], today)
    scale_id = _dermoscope_scale(db, users["admin@demo.follicle"])

    texts = consents.list_consents(db, derm, people["patient2@demo.follicle"])["current_texts"]

    def consent_all(patient_id: str, name: str) -> None:
        for kind in ("treatment", "photo_use"):
            consents.sign(
                db,
                derm,
                patient_id,
                ConsentSignature(kind=kind, signed_name=name, consent_text_id=texts[kind]["id"]),
            )

    def approved_plan(patient_id: str) -> dict[str, Any]:
        proposed = plans.propose_plan(db, derm, patient_id, today)
        return plans.approve_plan(db, derm, patient_id, proposed["id"], proposed["version"], today)

    def series(patient_id: str, plan_id: str, first: datetime) -> list[dict[str, Any]]:
        booking = SeriesBooking(
            plan_id=plan_id, first_starts_at=first, practitioner_id=str(derm.user_id)
        )
        return appointments.book_series(db, desk, patient_id, booking)

    # Patient 2: consented, plan proposed and waiting for a practitioner's approval.
    bea = people["patient2@demo.follicle"]
    consent_all(bea, "Bea Samplefield")
    plans.propose_plan(db, derm, bea, today)
    _baseline_of_blond_hair(db, store, derm, bea, scale_id, today - timedelta(days=1), zone)

    # Patient 3: a course under way, measured at baseline and now.
    cyrus = people["patient3@demo.follicle"]
    consent_all(cyrus, "Cyrus Demoford")
    plan = approved_plan(cyrus)
    interval = int(plan["plan"]["interval_days"])
    depth = float(plan["plan"]["needle_depth_mm"])
    done = 3
    first = datetime.combine(today - timedelta(days=interval * done), time(10, 0), zone)
    pair = render_visit_pair(
        TrichogramSpec(  # the site tattooed with a dot, found again at each visit
            seed=2611, width_px=1200, height_px=900, density_per_cm2=150.0, site_mark_um=700.0
        ),
        lost_fraction=0.03,
        new_fraction=0.3,  # a responder: about a fifth more hairs at follow-up
        thinned_fraction=0.02,
        seed=3,
    )
    for number in range(done):
        performed = first + timedelta(days=interval * number)
        record = sessions.record_session(
            db, derm, cyrus, _session(plan["id"], performed, lots["DEMO-LOT-2611"], depth), today
        )
        if number == 0:
            for upload in (
                *_trichoscopy_repeats(pair, "baseline", performed),
                images.ImageUpload(
                    kind="photo",
                    content=_vertex_photo(1, 0.8),
                    view="vertex",
                    taken_at=performed,
                    session_record_id=record["id"],
                ),
            ):
                images.upload_image(db, store, derm, cyrus, upload)
    now = datetime.combine(today, time(9, 0), zone) - timedelta(days=1)
    for upload in _trichoscopy_repeats(pair, "followup", now, scale_id):
        images.upload_image(db, store, derm, cyrus, upload)
    # One more came out overexposed (the dermoscope's light on high): the upload warned of
    # it, and the dermatologist set it aside with the reason, so it does not count.
    bright = np.clip(pair.followup.rgb.astype(np.float32) * 1.45, 0, 255).astype(np.uint8)
    overexposed = images.upload_image(
        db,
        store,
        derm,
        cyrus,
        images.ImageUpload(
            kind="trichoscopy", content=_png(bright), site="vertex", scale_id=scale_id, taken_at=now
        ),
    )
    images.void_image(db, derm, cyrus, overexposed["id"], ImageVoid(reason=OVEREXPOSED_REASON))
    images.upload_image(
        db,
        store,
        derm,
        cyrus,
        images.ImageUpload(
            kind="photo", content=_vertex_photo(2, 1.0), view="vertex", taken_at=now
        ),
    )
    next_session = datetime.combine(_next_weekday(today, 1), time(10, 0))
    remaining = series(cyrus, plan["id"], next_session)
    assert remaining
    # How he sees it, from the portal: beside the measured change on the follow-up page.
    patient_outcomes.report_outcome(
        db,
        users["patient3@demo.follicle"],
        cyrus,
        PatientOutcomeReport(
            change_score=1, comment="Less scalp showing under the bathroom light (synthetic)."
        ),
    )

    # Patient 5: one session, then an infection: the plan is on hold until cleared.
    emeka = people["patient5@demo.follicle"]
    consent_all(emeka, "Emeka Fauxley")
    plan = approved_plan(emeka)
    performed = performed_emeka = datetime.combine(today - timedelta(days=6), time(11, 0), zone)
    record = sessions.record_session(
        db, derm, emeka, _session(plan["id"], performed, lots["DEMO-LOT-2702"], 0.5), today
    )
    # The rest of his series was booked before the infection showed: the sessions stay in the
    # diary marked "plan on hold", and their reminders wait until the plan resumes.
    series(emeka, plan["id"], datetime.combine(_next_weekday(today, 2), time(16, 0)))
    adverse_events.report(
        db,
        derm,
        emeka,
        AdverseEventReport(
            category="infection",
            grade=2,
            description="Tender pustules on the vertex three days after the session (synthetic).",
            onset_on=today - timedelta(days=3),
            session_record_id=record["id"],
        ),
        today,
    )

    # Patient 8: consented and approved, the whole series booked from next week.
    hana = people["patient8@demo.follicle"]
    consent_all(hana, "Hana Synthby")
    plan = approved_plan(hana)
    series(hana, plan["id"], datetime.combine(_next_weekday(today, 3), time(14, 0)))
    # She has since given the desk a new mobile number: the reminders not sent yet go to it,
    # and the audit log keeps the old one.
    _new_phone(db, desk, hana, "+44 7700 900808")  # (Ofcom's range reserved for drama)
    # An event typed on her chart instead of another patient's was voided: it no longer
    # counts, and her chart still shows it, struck through, with who voided it and why.
    typed_here = adverse_events.report(
        db,
        derm,
        hana,
        AdverseEventReport(
            category="bleeding",
            grade=1,
            description="Pinpoint bleeding that stopped with pressure (synthetic).",
            onset_on=today - timedelta(days=1),
        ),
        today,
    )
    adverse_events.void_event(
        db,
        derm,
        hana,
        typed_here["id"],
        AdverseEventVoid(reason="entered on the wrong patient's chart; she has had no session"),
    )

    # Patient 12: two sessions in, and the plan's review is due this week.
    lena = people["patient12@demo.follicle"]
    consent_all(lena, "Lena Fictive")
    plan = approved_plan(lena)
    weeks = int(plan["plan"]["review_after_weeks"])
    approved_on = today - timedelta(weeks=weeks) + timedelta(days=2)
    for number in range(2):
        performed = datetime.combine(
            approved_on + timedelta(days=7 + 28 * number), time(15, 0), zone
        )
        sessions.record_session(
            db, derm, lena, _session(plan["id"], performed, lots["DEMO-LOT-2702"], 0.5), today
        )
    # From the portal she reported more hair falling out as "very severe", which held her
    # plan; the dermatologist, having spoken to her, graded it mild and expected (the report
    # is kept as she made it), and the plan went on. The event stays open for her review.
    shedding = adverse_events.report(
        db,
        users["patient12@demo.follicle"],
        lena,
        AdverseEventReport(
            category="hair_shedding",
            grade=4,
            description="Lots of hairs on my pillow and in the shower since last week.",
            onset_on=today - timedelta(days=5),
        ),
        today,
    )
    adverse_events.grade(
        db,
        derm,
        lena,
        shedding["id"],
        AdverseEventGrading(
            category="hair_shedding",
            grade=1,
            note="Spoke to her by phone: shedding in the first months is expected; reassured, "
            "photos at the review (synthetic).",
        ),
        shedding["version"],
    )

    # Patient 18: her series was booked, then she moved abroad: the plan is stopped, which
    # cancels the sessions booked and tells her so.
    rosa = people["patient18@demo.follicle"]
    consent_all(rosa, "Rosa Mockett")
    plan = approved_plan(rosa)
    series(rosa, plan["id"], datetime.combine(_next_weekday(today, 1), time(11, 0)))
    plans.stop_plan(
        db,
        derm,
        rosa,
        plan["id"],
        PlanStop(reason="moving abroad; continues her care with a clinic there"),
        plans.read_plan(db, derm, rosa, plan["id"])["version"],
    )

    # The records above were made today; date the history the way it happened.
    _backdate(db, cyrus, first - timedelta(days=7))
    _backdate(db, emeka, performed_emeka - timedelta(days=14))
    _backdate(db, lena, datetime.combine(approved_on, time(12, 0), zone))
    _demo_messages(db, cyrus)
    _portal_newcomers(db, desk, today)
    _minor_signed_for_by_a_parent(db, desk, derm, texts, today)
    _cancelled_from_the_portal(
        db, desk, derm, users["patient15@demo.follicle"], datetime.combine(today, time(8), zone)
    )
    _cancelled_from_the_portal(
        db,
        desk,
        derm,
        users["patient16@demo.follicle"],
        datetime.combine(today, time(8, 30), zone),
        another_time="Any weekday after 4 pm, or a Saturday morning (synthetic)",
    )
    _asked_and_booked(db, desk, derm, users["patient17@demo.follicle"], today)
    _education_for_those_who_asked(db, users)


def _new_phone(db: Database, desk: Actor, patient_id: str, phone: str) -> None:
    registered = patients.read_patient(db, desk, patient_id)
    fields = ("given_name", "family_name", "date_of_birth", "sex_at_birth", "email")
    details = PatientDetails.model_validate({k: registered[k] for k in fields} | {"phone": phone})
    patients.update_patient(db, desk, patient_id, details, registered["version"])


def _portal_newcomers(db: Database, desk: Actor, today: date) -> None:
    """Two new enquiries without a portal password yet: one invited (the email is waiting in
    the outbox), one not yet invited."""
    for given, family, email, invite in (
        ("Ines", "Newcombe", "ines.newcombe@demo.follicle", True),
        ("Omar", "Notyet", "omar.notyet@demo.follicle", False),
    ):
        created = patients.create_patient(
            db,
            desk,
            NewPatient(
                given_name=given,
                family_name=family,
                date_of_birth=date(today.year - 41, 4, 12),
                sex_at_birth="female" if given == "Ines" else "male",
                email=email,
            ),
            today,
        )
        if invite:
            accounts.invite_patient(db, desk, created["id"], DEMO_PUBLIC_URL)


def _cancelled_from_the_portal(
    db: Database,
    desk: Actor,
    derm: Actor,
    patient: Actor,
    now: datetime,
    another_time: str | None = None,
) -> None:
    """Patient 15 (Oskar) cancelled next week's consultation from the portal: the desk's
    worklist shows it to book again, with his reason. Patient 16 cancelled hers and asked for
    another time, saying when suits her: the worklist shows her request instead."""
    booked = appointments.book(
        db,
        desk,
        str(patient.patient_id),
        NewAppointment(
            kind="consultation",
            starts_at=datetime.combine(_next_weekday(now.date(), 4), time(10, 0)),
            practitioner_id=str(derm.user_id),
        ),
    )
    appointments.cancel(
        db,
        patient,
        str(patient.patient_id),
        booked["id"],
        Cancellation(
            reason="Away with work that week (synthetic).",
            another_time=another_time,
        ),
        booked["version"],
        now,
    )


def _asked_and_booked(db: Database, desk: Actor, derm: Actor, patient: Actor, today: date) -> None:
    """Patient 17 asked from the portal for a consultation on Thursday afternoons; the desk
    booked one, which answered her request (her chart lists it under "Requests answered")."""
    patient_id = str(patient.patient_id)
    appointment_requests.ask(
        db,
        patient,
        patient_id,
        AppointmentAsk(kind="consultation", preferred_times="Thursday afternoons (synthetic)"),
    )
    thursday = _next_weekday(today, 3)
    for hour in (16, 15, 13, 17):  # (the first free afternoon hour, as the desk would)
        try:
            appointments.book(
                db,
                desk,
                patient_id,
                NewAppointment(
                    kind="consultation",
                    starts_at=datetime.combine(thursday, time(hour, 0)),
                    practitioner_id=str(derm.user_id),
                ),
            )
            return
        except NotNow:
            continue
    raise NotNow("no free Thursday afternoon hour for the demo's consultation")


def _education_for_those_who_asked(db: Database, users: dict[str, Actor]) -> None:
    """Patients 3 and 10 chose education in their portal; the admin sent them a short guide
    (the other patients, who did not choose it, got nothing)."""
    for email in ("patient3@demo.follicle", "patient10@demo.follicle"):
        portal.set_preferences(db, users[email], education=True, updates=False)
    patient_updates.send(
        db,
        users["admin@demo.follicle"],
        PatientUpdate(
            audience="education",
            subject="Caring for your scalp between sessions",
            body=(
                "Wash your hair gently with a mild shampoo, and keep direct sun off your scalp "
                "for the first days after a session.\n\n"
                "Results build slowly: most people see a change only after several months. "
                "Your clinic measures the same area at your review. (Synthetic demo text.)"
            ),
        ),
    )


def _minor_signed_for_by_a_parent(
    db: Database, desk: Actor, derm: Actor, texts: dict[str, Any], today: date
) -> None:
    """Theo, 16, referred by his GP: his mother signed both consents for him at the clinic
    (the screening refers a minor to a dermatologist first; the chart shows who signed)."""
    theo = patients.create_patient(
        db,
        desk,
        NewPatient(
            given_name="Theo",
            family_name="Youngman",
            date_of_birth=date(today.year - 16, 2, 3),
            sex_at_birth="male",
            email="theo.youngman@demo.follicle",
        ),
        today,
    )
    for kind in ("treatment", "photo_use"):
        consents.sign(
            db,
            derm,
            theo["id"],
            ConsentSignature(
                kind=kind,
                signed_name="Clara Youngman",
                consent_text_id=texts[kind]["id"],
                representative="parent",
            ),
        )


def _backdate(db: Database, patient_id: str, approved_at: datetime) -> None:
    """Demo only: move a journey's intake, screening, consents and plan to before its first
    session, so the chart's timeline reads in the order things happened."""
    with db.transaction() as session:
        day_before = approved_at - timedelta(days=1)
        for intake in session.scalars(select(Intake).where(Intake.patient_id == patient_id)):
            intake.created_at = day_before - timedelta(days=7)
            intake.recorded_on = (day_before - timedelta(days=7)).date()
        for result in session.scalars(
            select(ScreeningResult).where(ScreeningResult.patient_id == patient_id)
        ):
            result.created_at = day_before - timedelta(days=7)
        for consent in session.scalars(select(Consent).where(Consent.patient_id == patient_id)):
            consent.signed_at = day_before
            consent.created_at = day_before
        for plan in session.scalars(select(Plan).where(Plan.patient_id == patient_id)):
            plan.created_at = day_before
            if plan.approved_at is not None:
                plan.approved_at = approved_at
                plan.review_on = approved_at.date() + timedelta(
                    weeks=int(plan.document["review_after_weeks"])
                )
                for message in session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.patient_id == patient_id,
                        OutboxMessage.kind == "review_due",
                    )
                ):
                    message.status = "cancelled"
                    message.last_error = "review date moved"
                session.flush()
                messages.on_plan_approved(session, plan)


def _demo_messages(db: Database, cyrus: str) -> None:
    """Demo only: today's consultations get their reminders (and a confirmation sent a week
    ago); the confirmation of patient 3's series went out before the course began."""
    with db.transaction() as session:
        clinic = session.scalars(select(Clinic).where(Clinic.slug == "demo")).one()
        now = utcnow()
        today = [
            a
            for a in session.scalars(
                select(Appointment).where(
                    Appointment.clinic_id == clinic.id,
                    Appointment.kind == "consultation",
                    Appointment.status == "booked",
                )
            )
            if a.starts_at.date() == now.date()
        ]
        for appointment in today:
            messages.on_booked(session, [appointment])
        session.flush()
        for message in session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "confirmation",
                OutboxMessage.clinic_id == clinic.id,
                or_(
                    OutboxMessage.appointment_id.in_([a.id for a in today]),
                    OutboxMessage.patient_id == cyrus,
                ),
            )
        ):
            message.status = "sent"
            message.attempts = 1
            message.sent_at = message.due_at = message.next_attempt_at = now - timedelta(days=7)
