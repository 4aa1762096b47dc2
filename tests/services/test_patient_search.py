"""The patient search agrees with the records it summarises: the latest decision that was not
voided, and the portal account's state, for every patient of the demo clinic."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from follicle.records import migrate
from follicle.records.db import make_engine
from follicle.records.files import ImageStore
from follicle.records.models import (
    AuditEntry,
    Patient,
    ScreeningResult,
    UserAccount,
    new_id,
    utcnow,
)
from follicle.services.accounts import account_status
from follicle.services.actors import cli_actor
from follicle.services.auth import actor_for
from follicle.services.commands import NewPatient
from follicle.services.database import Database
from follicle.services.demo import load_demo
from follicle.services.patients import PossibleDuplicate, create_patient, list_patients
from tests.support.factories import make_clinic, make_patient, make_user


def test_search_shows_each_patients_latest_decision_and_portal_state(
    db: Database, tmp_path: Path
) -> None:
    load_demo(db, cli_actor(), store=ImageStore(tmp_path / "images"))
    with db.transaction() as session:
        derm = session.scalars(
            select(UserAccount).where(UserAccount.email == "derm@demo.follicle")
        ).one()
        actor = actor_for(derm)
        screened = session.scalars(
            select(ScreeningResult).order_by(ScreeningResult.created_at.desc())
        ).first()  # the latest result of its patient
        assert screened is not None
        # A newer result that was voided must not count; a deactivated account shows as such.
        session.add(
            ScreeningResult(
                id=new_id("scr"),
                clinic_id=screened.clinic_id,
                patient_id=screened.patient_id,
                intake_id=screened.intake_id,
                decision="contraindicated" if screened.decision != "contraindicated" else "defer",
                result={},
                rules_version="test",
                created_at=utcnow() + timedelta(days=1),
                voided_at=utcnow(),
                void_reason="entered on the wrong patient",
            )
        )
        portal_user = session.scalars(
            select(UserAccount).where(UserAccount.patient_id.is_not(None))
        ).first()
        assert portal_user is not None
        portal_user.active = False

    with db.transaction() as session:
        expected = {}
        for patient in session.scalars(select(Patient).where(Patient.clinic_id == actor.clinic_id)):
            results = session.scalars(
                select(ScreeningResult)
                .where(ScreeningResult.patient_id == patient.id)
                .where(ScreeningResult.voided_at.is_(None))
                .order_by(ScreeningResult.created_at, ScreeningResult.id)
            ).all()
            account = session.scalars(
                select(UserAccount).where(UserAccount.patient_id == patient.id)
            ).first()
            expected[patient.id] = (
                results[-1].decision if results else None,
                account_status(account),
            )

    found = {p.id: (p.screening_decision, p.portal) for p in list_patients(db, actor)}
    assert found == expected
    assert found[screened.patient_id][0] == screened.decision
    assert found[portal_user.patient_id or ""][1] == "deactivated"
    portals = {portal for _, portal in found.values()}
    assert {"none", "deactivated"} <= portals


def test_names_are_found_without_case_or_accents_in_either_order(db: Database) -> None:
    # (on SQLite, "muller" found no Müller and "анна" no Анна: its LIKE folds ASCII only)
    clinic_id = make_clinic(db)
    user_id = make_user(db, clinic_id, role="front_desk")
    with db.transaction() as session:
        user = session.get(UserAccount, user_id)
        assert user is not None
        actor = actor_for(user)
    names = {
        make_patient(db, clinic_id, "Müller", "Émile"): "Müller",
        make_patient(db, clinic_id, "Wójcik", "Łukasz"): "Wójcik",
        make_patient(db, clinic_id, "Иванова", "Анна"): "Иванова",
        make_patient(db, clinic_id, "Straße", "Zoë"): "Straße",
        make_patient(db, clinic_id, "100%_Literal", "Pat"): "100%_Literal",
        make_patient(db, clinic_id, "王", "芳"): "王",
        make_patient(db, clinic_id, "Özil", "Mesut"): "Özil",
        make_patient(db, clinic_id, "de Vries", "Anouk"): "de Vries",
        make_patient(db, clinic_id, "Zorn", "Anders"): "Zorn",
    }

    def found(typed: str) -> set[str]:
        return {names[p.id] for p in list_patients(db, actor, typed)}

    assert found("muller") == found("MÜLLER") == found("  Mul ") == {"Müller"}
    assert found("emile") == found("ÉMILE") == {"Müller"}
    assert found("lukasz wojcik") == found("Wójcik, Łukasz") == {"Wójcik"}
    assert found("анна") == found("ИВАНОВА") == found("иванова анна") == {"Иванова"}
    assert found("strasse") == found("STRASSE") == found("zoe") == {"Straße"}
    assert found("王") == {"王"}
    assert found("0%_l") == {"100%_Literal"}  # % and _ are letters, not wildcards
    assert found("müller émile") == {"Müller"}  # family name first, as the list shows it
    assert found("0%l") == found("emile wojcik") == set()
    assert len(found("")) == len(names)
    # Sorted by family name as people read it: Müller among the M's, not after Wójcik (a
    # byte order put every accented initial, and "de Vries", after Z).
    listed = [names[p.id] for p in list_patients(db, actor)]
    assert listed == [
        "100%_Literal",
        "de Vries",
        "Müller",
        "Özil",
        "Straße",
        "Wójcik",
        "Zorn",
        "Иванова",
        "王",
    ]


def test_a_patients_search_name_follows_their_name(db: Database) -> None:
    clinic_id = make_clinic(db)
    patient_id = make_patient(db, clinic_id, "Ørsted", "Åse")
    with db.transaction() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        assert patient.search_name == "orsted ase\nase orsted"
        patient.family_name = "Lindqvist"  # (a correction, through the ORM as every write is)
    with db.transaction() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        assert patient.search_name == "lindqvist ase\nase lindqvist"


def test_the_migration_gives_existing_patients_their_search_name(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'follicle.db'}")
    try:
        migrate.upgrade(engine, "0009")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO clinic (id, name, slug, time_zone, settings, created_at, "
                    "updated_at, version) VALUES ('cln_1', 'C', 'c', 'UTC', '{}', "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO patient (id, clinic_id, given_name, family_name, date_of_birth, "
                    "sex_at_birth, created_at, updated_at, version) VALUES ('pat_1', 'cln_1', "
                    "'Zoë', 'Núñez', '1990-01-01', 'female', '2026-01-01 00:00:00', "
                    "'2026-01-01 00:00:00', 1)"
                )
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT search_name FROM patient")).scalar_one()
        assert stored == "nunez zoe\nzoe nunez"
    finally:
        engine.dispose()


def test_registering_a_patient_twice_is_caught_unless_confirmed(db: Database) -> None:
    clinic_id = make_clinic(db)
    other_clinic = make_clinic(db, "Elsewhere")
    with db.transaction() as session:
        user = session.get(UserAccount, make_user(db, clinic_id, role="front_desk"))
        assert user is not None
        desk = actor_for(user)

    def register(given: str, family: str, born: date, **more: bool) -> dict[str, object]:
        return create_patient(
            db,
            desk,
            NewPatient(
                given_name=given,
                family_name=family,
                date_of_birth=born,
                sex_at_birth="female",
                **more,
            ),
        )

    first = register("Zoë", "Núñez", date(1985, 3, 4))
    for given, family in (("zoe", "NUNEZ"), ("Núñez", "Zoë")):  # case, accents, names swapped
        with pytest.raises(PossibleDuplicate) as caught:
            register(given, family, date(1985, 3, 4))
        assert caught.value.patient_id == first["id"]
        assert [e.pointer for e in caught.value.errors] == ["/not_a_duplicate"]
        assert "Zoë Núñez, born 1985-03-04, is registered already" in str(caught.value)
    with db.transaction() as session:  # (each refusal showed who is registered: audited)
        shown = session.scalars(
            select(AuditEntry.resource_id).where(AuditEntry.action == "patient.duplicate_shown")
        ).all()
    assert shown == [first["id"], first["id"]]
    # Not the same: another date of birth, another name, a patient of another clinic.
    register("Zoë", "Núñez", date(1985, 3, 5))
    register("Zoë Ana", "Núñez", date(1985, 3, 4))
    make_patient(db, other_clinic, "Ibarra", "Iker")
    with db.transaction() as session:
        elsewhere = session.scalars(select(Patient).where(Patient.family_name == "Ibarra")).one()
        elsewhere.date_of_birth = date(1990, 1, 2)
    register("Iker", "Ibarra", date(1990, 1, 2))
    # Confirmed as another person with the same name and birthday: a second chart.
    second = register("Zoë", "Núñez", date(1985, 3, 4), not_a_duplicate=True)
    assert second["id"] != first["id"]
    with db.transaction() as session:
        count = session.scalars(
            select(Patient.id).where(Patient.clinic_id == clinic_id, Patient.family_name == "Núñez")
        ).all()
    assert len(count) == 4  # (the first, two who differ, the confirmed second)
