"""Hair by hair: each follow-up image of a marked site compared with the images of the site's
first visit — registered, each hair looked for at the other visit (trichoscopy/compare.py) —
so the change is measured directly instead of as the difference of two noisy counts (on the
benchmark's pairs: 1.8 % of the baseline count wrong, against 3.9 % by subtraction).

The comparisons are made when a follow-up image is uploaded and kept with its measurement
(``result["visit_change"]``); the follow-up reads those whose baseline image still counts.
"""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.records.files import ImageStore
from follicle.records.models import Image, Measurement
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.commands import CompareAgain
from follicle.services.common import audit_write, clinic_day, clinic_zone, load_patient
from follicle.services.database import Database
from follicle.services.errors import NotNow
from follicle.services.scales import SCALE_AGREEMENT_PCT
from follicle.trichoscopy.analyze import AnalysisError, AnalysisWithContrast, analyze_with_contrast
from follicle.trichoscopy.compare import compare_analysed, register
from follicle.trichoscopy.images import ImageRefused, read_rgb

#: A visit's repeats (two or three images); each comparison takes about half a second.
MAX_BASELINE_IMAGES = 3


@dataclass(frozen=True)
class BaselineImage:
    image_id: str
    content_sha256: str
    media_type: str
    um_per_px: float


def baseline_images(
    session: Session, patient_id: str, site: str, taken_on: date, zone: ZoneInfo
) -> list[BaselineImage]:
    """The images of the site's first visit, when that visit came before ``taken_on`` (days
    at the clinic, in ``zone``)."""
    rows = session.execute(
        select(
            Measurement.measured_at,
            Image.id,
            Image.content_sha256,
            Image.media_type,
            Image.um_per_px,
        )
        .join(Image, Image.id == Measurement.image_id)
        .where(
            Measurement.patient_id == patient_id,
            Measurement.site == site,
            Measurement.voided_at.is_(None),
        )
        .order_by(Measurement.measured_at, Measurement.id)
    ).all()
    if not rows or clinic_day(rows[0][0], zone) >= taken_on:
        return []
    first_visit = clinic_day(rows[0][0], zone)
    return [
        BaselineImage(image_id, sha256, media_type, um_per_px)
        for measured_at, image_id, sha256, media_type, um_per_px in rows
        if clinic_day(measured_at, zone) == first_visit and um_per_px is not None
    ][:MAX_BASELINE_IMAGES]


def compare_with_baseline(
    store: ImageStore,
    baselines: list[BaselineImage],
    followup_rgb: Any,
    followup: AnalysisWithContrast,
) -> list[dict[str, Any]]:
    """The hair-by-hair change from each baseline image to this follow-up image; a pair that
    cannot be compared says why (read at another scale, not the same site)."""
    um_per_px = followup.analysis.um_per_px
    found = []
    for baseline in baselines:
        entry: dict[str, Any] = {"baseline_image_id": baseline.image_id}
        if abs(100.0 * (baseline.um_per_px / um_per_px - 1.0)) > SCALE_AGREEMENT_PCT:
            entry["error"] = (
                f"read at another scale ({baseline.um_per_px:.4g} against {um_per_px:.4g} um "
                "per pixel)"
            )
            found.append(entry)
            continue
        try:
            rgb = read_rgb(io.BytesIO(store.get(baseline.content_sha256, baseline.media_type)))
            before = analyze_with_contrast(rgb, baseline.um_per_px)
            comparison = compare_analysed(before, followup, register(rgb, followup_rgb))
        except (AnalysisError, ImageRefused, OSError) as exc:
            entry["error"] = str(exc)
        else:
            entry.update(
                {
                    "baseline_hairs": comparison.matched + comparison.lost,
                    "matched": comparison.matched,
                    "lost": comparison.lost,
                    "new": comparison.new,
                    "change_in_count": comparison.change_in_count,
                    "thickened": comparison.thickened,
                    "thinned": comparison.thinned,
                    "registration": comparison.registration.as_contract(),
                }
            )
        found.append(entry)
    return found


