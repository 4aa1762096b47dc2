"""A practitioner grades a reported adverse event, or voids one entered wrongly (on both
backends): the report is kept as first made, a voided event is kept and shown as such, and the
plan is on hold exactly while a serious event is open."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from follicle.clinic.errors import InputInvalid
from follicle.records.models import AuditEntry, OutboxMessage
from follicle.services import adverse_events, chart, plans, portal, worklist
from follicle.services.actors import Actor
from follicle.services.commands import (
    AdverseEventClearance,
    AdverseEventGrading,
    AdverseEventReport,
    AdverseEventVoid,
)
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotFound, NotNow, StaleVersion
from tests.services.test_care_rules import Clinicians
from tests.services.test_patient_details import _actor
from tests.support.factories import make_clinic


def _report(clinic: Clinicians, actor: Actor, category: str, grade: int) -> dict[str, object]:
    return adverse_events.report(
        clinic.db,
        actor,
        clinic.patient_id,
        AdverseEventReport(
            category=category, grade=grade, description="synthetic", onset_on=date.today()
        ),
    )


def _grade(
    clinic: Clinicians, event: dict[str, object], category: str, grade: int, note: str
) -> dict[str, object]:
    return adverse_events.grade(
        clinic.db,
        clinic.derm,
        clinic.patient_id,
        str(event["id"]),
        AdverseEventGrading(category=category, grade=grade, note=note),
        int(event["version"]),  # type: ignore[call-overload]
    )


def _plan_status(clinic: Clinicians, plan: dict[str, object]) -> tuple[str, str | None]:
    found = plans.read_plan(clinic.db, clinic.derm, clinic.patient_id, str(plan["id"]))
    return found["status"], found["hold_reason"]


def test_a_patients_very_severe_report_graded_mild_resumes_the_plan_and_keeps_the_report(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    plan = clinic.approved_plan()
    herself = _actor(db, clinic.clinic_id, "patient", patient_id=clinic.patient_id)
    reported = _report(clinic, herself, "hair_shedding", 4)
    assert reported["plans_held"] == [plan["id"]]

    graded = _grade(clinic, reported, "hair_shedding", 1, "telogen shedding, expected; reassured")

    assert (graded["category"], graded["grade"], graded["serious"]) == ("hair_shedding", 1, False)
    assert (graded["reported_category"], graded["reported_grade"]) == ("hair_shedding", 4)
    assert graded["graded_by"] == clinic.derm.user_id
    assert graded["grading_note"] == "telogen shedding, expected; reassured"
    assert graded["status"] == "open"  # (graded, not cleared)
    assert (graded["plans_held"], graded["plans_resumed"]) == ([], [plan["id"]])
    assert _plan_status(clinic, plan) == ("approved", None)
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "adverse_event.grade")
        ).one()
    assert entry.detail["from"] == {"category": "hair_shedding", "grade": 4, "serious": True}
    assert entry.detail["to"] == {"category": "hair_shedding", "grade": 1, "serious": False}
    assert entry.detail["resumed"] == [plan["id"]]

    # Graded again, it still shows the report as the patient made it.
    again = _grade(clinic, graded, "other", 1, "scalp itch, not shedding")
    assert (again["reported_category"], again["reported_grade"]) == ("hair_shedding", 4)
    assert (again["category"], again["plans_resumed"]) == ("other", [])


def test_graded_serious_an_event_holds_the_plan_and_its_hold_says_the_grade_now(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    plan = clinic.approved_plan()
    reported = _report(clinic, clinic.aest, "erythema_prolonged", 2)
    assert reported["plans_held"] == []

    graded = _grade(clinic, reported, "infection", 2, "pustules; swab taken")

    assert graded["serious"] is True
    assert graded["plans_held"] == [plan["id"]]
    held_for = f"serious adverse event {reported['id']}: "
    assert _plan_status(clinic, plan) == ("on_hold", held_for + "infection, grade 2")

    worse = _grade(clinic, graded, "infection", 3, "cellulitis; oral antibiotics")
    assert (worse["plans_held"], worse["plans_resumed"]) == ([], [])
    assert _plan_status(clinic, plan) == ("on_hold", held_for + "infection, grade 3")


def test_graded_not_serious_while_another_serious_event_is_open_the_plan_stays_held(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    plan = clinic.approved_plan()
    first = _report(clinic, clinic.derm, "pain", 3)
    _report(clinic, clinic.derm, "scarring", 1)

    graded = _grade(clinic, first, "pain", 2, "settled with paracetamol")

    assert graded["plans_resumed"] == []
    assert _plan_status(clinic, plan)[0] == "on_hold"


def test_grading_refuses_no_change_a_cleared_event_a_stale_version_and_who_may_not(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    reported = _report(clinic, clinic.derm, "edema", 1)
    with pytest.raises(InputInvalid, match="already edema, grade 1") as refused:
        _grade(clinic, reported, "edema", 1, "no change")
    assert refused.value.errors[0].pointer == "/grade"
    with pytest.raises(StaleVersion):
        adverse_events.grade(
            db,
            clinic.derm,
            clinic.patient_id,
            str(reported["id"]),
            AdverseEventGrading(category="edema", grade=2, note="worse"),
            int(reported["version"]) + 1,  # type: ignore[call-overload]
        )
    grading = AdverseEventGrading(category="edema", grade=2, note="worse")
    for actor in (
        _actor(db, clinic.clinic_id, "front_desk"),
        _actor(db, clinic.clinic_id, "admin"),
        _actor(db, clinic.clinic_id, "patient", patient_id=clinic.patient_id),
    ):
        with pytest.raises(Forbidden):
            adverse_events.grade(db, actor, clinic.patient_id, str(reported["id"]), grading, 1)
    elsewhere = _actor(db, make_clinic(db, "Elsewhere"), "practitioner")
    with pytest.raises(NotFound):
        adverse_events.grade(db, elsewhere, clinic.patient_id, str(reported["id"]), grading, 1)
    cleared = adverse_events.clear(
        db,
        clinic.derm,
        clinic.patient_id,
        str(reported["id"]),
        AdverseEventClearance(note="resolved"),
        int(reported["version"]),  # type: ignore[call-overload]
    )
    with pytest.raises(NotNow, match="already cleared"):
        _grade(clinic, cleared, "edema", 2, "worse")
    (event,) = adverse_events.list_events(db, clinic.derm, clinic.patient_id)
    assert (event["grade"], event["graded_at"], event["reported_grade"]) == (1, None, 1)


def test_a_serious_event_entered_on_the_wrong_chart_is_voided_and_the_plan_resumes(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    plan = clinic.approved_plan()
    wrong = _report(clinic, clinic.derm, "infection", 2)
    kept = _report(clinic, clinic.derm, "pain", 1)
    assert _plan_status(clinic, plan)[0] == "on_hold"
    void = AdverseEventVoid(reason="entered on the wrong patient's chart")
    for actor in (
        _actor(db, clinic.clinic_id, "front_desk"),
        _actor(db, clinic.clinic_id, "patient", patient_id=clinic.patient_id),
    ):
        with pytest.raises(Forbidden):
            adverse_events.void_event(db, actor, clinic.patient_id, str(wrong["id"]), void)
    elsewhere = _actor(db, make_clinic(db, "Elsewhere"), "practitioner")
    with pytest.raises(NotFound):
        adverse_events.void_event(db, elsewhere, clinic.patient_id, str(wrong["id"]), void)

    voided = adverse_events.void_event(db, clinic.aest, clinic.patient_id, str(wrong["id"]), void)

    assert voided["plans_resumed"] == [plan["id"]]
    assert _plan_status(clinic, plan) == ("approved", None)
    listed = adverse_events.list_events(db, clinic.derm, clinic.patient_id)
    assert [e["id"] for e in listed] == [kept["id"]]
    # Voided, it is not found to grade, clear or void again...
    with pytest.raises(NotFound):
        _grade(clinic, wrong, "infection", 3, "worse")
    with pytest.raises(NotFound):
        adverse_events.void_event(db, clinic.derm, clinic.patient_id, str(wrong["id"]), void)
    # ...but the chart still shows it, struck through, with who voided it and why.
    shown = chart.patient_chart(db, clinic.derm, clinic.patient_id)
    assert [e["id"] for e in shown.events] == [kept["id"]]
    assert [(v["id"], v["voided_by"], v["reason"]) for v in shown.voided] == [
        (wrong["id"], clinic.aest.user_id, void.reason)
    ]
    assert shown.voided[0]["what"].startswith("Adverse event: infection, grade 2")
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "adverse_event.void")
        ).one()
        read = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "chart.read")
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert entry.detail == {
        "patient_id": clinic.patient_id,
        "reason": void.reason,
        "resumed": [plan["id"]],
    }
    assert read is not None
    assert wrong["id"] in read.detail["ids"]  # (what the chart showed, voided too)


def test_voiding_one_of_two_serious_events_keeps_the_plan_held(db: Database) -> None:
    clinic = Clinicians(db)
    plan = clinic.approved_plan()
    twice = [_report(clinic, clinic.derm, "scarring", 1) for _ in range(2)]
    void = AdverseEventVoid(reason="entered twice")
    voided = adverse_events.void_event(
        db, clinic.derm, clinic.patient_id, str(twice[1]["id"]), void
    )
    assert voided["plans_resumed"] == []
    assert _plan_status(clinic, plan)[0] == "on_hold"


def test_the_portal_shows_the_patient_their_problems_and_whether_the_clinic_saw_them(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    herself = _actor(db, clinic.clinic_id, "patient", patient_id=clinic.patient_id)
    mine = _report(clinic, herself, "hair_shedding", 2)
    theirs = _report(clinic, clinic.derm, "pain", 1)
    typo = _report(clinic, clinic.derm, "edema", 1)
    adverse_events.void_event(
        db, clinic.derm, clinic.patient_id, str(typo["id"]), AdverseEventVoid(reason="typo")
    )

    def shown() -> dict[object, tuple[object, ...]]:
        problems = portal.portal_home(db, herself).problems
        return {p["id"]: (p["category"], p["by_you"], p["status"]) for p in problems}

    assert shown() == {
        mine["id"]: ("hair_shedding", True, "received"),
        theirs["id"]: ("pain", False, "received"),
    }
    graded = _grade(clinic, mine, "other", 1, "itch from the shampoo, not shedding")
    # (in the words she reported it in; the clinic's note is not shown)
    assert shown()[mine["id"]] == ("hair_shedding", True, "reviewed")
    adverse_events.clear(
        db,
        clinic.derm,
        clinic.patient_id,
        str(mine["id"]),
        AdverseEventClearance(note="settled"),
        int(graded["version"]),  # type: ignore[call-overload]
    )
    assert shown()[mine["id"]] == ("hair_shedding", True, "closed")
    with db.transaction() as session:
        viewed = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "portal.view")
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert viewed is not None
    assert sorted(viewed.detail["adverse_events"]) == sorted([mine["id"], theirs["id"]])


def test_the_worklist_marks_a_patients_own_report_until_a_practitioner_grades_it(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    herself = _actor(db, clinic.clinic_id, "patient", patient_id=clinic.patient_id)
    mine = _report(clinic, herself, "pain", 2)
    _report(clinic, clinic.derm, "edema", 1)

    def listed() -> list[str]:
        return sorted(item.what for item in worklist.worklist(db, clinic.derm).open_events)

    assert listed() == ["edema, grade 1", "pain, grade 2" + worklist.TO_GRADE]
    _grade(clinic, mine, "pain", 1, "tender for a day; settled")
    assert listed() == ["edema, grade 1", "pain, grade 1"]


def _told(db: Database) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "problem_reviewed")
                .order_by(OutboxMessage.created_at)
            )
        )


def test_a_patient_who_reported_a_problem_is_told_the_clinic_reviewed_it(
    db: Database,
) -> None:
    clinic = Clinicians(db)
    clinic.approved_plan()
    herself = _actor(db, clinic.clinic_id, "patient", patient_id=clinic.patient_id)
    reported = _report(clinic, herself, "hair_shedding", 4)  # (holds the plan)
    assert _told(db) == []
    graded = _grade(clinic, reported, "hair_shedding", 1, "telogen shedding, expected")
    (first,) = _told(db)
    assert first.patient_id == clinic.patient_id
    assert first.subject == "Your clinic has reviewed the problem you reported"
    assert "Your treatment can go on as planned." in first.body_text
    # the email says nothing clinical: the portal, behind a sign-in, has the rest
    for private in ("shedding", "synthetic", "telogen", "grade"):
        assert private not in first.body_text.lower()
    adverse_events.clear(
        db,
        clinic.derm,
        clinic.patient_id,
        str(reported["id"]),
        AdverseEventClearance(note="settled"),
        int(graded["version"]),  # type: ignore[call-overload]
    )
    assert len(_told(db)) == 2  # (cleared: told again)
    # Graded serious, the patient is told the treatment stays paused.
    again = _report(clinic, herself, "erythema_prolonged", 1)
    _grade(clinic, again, "infection", 2, "pustules")
    assert "Your treatment stays paused for now" in _told(db)[-1].body_text
    # An event the clinic recorded is the clinician's to tell.
    staff = _report(clinic, clinic.aest, "edema", 1)
    _grade(clinic, staff, "edema", 2, "more swelling than first noted")
    assert len(_told(db)) == 3
