"""Clinic outcomes: how many patients responded, by indication, by the catalogue's responder
rule applied to each patient's longest-followed site (the same rule the plan review uses)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

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
        rows = session.execute(
            select(
                Measurement.patient_id,
                Measurement.site,
                Measurement.measured_at,
                Measurement.density_per_cm2,
            )
            .where(Measurement.clinic_id == actor.clinic_id, Measurement.voided_at.is_(None))
            .order_by(Measurement.patient_id, Measurement.site, Measurement.measured_at)
        ).all()
        audit_read(session, actor, "outcomes.responders", "clinic", actor.clinic_id or "", [])
    by_site: dict[tuple[str, str], dict[date, list[float]]] = defaultdict(dict)
    for patient_id, site, measured_at, density in rows:
        by_site[(patient_id, site or "")].setdefault(measured_at.date(), []).append(density)
    longest: dict[str, dict[date, list[float]]] = {}
    for (patient_id, _site), days in by_site.items():
        if len(days) > len(longest.get(patient_id, {})):
            longest[patient_id] = days
    tally: dict[str, IndicationOutcome] = {}
    for patient_id, days in longest.items():
        indication = indications.get(patient_id, "no_plan")
        outcome = tally.setdefault(indication, IndicationOutcome(indication))
        outcome.patients_measured += 1
        visits = [Visit(day, {"density": values}) for day, values in sorted(days.items())]
        verdict = responder(site_change(visits, "density"), rule).responder
        if verdict is None:
            outcome.undetermined += 1
        elif verdict:
            outcome.responders += 1
        else:
            outcome.non_responders += 1
    return [asdict(tally[k]) for k in sorted(tally)]
