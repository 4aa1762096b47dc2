"""Follow-up: is the plan's review due, and how each measured site changed from baseline.

The change here is the plain difference between the first and the latest measurement of a
site; confidence intervals and the responder rule come with the statistics work.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from follicle.records.models import Measurement, Plan
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.common import audit_read, load_patient
from follicle.services.database import Database
from follicle.services.images import measurement_view

COMPARED = ("hair_count", "density_per_cm2", "terminal_count", "vellus_count", "mean_diameter_um")


def _change(baseline: Measurement, latest: Measurement) -> dict[str, float | None]:
    change: dict[str, float | None] = {}
    for name in COMPARED:
        before, after = getattr(baseline, name), getattr(latest, name)
        change[name] = None if before is None or after is None else round(after - before, 2)
    return change


def follow_up(
    db: Database, actor: Actor, patient_id: str, today: date | None = None
) -> dict[str, Any]:
    today = today or date.today()
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.FOLLOW_UP_READ)
        plan = session.scalars(
            select(Plan)
            .where(Plan.patient_id == patient.id, Plan.voided_at.is_(None))
            .order_by(Plan.created_at.desc(), Plan.id.desc())
        ).first()
        measurements = list(
            session.scalars(
                select(Measurement)
                .where(Measurement.patient_id == patient.id, Measurement.voided_at.is_(None))
                .order_by(Measurement.measured_at, Measurement.id)
            )
        )
        by_site: dict[str, list[Measurement]] = {}
        for measurement in measurements:
            by_site.setdefault(measurement.site or "unspecified", []).append(measurement)
        sites = {
            site: {
                "baseline": measurement_view(found[0]),
                "latest": measurement_view(found[-1]),
                "measurements": len(found),
                "change": _change(found[0], found[-1]) if len(found) > 1 else None,
            }
            for site, found in by_site.items()
        }
        audit_read(
            session,
            actor,
            "follow_up.read",
            "measurement",
            patient.clinic_id,
            [m.id for m in measurements],
            patient.id,
        )
        return {
            "patient_id": patient.id,
            "plan_id": plan.id if plan else None,
            "plan_status": plan.status if plan else None,
            "review_on": plan.review_on.isoformat() if plan and plan.review_on else None,
            "review_due": bool(plan and plan.review_on and plan.review_on <= today),
            "sites": sites,
        }
