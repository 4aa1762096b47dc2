"""The synthetic demo clinic that ``make run`` shows (contracts §6).

Every name, date and finding here is made up. Dates are relative to the day the demo is
loaded, so "today" always has appointments. Loading twice changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.clinic.clinic_settings import default_settings
from follicle.clinic.intake import validate_intake
from follicle.clinic.screening import screen
from follicle.records import audit
from follicle.records.files import ImageStore
from follicle.records.models import (
    Appointment,
    Clinic,
    ConsentText,
    Intake,
    Patient,
    Room,
    ScreeningResult,
    UserAccount,
    new_id,
    utcnow,
)
from follicle.services.actors import Actor
from follicle.services.database import Database
from follicle.services.demo_journeys import load_journeys
from follicle.services.passwords import hash_password

DEMO_PASSWORD = "follicle-demo"  # noqa: S105  (published demo login, demo mode only)
DEMO_PATIENTS = 20
#: The demo clinic's number: Ofcom keeps 020 7946 0000-0999 for drama, and North America
#: 555-0100 to 0199 for fiction (the other clinic's), so neither rings anyone.
DEMO_PHONE = "020 7946 0958"

# (given, family, sex, fitzpatrick, diagnosis, stage field, stage) — all invented.
_DEMO_PEOPLE: tuple[tuple[str, str, str, int, str, str, Any], ...] = (
    ("Arlo", "Testwood", "male", 2, "androgenetic_alopecia", "norwood", "III_vertex"),
    ("Bea", "Samplefield", "female", 3, "androgenetic_alopecia", "ludwig", "II"),
    ("Cyrus", "Demoford", "male", 4, "androgenetic_alopecia", "norwood", "IV"),
    ("Dalia", "Mockridge", "female", 5, "androgenetic_alopecia", "sinclair", 3),
    ("Emeka", "Fauxley", "male", 6, "androgenetic_alopecia", "norwood", "III"),
    ("Freya", "Pseudon", "female", 1, "alopecia_areata", "salt_score", 20),
    ("Gustav", "Placeholt", "male", 3, "androgenetic_alopecia", "norwood", "V"),
    ("Hana", "Synthby", "female", 4, "androgenetic_alopecia", "ludwig", "I"),
    ("Idris", "Exampleton", "male", 5, "androgenetic_alopecia", "norwood", "IIa"),
    ("Juno", "Madeup", "female", 2, "telogen_effluvium", "", None),
    ("Kofi", "Notreal", "male", 6, "androgenetic_alopecia", "norwood", "IV"),
    ("Lena", "Fictive", "female", 3, "androgenetic_alopecia", "sinclair", 2),
    ("Mateo", "Imaginário", "male", 3, "androgenetic_alopecia", "norwood", "III"),
    ("Nia", "Dummyworth", "female", 6, "traction_alopecia", "", None),
    ("Oskar", "Trialson", "male", 1, "androgenetic_alopecia", "norwood", "VI"),
    ("Priya", "Testament", "female", 4, "androgenetic_alopecia", "ludwig", "II"),
    ("Quinn", "Specimen", "intersex", 3, "alopecia_areata", "salt_score", 35),
    ("Rosa", "Mockett", "female", 2, "androgenetic_alopecia", "sinclair", 3),
    ("Sami", "Fakenham", "male", 5, "androgenetic_alopecia", "norwood", "IIIa"),
    ("Tove", "Examplar", "female", 3, "androgenetic_alopecia", "ludwig", "I"),
)


# Extra history for some demo patients, so the screening shows its range (all invented).
_DEMO_HISTORY: dict[int, dict[str, Any]] = {
    7: {"medications": [{"name": "apixaban", "class": "anticoagulant"}]},
    11: {
        "medications": [{"name": "isotretinoin", "class": "isotretinoin", "stopped_months_ago": 3}]
    },
    13: {"conditions": ["herpes_simplex_recurrent"], "allergies": ["lidocaine"]},
    16: {"active_scalp_conditions": ["sunburn"]},
    19: {"conditions": ["keloid_history"]},
}


@dataclass(frozen=True)
class DemoReport:
    created: bool
    clinics: int
    users: int
    patients: int


def load_demo(
    db: Database, actor: Actor, today: date | None = None, store: ImageStore | None = None
) -> DemoReport:
    """Create the demo clinics unless they exist; never touches existing records.

    With an image store, some demo patients are also taken part-way through the journey
    (plans, sessions, trichoscopy, an adverse event) through the services staff use.
    """
    with db.transaction() as session:
        if session.scalar(select(Clinic).where(Clinic.slug == "demo")) is not None:
            return DemoReport(created=False, clinics=0, users=0, patients=0)
        password_hash = hash_password(DEMO_PASSWORD)
        demo_users, demo_patients = _demo_clinic(session, password_hash, today)
        other_users, other_patients = _other_clinic(session, password_hash)
        audit.append(
            session,
            actor=actor.audit_name,
            action="demo.load",
            resource_type="clinic",
            client_address=actor.client_address,
            detail={"patients": demo_patients + other_patients},
        )
        zone = ZoneInfo(
            session.scalars(select(Clinic.time_zone).where(Clinic.slug == "demo")).one()
        )
    if store is not None:
        load_journeys(db, store, today or datetime.now(zone).date())
    return DemoReport(True, 2, demo_users + other_users, demo_patients + other_patients)


def _clinic(session: Session, name: str, slug: str, time_zone: str, phone: str) -> Clinic:
    clinic = Clinic(
        id=new_id("cln"),
        name=name,
        slug=slug,
        time_zone=time_zone,
        settings={},
        operations={"clinic_phone": phone},
    )
    session.add(clinic)
    session.flush()
    return clinic


def _user(
    session: Session,
    clinic: Clinic,
    email: str,
    name: str,
    role: str,
    password_hash: str,
    credential: str | None = None,
    patient: Patient | None = None,
) -> UserAccount:
    user = UserAccount(
        id=new_id("usr"),
        clinic_id=clinic.id,
        email=email,
        display_name=name,
        role=role,
        credential=credential,
        patient_id=patient.id if patient else None,
        password_hash=password_hash,
    )
    session.add(user)
    return user


def _demo_clinic(session: Session, password_hash: str, today: date | None) -> tuple[int, int]:
    clinic = _clinic(session, "Demo Hair Clinic", "demo", "Europe/London", DEMO_PHONE)
    rooms = [Room(id=new_id("room"), clinic_id=clinic.id, name=n) for n in ("Room 1", "Room 2")]
    session.add_all(rooms)
    _user(session, clinic, "admin@demo.follicle", "Alex Admin", "admin", password_hash)
    derm = _user(
        session,
        clinic,
        "derm@demo.follicle",
        "Dr Dana Derm",
        "practitioner",
        password_hash,
        credential="dermatologist",
    )
    aest = _user(
        session,
        clinic,
        "aesthetician@demo.follicle",
        "Ari Aesthetician",
        "practitioner",
        password_hash,
        credential="licensed_aesthetician",
    )
    _user(session, clinic, "desk@demo.follicle", "Dee Desk", "front_desk", password_hash)
    _consent_texts(session, clinic)
    rng = random.Random(20261126)  # noqa: S311  (reproducible demo data, not security)
    today = today or datetime.now(ZoneInfo(clinic.time_zone)).date()
    session.flush()
    for number, person in enumerate(_DEMO_PEOPLE, start=1):
        patient = _demo_patient(session, clinic, number, person, rng, today)
        _user(
            session,
            clinic,
            f"patient{number}@demo.follicle",
            patient.given_name + " " + patient.family_name,
            "patient",
            password_hash,
            patient=patient,
        )
        if number > 1:  # patient 1 is a brand-new enquiry without an intake yet
            _demo_intake(session, clinic, patient, number, person, rng, today, derm)
    _today_appointments(session, clinic, rooms, [derm, aest], today)
    return 4 + DEMO_PATIENTS, DEMO_PATIENTS


def _consent_texts(session: Session, clinic: Clinic) -> None:
    for kind, title in (
        ("treatment", "Scalp microneedling: treatment consent"),
        ("photo_use", "Clinical photographs: consent to take and keep"),
    ):
        session.add(
            ConsentText(
                id=new_id("ctx"),
                clinic_id=clinic.id,
                kind=kind,
                version_number=1,
                title=title,
                body=_CONSENT_BODIES[kind],
                published_at=utcnow(),
            )
        )


def _demo_patient(
    session: Session,
    clinic: Clinic,
    number: int,
    person: tuple[str, str, str, int, str, str, Any],
    rng: random.Random,
    today: date,
) -> Patient:
    given, family, sex, *_ = person
    age = rng.randint(22, 64)
    patient = Patient(
        id=new_id("pat"),
        clinic_id=clinic.id,
        given_name=given,
        family_name=family,
        date_of_birth=today - timedelta(days=age * 365 + rng.randint(0, 364)),
        sex_at_birth=sex,
        email=f"patient{number}@demo.follicle",
        phone=f"+44 7700 900{number:03d}",  # Ofcom's range reserved for drama
    )
    session.add(patient)
    session.flush()
    return patient


def _demo_intake(
    session: Session,
    clinic: Clinic,
    patient: Patient,
    number: int,
    person: tuple[str, str, str, int, str, str, Any],
    rng: random.Random,
    today: date,
    recorded_by: UserAccount,
) -> None:
    _, _, sex, fitzpatrick, diagnosis, stage_field, stage = person
    age = (today - patient.date_of_birth).days // 365
    hair_loss: dict[str, Any] = {
        "working_diagnosis": diagnosis,
        "onset": "sudden" if diagnosis in {"alopecia_areata", "telogen_effluvium"} else "gradual",
        "duration_months": rng.choice([6, 12, 18, 24, 36, 60]),
        "diagnosed_by": "dermatologist",
        "scalp_findings": ["hair_diameter_variability"]
        if diagnosis == "androgenetic_alopecia"
        else ["none"],
    }
    if stage_field:
        hair_loss[stage_field] = stage
    patient_part: dict[str, Any] = {
        "age_years": age,
        "sex_at_birth": sex,
        "fitzpatrick": fitzpatrick,
    }
    if sex != "male":
        patient_part.update(pregnant=False, breastfeeding=False)
    history: dict[str, Any] = {
        "conditions": [],
        "active_scalp_conditions": [],
        "medications": [],
        "allergies": [],
    }
    history.update(_DEMO_HISTORY.get(number, {}))
    document = validate_intake(
        {
            "schema": "follicle.intake/1",
            "recorded_on": (today - timedelta(days=rng.randint(1, 120))).isoformat(),
            "patient": patient_part,
            "hair_loss": hair_loss,
            "history": history,
            "operator": {"credential": "dermatologist"},
        }
    )
    intake = Intake(
        id=new_id("ink"),
        clinic_id=clinic.id,
        patient_id=patient.id,
        document=document,
        working_diagnosis=diagnosis,
        recorded_on=date.fromisoformat(document["recorded_on"]),
        recorded_by_id=recorded_by.id,
    )
    session.add(intake)
    result = screen(document, default_settings(), as_of=today)
    session.add(
        ScreeningResult(
            id=new_id("scr"),
            clinic_id=clinic.id,
            patient_id=patient.id,
            intake_id=intake.id,
            decision=result.decision,
            result=result.as_contract(),
            rules_version=result.rules_version,
            screened_by_id=recorded_by.id,
        )
    )


def _today_appointments(
    session: Session,
    clinic: Clinic,
    rooms: list[Room],
    practitioners: list[UserAccount],
    today: date,
) -> None:
    zone = ZoneInfo(clinic.time_zone)
    patients = list(
        session.scalars(
            select(Patient).where(Patient.clinic_id == clinic.id).order_by(Patient.family_name)
        )
    )
    for slot in range(6):
        starts = datetime.combine(today, time(9, 0), zone) + timedelta(minutes=45 * slot)
        practitioner = practitioners[slot % 2]
        session.add(
            Appointment(
                id=new_id("apt"),
                clinic_id=clinic.id,
                patient_id=patients[slot].id,
                practitioner_id=practitioner.id,
                room_id=rooms[slot % 2].id,
                kind="consultation",
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
            )
        )


def _other_clinic(session: Session, password_hash: str) -> tuple[int, int]:
    clinic = _clinic(session, "Other Clinic", "other", "America/New_York", "+1 212 555 0142")
    session.add(Room(id=new_id("room"), clinic_id=clinic.id, name="Suite A"))
    _consent_texts(session, clinic)
    _user(session, clinic, "admin@other.follicle", "Olive Admin", "admin", password_hash)
    _user(
        session,
        clinic,
        "derm@other.follicle",
        "Dr Omar Derm",
        "practitioner",
        password_hash,
        credential="dermatologist",
    )
    patient = Patient(
        id=new_id("pat"),
        clinic_id=clinic.id,
        given_name="Otto",
        family_name="Elsewhere",
        date_of_birth=date(1985, 3, 14),
        sex_at_birth="male",
        email="patient1@other.follicle",
    )
    session.add(patient)
    session.flush()
    _user(
        session,
        clinic,
        "patient1@other.follicle",
        "Otto Elsewhere",
        "patient",
        password_hash,
        patient=patient,
    )
    return 3, 1


_CONSENT_BODIES = {
    "treatment": (
        "Scalp microneedling makes many tiny punctures in the scalp with fine needles. "
        "It is done by a qualified professional on a plan made for you. Possible effects "
        "include redness, swelling, pinpoint bleeding, discomfort, infection, changes in skin "
        "colour, scarring and temporary shedding. Results vary and are not guaranteed. You "
        "can stop at any time. [Synthetic demo text: each clinic publishes its own.]"
    ),
    "photo_use": (
        "We take standard photographs and magnified (trichoscopy) images of your scalp to "
        "measure your progress. They are kept in your clinical record and shown only to your "
        "care team and to you. You can withdraw this consent; earlier images stay in the "
        "record. [Synthetic demo text: each clinic publishes its own.]"
    ),
}
