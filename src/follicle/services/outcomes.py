"""Clinic outcomes: how many patients responded, by indication, by the catalogue's responder
rule applied to each patient's longest-followed site (the same rule the plan review uses)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import func, select

from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.progress import Visit, responder, site_change
from follicle.records.models import Measurement, Plan
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.common import audit_read
from follicle.services.database import Database


@dataclass
class IndicationOutcome:
    indication: str
    patients_measured: int = 0
    responders: int = 0
    non_responders: int = 0
    undetermined: int = 0  # one visit, or one image per visit


def responders_by_indication(db: Database, actor: Actor) -> list[dict[str, Any]]:
    authorize(actor, Permission.FOLLOW_UP_READ, clinic_id=actor.clinic_id)
    rule = load_catalogue().responder
    with db.transaction() as session:
        indications = dict(
            session.execute(
                select(Plan.patient_id, Plan.indication)
                .where(Plan.clinic_id == actor.clinic_id, Plan.voided_at.is_(None))
                .order_by(Plan.created_at)  # the latest plan wins
            ).all()
        )
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
        audit_read(session, actor, "outcomes.responders", "clinic", actor.clinic_id or "", [])
    tally: dict[str, IndicationOutcome] = {}
    for patient_id, visits in longest.items():
        indication = indications.get(patient_id, "no_plan")
        outcome = tally.setdefault(indication, IndicationOutcome(indication))
        outcome.patients_measured += 1
        verdict = responder(site_change(visits, "density"), rule).responder
        if verdict is None:
            outcome.undetermined += 1
        elif verdict:
            outcome.responders += 1
        else:
            outcome.non_responders += 1
    return [asdict(tally[k]) for k in sorted(tally)]