def compare_again(
    db: Database, store: ImageStore, actor: Actor, patient_id: str, request: CompareAgain
) -> dict[str, Any]:
    """Compare a site's latest images with its first visit's again, from their stored
    lossless copies: for images stored before comparisons were made, a follow-up uploaded
    before its baseline, or a first visit whose images were set aside."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.IMAGE_UPLOAD)
        found = session.execute(
            select(Measurement.id, Measurement.measured_at, Image)
            .join(Image, Image.id == Measurement.image_id)
            .where(
                Measurement.patient_id == patient.id,
                Measurement.site == request.site,
                Measurement.voided_at.is_(None),
            )
            .order_by(Measurement.measured_at, Measurement.id)
        ).all()
        zone = clinic_zone(session, patient.clinic_id)
        if not found or clinic_day(found[0][1], zone) == clinic_day(found[-1][1], zone):
            raise NotNow("this site has not been measured at two visits: nothing to compare")
        last = clinic_day(found[-1][1], zone)
        baselines = baseline_images(session, patient.id, request.site, last, zone)
        latest = [
            (measurement_id, image.content_sha256, image.media_type, image.um_per_px)
            for measurement_id, measured_at, image in found
            if clinic_day(measured_at, zone) == last and image.um_per_px is not None
        ]
        clinic_id = patient.clinic_id
    changes = {}
    for measurement_id, sha256, media_type, um_per_px in latest:  # (slow: out of the transaction)
        try:
            rgb = read_rgb(io.BytesIO(store.get(sha256, media_type)))
            run = analyze_with_contrast(rgb, um_per_px)
        except (AnalysisError, ImageRefused, OSError) as exc:
            said = f"the follow-up image could not be read again ({exc})"
            changes[measurement_id] = [
                {"baseline_image_id": b.image_id, "error": said} for b in baselines
            ]
            continue
        changes[measurement_id] = compare_with_baseline(store, baselines, rgb, run)
    with db.transaction() as session:
        compared = []
        for measurement_id, change in changes.items():
            measurement = session.get(Measurement, measurement_id)
            if measurement is None or measurement.voided_at is not None:
                continue  # set aside meanwhile
            measurement.result = {**measurement.result, "visit_change": change}
            compared.append(measurement_id)
        audit_write(
            session,
            actor,
            "measurement.compare",
            "patient",
            patient_id,
            clinic_id,
            {"site": request.site, "measurement_ids": compared},
        )
    return {"site": request.site, "compared": len(compared), "baseline_images": len(baselines)}


def hair_by_hair(latest: list[Measurement], baseline_image_ids: set[str]) -> dict[str, Any] | None:
    """The latest visit's comparisons with the baseline images that still count, summed up:
    means over the image pairs, and the range of the change over them (its noise)."""
    pairs = [
        entry
        for m in latest
        for entry in m.result.get("visit_change") or []
        if entry.get("baseline_image_id") in baseline_image_ids
    ]
    compared = [entry for entry in pairs if "error" not in entry]
    if not pairs:
        return None

    def mean(key: str) -> float:
        return round(statistics.fmean(entry[key] for entry in compared), 1)

    summary: dict[str, Any] = {
        "pairs": len(compared),
        "not_compared": sorted({entry["error"] for entry in pairs if "error" in entry}),
    }
    if compared:
        changes = [entry["change_in_count"] for entry in compared]
        baseline_hairs = mean("baseline_hairs")
        summary.update(
            {
                "baseline_hairs": baseline_hairs,
                "lost": mean("lost"),
                "new": mean("new"),
                "change_in_count": mean("change_in_count"),
                "change_pct": round(100.0 * statistics.fmean(changes) / baseline_hairs, 1)
                if baseline_hairs
                else None,
                "lowest": min(changes),
                "highest": max(changes),
                "thickened": mean("thickened"),
                "thinned": mean("thinned"),
            }
        )
    summary["said"] = _said(summary)
    return summary


def _said(summary: dict[str, Any]) -> str:
    """The comparison in a sentence, for the follow-up page and the clinician's report."""
    parts = []
    if summary["pairs"]:
        spread = (
            f", from {summary['lowest']:+d} to {summary['highest']:+d} over "
            f"{summary['pairs']} image pairs"
            if summary["pairs"] > 1
            else ""
        )
        share = "" if summary["change_pct"] is None else f" ({summary['change_pct']:+.1f} %)"
        parts.append(
            f"Of {summary['baseline_hairs']:.0f} hairs at baseline in the field both images "
            f"see, {summary['lost']:g} lost and {summary['new']:g} new: "
            f"{summary['change_in_count']:+g} hairs{share}{spread}; "
            f"{summary['thickened']:g} thickened, {summary['thinned']:g} thinned."
        )
    if summary["not_compared"]:
        parts.append(f"Not compared: {'; '.join(summary['not_compared'])}.")
    return " ".join(parts)
