"""The progress report's content: chart, follow-up statistics, plots and images, gathered
with the same services (and the same audit entries) as the pages, for a clinician's copy or a
plain-language copy for the patient. Rendering to PDF happens in web/report_pdf.py."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from sqlalchemy import select

from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.progress import METRICS, visit_means
from follicle.records.files import ImageStore
from follicle.records.models import Clinic, Measurement
from follicle.services import chart, follow_up, images, messages, patient_outcomes
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.common import audit_write, clinic_day, clinic_today, load_patient
from follicle.services.database import Database

AUDIENCES = ("clinician", "patient")


def _data_uri(content: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


def _smaller(png: bytes, width_px: int = 900) -> bytes:
    """A print-sized JPEG of an overlay (the full-size PNG stays in the store)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return png
    if image.shape[1] > width_px:
        height = round(image.shape[0] * width_px / image.shape[1])
        image = cv2.resize(image, (width_px, height), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return bytes(encoded.tobytes()) if ok else png


def _site_plots(found: list[Measurement], threshold_um: float, zone: ZoneInfo) -> dict[str, str]:
    from follicle.documents import plots  # matplotlib loads when a report is made, not at start

    visits = follow_up.visits_of(found, zone)
    made: dict[str, str] = {}
    for key, label in (
        ("density_per_cm2", "Density (hairs/cm²)"),
        ("mean_diameter_um", "Mean shaft diameter (µm)"),
    ):
        rows = visit_means(visits, key)
        days = [r[0] for r in rows]
        means = [r[1] for r in rows]
        lows = [r[2] for r in rows]
        highs = [r[3] for r in rows]
        if len(days) > 1:
            made[key] = plots.over_time(days, means, lows, highs, label)
    first_day = clinic_day(found[0].measured_at, zone)
    last_day = clinic_day(found[-1].measured_at, zone)
    if first_day != last_day:
        before = [
            h["diameter_um"]
            for m in found
            if clinic_day(m.measured_at, zone) == first_day
            for h in m.result.get("hairs", [])
        ]
        after = [
            h["diameter_um"]
            for m in found
            if clinic_day(m.measured_at, zone) == last_day
            for h in m.result.get("hairs", [])
        ]
        if before and after:
            made["histogram"] = plots.diameter_histogram(
                before, after, threshold_um, (f"Baseline {first_day}", f"Now {last_day}")
            )
    return made


def report_context(
    db: Database,
    store: ImageStore,
    actor: Actor,
    patient_id: str,
    audience: str,
    today: date | None = None,
) -> dict[str, Any]:
    """Everything the report shows; staff only (the patient's copy is handed out by staff)."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}")
    with db.transaction() as session:  # refuse before any read is made (and audited)
        load_patient(session, actor, patient_id, Permission.MEASUREMENT_READ)
        authorize(actor, Permission.FOLLOW_UP_READ)
    found_chart = chart.patient_chart(db, actor, patient_id)
    review = follow_up.follow_up(db, actor, patient_id, today)
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.MEASUREMENT_READ)
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None
        report_today = today or clinic_today(session, clinic.id)
        zone = ZoneInfo(clinic.time_zone)
        measurements = list(
            session.scalars(
                select(Measurement)
                .where(Measurement.patient_id == patient.id, Measurement.voided_at.is_(None))
                .order_by(Measurement.measured_at, Measurement.id)
            )
        )
        by_site: dict[str, list[Measurement]] = {}
        for m in measurements:
            by_site.setdefault(m.site or "unspecified", []).append(m)
        site_plots = {
            site: {
                name: _data_uri(svg.encode(), "image/svg+xml")
                for name, svg in _site_plots(found, found[0].vellus_threshold_um, zone).items()
            }
            for site, found in by_site.items()
        }
        pairs = {
            site: (found[0].id, found[-1].id)
            for site, found in by_site.items()
            if len(found) > 1 and found[0].result.get("overlay_sha256")
        }
        audit_write(
            session,
            actor,
            "report.create",
            "patient",
            patient.id,
            patient.clinic_id,
            {"audience": audience, "measurements": [m.id for m in measurements]},
        )
        clinic_name, phone = clinic.name, messages.clinic_phone(clinic)
    overlays = {}
    if audience == "clinician":
        for site, (first, last) in pairs.items():
            overlays[site] = [
                _data_uri(
                    _smaller(images.overlay_content(db, store, actor, patient_id, m_id)),
                    "image/jpeg",
                )
                for m_id in (first, last)
            ]
    catalogue = load_catalogue()
    answers = patient_outcomes.list_outcomes(db, actor, patient_id)
    asked = catalogue.patient_outcome
    cited = sorted(
        {
            e
            for f in (found_chart.screening or {}).get("screening", {}).get("findings", [])
            for e in f.get("evidence", [])
        }
        | set(review["responder_rule"]["evidence"])
        | (set(asked.evidence) if answers else set())
    )
    return {
        "audience": audience,
        "clinic_name": clinic_name,
        "clinic_phone": phone,
        "chart": found_chart,
        "review": review,
        "plots": site_plots,
        "patient_view": {"question": asked.question, "answers": answers},
        "overlays": overlays,
        "metrics": METRICS,
        "sources": [catalogue.sources[e] for e in cited if e in catalogue.sources],
        "rules_version": catalogue.rules_version,
        "today": report_today,
    }
