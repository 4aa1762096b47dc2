"""Clinic outcomes by indication: how many patients responded, by the catalogue's responder
rule applied to each patient's longest-followed site (the same rule the plan review uses); how
the patients themselves see the change (each one's latest answer, never scored against the
measurement); and how many sessions and adverse events it took."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from itertools import groupby
from typing import Any, TypeVar

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.progress import Visit, responder, site_change
from follicle.records.models import (
    AdverseEvent,
    Measurement,
    PatientOutcome,
    Plan,
    SessionRecord,
)
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.common import audit_read
from follicle.services.database import Database


@dataclass
class IndicationResponse:
    indication: str
    patients_measured: int = 0
    responders: int = 0
    non_responders: int = 0
    undetermined: int = 0  # one visit, or one image per visit


@dataclass
class IndicationOutcome(IndicationResponse):
    patients_answered: int = 0  # the patient-outcome question, latest answer each
    said_increased: int = 0
    said_unchanged: int = 0
    said_decreased: int = 0
    sessions: int = 0
    adverse_events: int = 0
    serious_adverse_events: int = 0


def responders_by_indication(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """The responder rule's verdicts by indication (the API's daily figure)."""
    authorize(actor, Permission.FOLLOW_UP_READ, clinic_id=actor.clinic_id)
    with db.transaction() as session:
        indications = _indications(session, actor)
        tally: dict[str, IndicationResponse] = {}
        _count_responders(session, actor, indications, tally, IndicationResponse)
        audit_read(session, actor, "outcomes.responders", "clinic", actor.clinic_id or "", [])
    return [asdict(tally[k]) for k in sorted(tally)]


def clinic_outcomes(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """The Outcomes page: the responders, each patient's latest answer, and the sessions and
    adverse events, by the indication of the patient's latest plan."""
    authorize(actor, Permission.FOLLOW_UP_READ, clinic_id=actor.clinic_id)
    with db.transaction() as session:
        indications = _indications(session, actor)
        tally: dict[str, IndicationOutcome] = {}

        def outcome_of(patient_id: str) -> IndicationOutcome:
            indication = indications.get(patient_id, "no_plan")
            return tally.setdefault(indication, IndicationOutcome(indication))

        _count_responders(session, actor, indications, tally, IndicationOutcome)
        for patient_id, change_score in _latest_answers(session, actor).items():
            outcome = outcome_of(patient_id)
            outcome.patients_answered += 1
            if change_score > 0:
                outcome.said_increased += 1
            elif change_score < 0:
                outcome.said_decreased += 1
            else:
                outcome.said_unchanged += 1
        for patient_id, sessions, _ in _per_patient(session, SessionRecord, actor):
            outcome_of(patient_id).sessions += sessions
        for patient_id, events, serious in _per_patient(session, AdverseEvent, actor):
            outcome = outcome_of(patient_id)
            outcome.adverse_events += events
            outcome.serious_adverse_events += serious
        audit_read(session, actor, "outcomes.read", "clinic", actor.clinic_id or "", [])
    return [asdict(tally[k]) for k in sorted(tally)]


def _indications(session: Session, actor: Actor) -> dict[str, str]:
    """Each patient's indication, from their latest plan."""
    return dict(
        session.execute(
            select(Plan.patient_id, Plan.indication)
            .where(Plan.clinic_id == actor.clinic_id, Plan.voided_at.is_(None))
            .order_by(Plan.created_at)  # the latest plan wins
        ).all()
    )


Row = TypeVar("Row", bound=IndicationResponse)


def _count_responders(
    session: Session,
    actor: Actor,
    indications: dict[str, str],
    tally: dict[str, Row],
    row: Callable[[str], Row],
) -> None:
    """The responder rule on each patient's longest-followed site, counted into ``tally``."""
    rule = load_catalogue().responder
    # Core rows, the day computed by the database: thousands of measurements a clinic,
    # no ORM objects or datetimes needed (bench/bench_scale.py).
    rows = session.connection().execute(
        select(
            Measurement.patient_id,
            func.coalesce(Measurement.site, ""),
            func.date(Measurement.measured_at),
            Measurement.density_per_cm2,
        )
        .where(Measurement.clinic_id == actor.clinic_id, Measurement.voided_at.is_(None))
        .order_by(Measurement.patient_id, Measurement.site, Measurement.measured_at)
    )
    longest: dict[str, list[Visit]] = {}
    for (patient_id, _site), site_rows in groupby(rows, key=lambda r: (r[0], r[1])):
        visits = [
            Visit(date.fromisoformat(str(day)[:10]), {"density": [r[3] for r in day_rows]})
            for day, day_rows in groupby(site_rows, key=lambda r: r[2])
        ]
        if len(visits) > len(longest.get(patient_id, [])):
            longest[patient_id] = visits
    for patient_id, visits in longest.items():
        indication = indications.get(patient_id, "no_plan")
        outcome = tally.setdefault(indication, row(indication))
        outcome.patients_measured += 1
        verdict = responder(site_change(visits, "density"), rule).responder
        if verdict is None:
            outcome.undetermined += 1
        elif verdict:
            outcome.responders += 1
        else:
            outcome.non_responders += 1


def _latest_answers(session: Session, actor: Actor) -> dict[str, int]:
    """Each patient's latest answer to the patient-outcome question."""
    latest: dict[str, int] = {}
    for patient_id, change_score in session.execute(
        select(PatientOutcome.patient_id, PatientOutcome.change_score)
        .where(PatientOutcome.clinic_id == actor.clinic_id)
        .order_by(PatientOutcome.answered_at, PatientOutcome.id)
    ).all():
        latest[patient_id] = change_score
    return latest


def _per_patient(
    session: Session, model: type[SessionRecord] | type[AdverseEvent], actor: Actor
) -> list[tuple[str, int, int]]:
    """How many live (not voided) records of a kind each patient has, and how many of those
    are serious adverse events (0 for sessions), in one pass over the table."""
    serious = (
        func.sum(case((AdverseEvent.serious.is_(True), 1), else_=0))
        if model is AdverseEvent
        else literal(0)
    )
    return [
        (patient_id, count, int(grave or 0))
        for patient_id, count, grave in session.execute(
            select(model.patient_id, func.count(model.id), serious)
            .where(model.clinic_id == actor.clinic_id, model.voided_at.is_(None))
            .group_by(model.patient_id)
        ).all()
    ]
