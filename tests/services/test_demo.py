"""The demo clinic: the logins the contract promises, today's appointments, idempotent."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from follicle.clinic.intake import validate_intake
from follicle.records.files import ImageStore
from follicle.records.models import (
    AdverseEvent,
    Appointment,
    AuditEntry,
    Base,
    Clinic,
    Image,
    Intake,
    Measurement,
    OutboxMessage,
    Patient,
    Plan,
    SessionRecord,
    UserAccount,
)
from follicle.services import appointment_requests, follow_up, schedule, worklist
from follicle.services.actors import cli_actor
from follicle.services.auth import actor_for
from follicle.services.database import Database
from follicle.services.demo import DEMO_PATIENTS, load_demo
from follicle.services.demo_journeys import FAINT_HAIR_REASON, OVEREXPOSED_REASON

EXPECTED_STAFF = {
    "admin@demo.follicle": ("admin", None, "demo"),
    "derm@demo.follicle": ("practitioner", "dermatologist", "demo"),
    "aesthetician@demo.follicle": ("practitioner", "licensed_aesthetician", "demo"),
    "desk@demo.follicle": ("front_desk", None, "demo"),
    "admin@other.follicle": ("admin", None, "other"),
    "derm@other.follicle": ("practitioner", "dermatologist", "other"),
    "patient1@other.follicle": ("patient", None, "other"),
}


def _counts(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
            if t.name != "audit_entry"
        }


def test_demo_has_every_contract_login(db: Database) -> None:
    assert load_demo(db, cli_actor()).created
    with db.transaction() as session:
        rows = session.execute(select(UserAccount, Clinic.slug).join(Clinic)).all()
    users = {user.email: (user.role, user.credential, slug) for user, slug in rows}
    for email, expected in EXPECTED_STAFF.items():
        assert users[email] == expected
    for number in range(1, DEMO_PATIENTS + 1):
        role, _, slug = users[f"patient{number}@demo.follicle"]
        assert (role, slug) == ("patient", "demo")
    assert all(user.patient_id for user, _ in rows if user.role == "patient")


def test_loading_twice_changes_nothing(db: Database) -> None:
    load_demo(db, cli_actor())
    first = _counts(db)
    assert not load_demo(db, cli_actor()).created
    assert _counts(db) == first


def test_today_always_has_appointments(db: Database) -> None:
    some_day = date(2027, 3, 28)  # the day the UK's clocks go forward
    load_demo(db, cli_actor(), today=some_day)
    with db.transaction() as session:
        derm = session.scalars(
            select(UserAccount).where(UserAccount.email == "derm@demo.follicle")
        ).one()
        actor = actor_for(derm)
    agenda = schedule.day_agenda(db, actor, some_day)
    assert len(agenda.items) >= 4
    assert agenda.items[0].starts_local.hour == 9  # local clinic time, across the DST change
    assert {item.practitioner_name for item in agenda.items} == {"Dr Dana Derm", "Ari Aesthetician"}


def test_demo_intakes_are_valid_contract_documents(db: Database) -> None:
    load_demo(db, cli_actor())
    with db.transaction() as session:
        intakes = session.scalars(select(Intake)).all()
    assert len(intakes) == DEMO_PATIENTS - 1
    for intake in intakes:
        validate_intake(intake.document)


def test_demo_patients_are_screened_across_the_range_of_decisions(db: Database) -> None:
    load_demo(db, cli_actor())
    with db.transaction() as session:
        derm = session.scalars(
            select(UserAccount).where(UserAccount.email == "derm@demo.follicle")
        ).one()
        actor = actor_for(derm)
    from follicle.services.patients import list_patients

    decisions = {p.screening_decision for p in list_patients(db, actor)}
    assert {"eligible", "eligible_with_cautions", "refer", "contraindicated", None} <= decisions
    # (the README's example of a search without accents)
    assert [p.family_name for p in list_patients(db, actor, "imaginario")] == ["Imaginário"]


def test_demo_patients_are_part_way_through_the_journey(db: Database, tmp_path: Path) -> None:
    load_demo(db, cli_actor(), store=ImageStore(tmp_path / "images"))
    with db.transaction() as session:
        statuses = sorted(session.scalars(select(Plan.status)))
        cyrus = session.scalars(select(Patient).where(Patient.given_name == "Cyrus")).one()
        counted = select(Measurement).where(
            Measurement.voided_at.is_(None), Measurement.patient_id == cyrus.id
        )
        counts = list(
            session.scalars(
                counted.with_only_columns(Measurement.hair_count).order_by(Measurement.measured_at)
            )
        )
        results = list(
            session.scalars(
                counted.with_only_columns(Measurement.result).order_by(Measurement.measured_at)
            )
        )
        voided = select(Measurement).where(
            Measurement.voided_at.is_not(None), Measurement.patient_id == cyrus.id
        )
        (set_aside,) = session.scalars(voided)
        set_aside_image = session.get(Image, set_aside.image_id)
        sessions_done = session.scalar(select(func.count(SessionRecord.id)))
        held = session.scalars(select(Plan).where(Plan.status == "on_hold")).one()
        series = list(
            session.scalars(
                select(Appointment.series_number)
                .where(Appointment.plan_id != held.id, Appointment.kind == "session")
                .order_by(Appointment.starts_at)
            )
        )
        events = list(
            session.scalars(
                select(AdverseEvent)
                .where(AdverseEvent.voided_at.is_(None))
                .order_by(AdverseEvent.serious.desc())
            )
        )
        voided_events = list(
            session.scalars(select(AdverseEvent).where(AdverseEvent.voided_at.is_not(None)))
        )
        stored = list(session.scalars(select(Image.content_sha256)))
        reviewed = list(
            session.scalars(
                select(OutboxMessage.patient_id).where(OutboxMessage.kind == "problem_reviewed")
            )
        )
        held_sessions = list(
            session.scalars(
                select(Appointment)
                .where(Appointment.plan_id == held.id, Appointment.status == "booked")
                .order_by(Appointment.starts_at)
            )
        )
        derm = actor_for(
            session.scalars(
                select(UserAccount).where(UserAccount.email == "derm@demo.follicle")
            ).one()
        )
    # His series, booked before the infection, stays in the diary marked as held.
    assert held_sessions
    day = held_sessions[0].starts_at.astimezone(ZoneInfo("Europe/London")).date()
    (his,) = [
        i
        for i in schedule.day_agenda(db, derm, day).items
        if i.appointment_id == held_sessions[0].id
    ]
    assert his.plan_on_hold
    # Patient 15 cancelled next week's consultation from the portal: the desk is to rebook it.
    work = worklist.worklist(db, derm)
    (cancelled,) = work.to_rebook
    assert cancelled.what.startswith("Cancelled consultation of ")
    assert "Away with work that week" in cancelled.detail
    # Patient 16 cancelled hers too, asking for another time: her request is on the list.
    (asked,) = work.asked_to_book
    assert asked.what.startswith("Asks for a consultation (")
    assert asked.detail.startswith("suits them: Any weekday after 4 pm")
    # Patient 17 asked for a consultation from the portal; booking one answered it.
    with db.transaction() as session:
        patient17 = session.scalars(
            select(Patient.id).where(Patient.email == "patient17@demo.follicle")
        ).one()
    (answered,) = appointment_requests.list_for_patient(db, derm, patient17)
    assert (answered["status"], answered["preferred_times"]) == (
        "booked",
        "Thursday afternoons (synthetic)",
    )
    assert answered["booked_appointment_id"]
    # Patients 3 and 10 chose education in their portal, and only they were sent the guide.
    with db.transaction() as session:
        taught = session.scalars(
            select(Patient.email)
            .join(OutboxMessage, OutboxMessage.patient_id == Patient.id)
            .where(OutboxMessage.kind == "education")
        ).all()
    assert sorted(taught) == ["patient10@demo.follicle", "patient3@demo.follicle"]
    assert statuses == ["approved", "approved", "approved", "on_hold", "proposed", "stopped"]
    assert sessions_done == 6
    assert len(counts) == 6  # three images of the vertex site at baseline and at follow-up
    assert sum(counts[3:]) > sum(counts[:3])  # the synthetic follow-up has more hairs
    # one baseline image was saved by a phone as JPEG with its colour at half resolution
    assert [len(r.get("image_warnings", [])) for r in results] == [0, 0, 1, 0, 0, 0]
    # Emeka's infection holds his plan; Lena's "very severe" shedding, reported from the
    # portal, was graded mild by the dermatologist, and her plan went on.
    assert [(e.category, e.serious) for e in events] == [
        ("infection", True),
        ("hair_shedding", False),
    ]
    assert held.hold_reason is not None
    assert events[0].id in held.hold_reason
    assert (events[1].reported_grade, events[1].grade, events[1].status) == (4, 1, "open")
    assert events[1].reported_by_id != events[1].graded_by_id
    assert reviewed == [events[1].patient_id]  # (she was told the clinic reviewed it)
    # One typed on Hana's chart by mistake was voided, with the reason.
    assert [(e.category, e.void_reason is not None) for e in voided_events] == [("bleeding", True)]
    assert 4 in series  # the course under way books from session 4 on
    # a seventh, overexposed, warned of at upload and set aside with the reason
    assert "is overexposed" in set_aside.result["image_warnings"][0]
    assert set_aside_image is not None
    assert set_aside.void_reason == set_aside_image.void_reason == OVEREXPOSED_REASON
    assert len(stored) == 11  # seven trichoscopy images and two photos; Bea's two (below)
    assert all((tmp_path / "images" / sha[:2]).is_dir() for sha in stored)


def test_a_demo_baseline_of_blond_hair_was_warned_of_and_taken_again_dyed(
    db: Database, tmp_path: Path
) -> None:
    load_demo(db, cli_actor(), store=ImageStore(tmp_path / "images"))
    with db.transaction() as session:
        bea = session.scalars(select(Patient).where(Patient.given_name == "Bea")).one()
        faint, dyed = session.scalars(
            select(Measurement)
            .where(Measurement.patient_id == bea.id)
            .order_by(Measurement.measured_at)
        )
        assert faint.void_reason == FAINT_HAIR_REASON
        assert dyed.voided_at is None
        faint_warnings = faint.result["image_warnings"]
        dyed_warnings = dyed.result.get("image_warnings", [])
        faint_count, dyed_count = faint.hair_count, dyed.hair_count
    assert len(faint_warnings) == 1
    assert faint_warnings[0].startswith("shows its hairs only faintly")
    assert dyed_warnings == []
    # the same hairs, dyed: the faint image had missed a good share of them
    assert faint_count < 0.85 * dyed_count


def test_demo_history_reads_in_order_and_a_review_is_due(db: Database, tmp_path: Path) -> None:
    today = date(2026, 11, 26)
    load_demo(db, cli_actor(), today=today, store=ImageStore(tmp_path / "images"))
    with db.transaction() as session:
        for plan in session.scalars(select(Plan).where(Plan.approved_at.is_not(None))):
            first = session.scalar(
                select(func.min(SessionRecord.performed_at)).where(SessionRecord.plan_id == plan.id)
            )
            assert plan.approved_at is not None
            if first is not None:
                assert plan.approved_at < first
        due = [
            p.review_on
            for p in session.scalars(select(Plan).where(Plan.status == "approved"))
            if p.review_on is not None and p.review_on <= today + timedelta(days=7)
        ]
    assert due


def test_the_demo_follow_up_is_measured_hair_by_hair(db: Database, tmp_path: Path) -> None:
    load_demo(db, cli_actor(), store=ImageStore(tmp_path / "images"))
    with db.transaction() as session:
        cyrus = session.scalars(select(Patient).where(Patient.given_name == "Cyrus")).one()
    found = follow_up.follow_up(db, cli_actor(), cyrus.id)["sites"]["vertex"]["hair_by_hair"]
    # the three follow-up images against the three baseline ones (the overexposed fourth
    # was set aside); the synthetic follow-up has about a fifth more hairs
    assert found["pairs"] == 9
    assert found["not_compared"] == []
    assert found["new"] > found["lost"]
    assert 10 <= found["change_pct"] <= 45


def test_a_demo_plan_was_stopped_and_its_booked_sessions_cancelled(
    db: Database, tmp_path: Path
) -> None:
    load_demo(db, cli_actor(), store=ImageStore(tmp_path / "images"))
    with db.transaction() as session:
        stopped = session.scalars(select(Plan).where(Plan.status == "stopped")).one()
        booked = session.scalars(select(Appointment).where(Appointment.plan_id == stopped.id))
        statuses = {a.status for a in booked}
        patient = session.get(Patient, stopped.patient_id)
    assert patient is not None
    assert patient.email == "patient18@demo.follicle"
    assert stopped.stop_reason == "moving abroad; continues her care with a clinic there"
    assert statuses == {"cancelled"}


def test_a_demo_patients_new_phone_number_was_corrected_and_the_old_one_kept(
    db: Database, tmp_path: Path
) -> None:
    load_demo(db, cli_actor(), store=ImageStore(tmp_path / "images"))
    with db.transaction() as session:
        hana = session.scalars(select(Patient).where(Patient.email == "patient8@demo.follicle"))
        patient = hana.one()
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "patient.update", AuditEntry.resource_id == patient.id
            )
        ).one()
    assert (patient.phone, patient.version) == ("+44 7700 900808", 2)
    assert entry.detail["changed"] == {"phone": {"from": "+44 7700 900008", "to": patient.phone}}
