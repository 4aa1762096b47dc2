"""Outcomes by indication: the catalogue's responder rule on each patient's site, the
patients' own latest answers, sessions and adverse events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from follicle.records.models import (
    AdverseEvent,
    Image,
    Intake,
    Measurement,
    PatientOutcome,
    Plan,
    ScreeningResult,
    SessionRecord,
    new_id,
)
from follicle.services.actors import Actor
from follicle.services.database import Database
from follicle.services.errors import Forbidden
from follicle.services.outcomes import clinic_outcomes, responders_by_indication
from tests.support.factories import make_clinic, make_patient, make_user
from tests.support.intakes import base_intake


def _patient(
    db: Database,
    clinic_id: str,
    indication: str,
    visits: list[list[float]],
    *,
    sessions: int = 0,
    events_serious: tuple[bool, ...] = (),
    answers: tuple[int, ...] = (),
) -> None:
    patient_id = make_patient(db, clinic_id)
    by = make_user(db, clinic_id)
    with db.transaction() as session:
        intake = Intake(
            id=new_id("ink"),
            clinic_id=clinic_id,
            patient_id=patient_id,
            document=base_intake(),
            working_diagnosis=indication,
            recorded_on=date(2026, 1, 5),
        )
        screening = ScreeningResult(
            id=new_id("scr"),
            clinic_id=clinic_id,
            patient_id=patient_id,
            intake_id=intake.id,
            decision="eligible",
            result={},
            rules_version="test",
        )
        plan = Plan(
            id=new_id("pln"),
            clinic_id=clinic_id,
            patient_id=patient_id,
            screening_id=screening.id,
            status="approved",
            document={},
            indication=indication,
            needle_depth_mm=0.6,
            interval_days=14,
            sessions_planned=12,
        )
        session.add_all([intake, screening])
        session.flush()
        session.add(plan)
        for month, densities in enumerate(visits, start=1):
            for density in densities:
                taken = datetime(2026, month * 3, 2, 10, tzinfo=UTC)
                image = Image(
                    id=new_id("img"),
                    clinic_id=clinic_id,
                    patient_id=patient_id,
                    content_sha256="0" * 64,
                    kind="trichoscopy",
                    site="vertex",
                    um_per_px=5.0,
                    media_type="image/png",
                    width_px=10,
                    height_px=10,
                    taken_at=taken,
                )
                session.add(image)
                session.flush()
                session.add(
                    Measurement(
                        id=new_id("msr"),
                        clinic_id=clinic_id,
                        patient_id=patient_id,
                        image_id=image.id,
                        site="vertex",
                        measured_at=taken,
                        hair_count=int(density / 2),
                        area_cm2=0.5,
                        density_per_cm2=density,
                        terminal_count=int(density / 2),
                        vellus_count=0,
                        vellus_threshold_um=30.0,
                        result={},
                        analyser_version="test",
                    )
                )
        for number in range(sessions):
            session.add(
                SessionRecord(
                    id=new_id("ses"),
                    clinic_id=clinic_id,
                    patient_id=patient_id,
                    plan_id=plan.id,
                    performed_by_id=by,
                    performed_at=datetime(2026, 4, 1 + number, 10, tzinfo=UTC),
                    device_name="Test pen",
                    cartridge_lot="L1",
                    cartridge_expiry=date(2027, 1, 1),
                    depth_mm_by_region={"vertex": 0.6},
                    endpoint="mild_erythema",
                    voided_at=datetime(2026, 5, 1, tzinfo=UTC) if number == 0 else None,
                )
            )
        for serious in events_serious:
            session.add(
                AdverseEvent(
                    id=new_id("ae"),
                    clinic_id=clinic_id,
                    patient_id=patient_id,
                    category="infection" if serious else "edema",
                    grade=3 if serious else 1,
                    serious=serious,
                    description="synthetic",
                    onset_on=date(2026, 4, 3),
                    reported_by_id=by,
                )
            )
        for day, change_score in enumerate(answers, start=1):
            session.add(
                PatientOutcome(
                    id=new_id("pro"),
                    clinic_id=clinic_id,
                    patient_id=patient_id,
                    answered_at=datetime(2026, 6, day, 10, tzinfo=UTC),
                    change_score=change_score,
                    recorded_by_id=by,
                )
            )


def test_each_patient_is_counted_once_under_their_indication(db: Database) -> None:
    clinic_id = make_clinic(db)
    # (each patient's first session here was voided: it does not count)
    _patient(
        db,
        clinic_id,
        "androgenetic_alopecia",
        [[150, 152, 148], [190, 188, 192]],
        sessions=4,
        events_serious=(False,),
        answers=(-1, 2),  # the latest answer counts
    )
    _patient(
        db,
        clinic_id,
        "androgenetic_alopecia",
        [[150, 152, 148], [151, 149, 150]],
        sessions=3,
        events_serious=(False, True),
        answers=(0,),
    )
    _patient(db, clinic_id, "androgenetic_alopecia", [[150], [190]])  # one image: cannot tell
    _patient(db, clinic_id, "alopecia_areata", [[100, 101, 99]])  # one visit: cannot tell
    practitioner = Actor("usr_x", clinic_id, "practitioner", "dermatologist")
    responded = {
        "indication": "androgenetic_alopecia",
        "patients_measured": 3,
        "responders": 1,
        "non_responders": 1,
        "undetermined": 1,
    }
    found = {row["indication"]: row for row in responders_by_indication(db, practitioner)}
    assert found["androgenetic_alopecia"] == responded
    assert found["alopecia_areata"]["undetermined"] == 1
    # The Outcomes page adds the patients' own view, the sessions and the adverse events.
    found = {row["indication"]: row for row in clinic_outcomes(db, practitioner)}
    assert found["androgenetic_alopecia"] == responded | {
        "patients_answered": 2,
        "said_increased": 1,
        "said_unchanged": 1,
        "said_decreased": 0,
        "sessions": 5,
        "adverse_events": 3,
        "serious_adverse_events": 1,
    }
    assert found["alopecia_areata"]["undetermined"] == 1
    assert found["alopecia_areata"]["sessions"] == 0
    desk = Actor("usr_y", clinic_id, "front_desk")
    for figures in (responders_by_indication, clinic_outcomes):
        with pytest.raises(Forbidden):
            figures(db, desk)
    other = Actor("usr_z", make_clinic(db, "Other"), "practitioner", "dermatologist")
    assert responders_by_indication(db, other) == clinic_outcomes(db, other) == []
