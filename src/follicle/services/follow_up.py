"""Follow-up: is the plan's review due, how each measured site changed from baseline (with an
interval from the repeat images, clinic/progress.py), whether that is a response by the
catalogue's rule, and what the review might decide."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.progress import (
    METHOD,
    METRICS,
    Change,
    Response,
    Visit,
    responder,
    review_suggestion,
    site_change,
)
from follicle.records.models import (
    AdverseEvent,
    DermoscopeScale,
    Image,
    Measurement,
    Plan,
    SessionRecord,
    image_warnings_of,
)
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.common import audit_read, clinic_day, clinic_today, clinic_zone, load_patient
from follicle.services.database import Database
from follicle.services.images import measurement_view
from follicle.services.scales import scales_used
from follicle.services.visit_change import hair_by_hair

COMPARED = ("hair_count", "density_per_cm2", "terminal_count", "vellus_count", "mean_diameter_um")


def _change(baseline: Measurement, latest: Measurement) -> dict[str, float | None]:
    change: dict[str, float | None] = {}
    for name in COMPARED:
        before, after = getattr(baseline, name), getattr(latest, name)
        change[name] = None if before is None or after is None else round(after - before, 2)
    return change


def image_notes(found: list[Measurement], zone: ZoneInfo) -> list[str]:
    """The site's images overexposed, out of focus or saved in a way that may cost their count
    (greyscale, JPEG colour at reduced resolution, strong compression): said where the change
    is read."""
    return [
        f"The image of {clinic_day(m.measured_at, zone).isoformat()} {warning}."
        for m in found
        for warning in image_warnings_of(m.result)
    ]


def _hair_by_hair(found: list[Measurement], zone: ZoneInfo) -> dict[str, Any] | None:
    """The latest visit's images compared hair by hair with the first visit's (those still
    counting), made at upload (services/visit_change.py)."""
    first, last = clinic_day(found[0].measured_at, zone), clinic_day(found[-1].measured_at, zone)
    baseline_ids = {m.image_id for m in found if clinic_day(m.measured_at, zone) == first}
    latest = [m for m in found if clinic_day(m.measured_at, zone) == last]
    return hair_by_hair(latest, baseline_ids)


def metric_values(m: Measurement) -> dict[str, float]:
    """The values compared at a site for one measurement (derived ones included)."""
    values: dict[str, float] = {
        "hair_count": float(m.hair_count),
        "density_per_cm2": m.density_per_cm2,
    }
    if m.area_cm2:
        values["terminal_density_per_cm2"] = m.terminal_count / m.area_cm2
    if m.mean_diameter_um is not None:
        values["mean_diameter_um"] = m.mean_diameter_um
    if m.hair_count:
        values["vellus_share"] = m.vellus_count / m.hair_count
    return values


def visits_of(found: list[Measurement], zone: ZoneInfo) -> list[Visit]:
    """Measurements of one site grouped by day (at the clinic): the images of a visit are
    its repeats."""
    by_day: dict[date, dict[str, list[float]]] = {}
    for m in found:
        day = by_day.setdefault(clinic_day(m.measured_at, zone), {})
        for key, value in metric_values(m).items():
            day.setdefault(key, []).append(value)
    return [Visit(day, values) for day, values in sorted(by_day.items())]


def follow_up(
    db: Database, actor: Actor, patient_id: str, today: date | None = None
) -> dict[str, Any]:
    rule = load_catalogue().responder
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.FOLLOW_UP_READ)
        today = today or clinic_today(session, patient.clinic_id)
        zone = clinic_zone(session, patient.clinic_id)
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
        sessions_done = len(
            session.scalars(
                select(SessionRecord.id).where(
                    SessionRecord.patient_id == patient.id, SessionRecord.voided_at.is_(None)
                )
            ).all()
        )
        open_serious = len(
            session.scalars(
                select(AdverseEvent.id).where(
                    AdverseEvent.patient_id == patient.id,
                    AdverseEvent.serious.is_(True),
                    AdverseEvent.status == "open",
                    AdverseEvent.voided_at.is_(None),
                )
            ).all()
        )
        read_at = {
            image.id: image
            for image in session.scalars(
                select(Image).where(Image.id.in_([m.image_id for m in measurements]))
            )
        }
        measured_scales = {
            scale.id: scale
            for scale in session.scalars(
                select(DermoscopeScale).where(DermoscopeScale.clinic_id == patient.clinic_id)
            )
        }
        by_site: dict[str, list[Measurement]] = {}
        for measurement in measurements:
            by_site.setdefault(measurement.site or "unspecified", []).append(measurement)
        sites: dict[str, Any] = {}
        target: tuple[str, Change | None, Response] | None = None
        target_visits = 0
        for site, found in by_site.items():
            visits = visits_of(found, zone)
            changes = {key: site_change(visits, key, rule.confidence) for key, _, _ in METRICS}
            answer = responder(changes["density_per_cm2"], rule)
            scales, scale_notes = scales_used([read_at[m.image_id] for m in found], measured_scales)
            sites[site] = {
                "baseline": measurement_view(found[0]),
                "latest": measurement_view(found[-1]),
                "measurements": len(found),
                "readings": [measurement_view(m) for m in found],  # each image, oldest first
                "visits": len(visits),
                "change": _change(found[0], found[-1]) if len(found) > 1 else None,
                "statistics": {k: c.as_dict() for k, c in changes.items() if c is not None},
                "responder": answer.responder,
                "responder_reason": answer.reason,
                "scales": scales,
                "scale_notes": scale_notes,
                "image_notes": image_notes(found, zone),
                "hair_by_hair": _hair_by_hair(found, zone) if len(visits) > 1 else None,
            }
            if len(visits) > target_visits:  # the site followed longest decides the review
                target, target_visits = (site, changes["density_per_cm2"], answer), len(visits)
        review = None
        if target is not None:
            site, density, answer = target
            suggestion = review_suggestion(
                answer, density, sessions_done, plan.sessions_planned if plan else 0, open_serious
            )
            review = {"site": site, "action": suggestion.action, "reasons": suggestion.reasons}
        set_aside = list(
            session.scalars(
                select(Image)
                .where(Image.patient_id == patient.id, Image.voided_at.is_not(None))
                .order_by(Image.taken_at, Image.id)
            )
        )
        audit_read(
            session,
            actor,
            "follow_up.read",
            "measurement",
            patient.clinic_id,
            [m.id for m in measurements] + [i.id for i in set_aside],
            patient.id,
        )
        return {
            "patient_id": patient.id,
            "plan_id": plan.id if plan else None,
            "plan_status": plan.status if plan else None,
            "review_on": plan.review_on.isoformat() if plan and plan.review_on else None,
            "review_due": bool(plan and plan.review_on and plan.review_on <= today),
            "method": METHOD,
            "responder_rule": {
                "metric": rule.metric,
                "min_gain_pct": rule.min_density_gain_pct,
                "confidence": rule.confidence,
                "evidence": list(rule.evidence),
            },
            "suggestion": review,
            "sites": sites,
            # images set aside: no longer counted, still in the record with the reason
            "set_aside": [_set_aside_view(image) for image in set_aside],
        }


def _set_aside_view(image: Image) -> dict[str, Any]:
    assert image.voided_at is not None
    return {
        "image_id": image.id,
        "kind": image.kind,
        "site": image.site,
        "view": image.view,
        "taken_at": image.taken_at.isoformat(),
        "voided_at": image.voided_at.isoformat(),
        "void_reason": image.void_reason or "",
    }
