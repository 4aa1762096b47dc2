"""Images: upload (checked by content, re-encoded without metadata, stored by hash), and
trichoscopy images analysed at once with the measurement stored beside them.

Every image needs the patient's valid photo-use consent: the consent text covers standard
photographs and magnified (trichoscopy) images alike.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.records.files import ImageStore
from follicle.records.models import (
    DermoscopeScale,
    Image,
    Measurement,
    SessionRecord,
    image_warnings_of,
    new_id,
    utcnow,
)
from follicle.records.models.vocab import PHOTO_VIEWS, SCALP_REGIONS
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.commands import ImageVoid
from follicle.services.common import MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES  # (the web's)
from follicle.services.common import (
    audit_read,
    audit_write,
    clinic_day,
    clinic_zone,
    list_patient_records,
    load_patient,
    load_record,
    stated_time,
)
from follicle.services.consents import valid_consents
from follicle.services.database import Database
from follicle.services.errors import NotFound, NotNow
from follicle.services.visit_change import BaselineImage, baseline_images, compare_with_baseline
from follicle.trichoscopy.analyze import ANALYSER_VERSION, AnalysisError, analyze_with_contrast
from follicle.trichoscopy.images import ImageRefused, read_image
from follicle.trichoscopy.overlay import draw_overlay
from follicle.trichoscopy.quality import image_warnings

JPEG_QUALITY = 92


@dataclass(frozen=True)
class ImageUpload:
    kind: str
    content: bytes
    view: str | None = None
    site: str | None = None
    um_per_px: float | None = None  # typed...
    scale_id: str | None = None  # ...or a measured dermoscope scale (not both)
    taken_at: datetime | None = None
    session_record_id: str | None = None


def image_view(image: Image) -> dict[str, Any]:
    return {
        "id": image.id,
        "patient_id": image.patient_id,
        "kind": image.kind,
        "view": image.view,
        "site": image.site,
        "um_per_px": image.um_per_px,
        "dermoscope_scale_id": image.dermoscope_scale_id,
        "media_type": image.media_type,
        "width_px": image.width_px,
        "height_px": image.height_px,
        "taken_at": image.taken_at.isoformat(),
        "session_record_id": image.session_record_id,
        "content_sha256": image.content_sha256,
        "released_to_patient": image.released_to_patient,
    }


def measurement_view(measurement: Measurement) -> dict[str, Any]:
    return {
        "id": measurement.id,
        "patient_id": measurement.patient_id,
        "image_id": measurement.image_id,
        "site": measurement.site,
        "measured_at": measurement.measured_at.isoformat(),
        "hair_count": measurement.hair_count,
        "area_cm2": measurement.area_cm2,
        "density_per_cm2": measurement.density_per_cm2,
        "terminal_count": measurement.terminal_count,
        "vellus_count": measurement.vellus_count,
        "vellus_threshold_um": measurement.vellus_threshold_um,
        "mean_diameter_um": measurement.mean_diameter_um,
        "diameter_cv": measurement.diameter_cv,
        "analyser_version": measurement.analyser_version,
        "follicular_units": measurement.result.get("follicular_units"),
        "has_overlay": bool(measurement.result.get("overlay_sha256")),
        # overexposed, out of focus or saved in a way that may cost the count (at upload)
        "image_warnings": image_warnings_of(measurement.result),
    }


def _check(upload: ImageUpload) -> None:
    errors = []
    if upload.kind not in ("photo", "trichoscopy"):
        errors.append(FieldError("/kind", "must be photo or trichoscopy"))
    if upload.kind == "photo" and upload.view not in PHOTO_VIEWS:
        errors.append(FieldError("/view", f"a photo needs a view: {', '.join(PHOTO_VIEWS)}"))
    if upload.kind == "trichoscopy":
        if upload.site not in SCALP_REGIONS:
            errors.append(FieldError("/site", f"needs a site: {', '.join(SCALP_REGIONS)}"))
        if upload.scale_id is not None and upload.um_per_px is not None:
            errors.append(FieldError("/um_per_px", "choose a measured scale or type one, not both"))
        elif upload.scale_id is None and (
            upload.um_per_px is None or not 0.5 <= upload.um_per_px <= 50
        ):
            errors.append(FieldError("/um_per_px", "needs the scale, 0.5-50 um per pixel"))
    elif upload.scale_id is not None:
        errors.append(FieldError("/scale_id", "only a trichoscopy image has a scale"))
    if upload.view is not None and upload.view not in PHOTO_VIEWS:
        errors.append(FieldError("/view", f"must be one of {', '.join(PHOTO_VIEWS)}"))
    if upload.site is not None and upload.site not in SCALP_REGIONS:
        errors.append(FieldError("/site", f"must be one of {', '.join(SCALP_REGIONS)}"))
    if len(upload.content) > MAX_UPLOAD_BYTES:
        errors.append(FieldError("/file", f"is larger than {MAX_UPLOAD_BYTES // 2**20} MB"))
    if errors:
        raise InputInvalid(errors)


def _reencode(rgb: npt.NDArray[np.uint8], kind: str) -> tuple[bytes, str]:
    """Fresh pixels only: no EXIF, GPS, ICC or trailing data survives."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if kind == "trichoscopy":  # lossless, so the analysis can be repeated on the same pixels
        ok, encoded = cv2.imencode(".png", bgr)
        media_type = "image/png"
    else:
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        media_type = "image/jpeg"
    if not ok:
        raise InputInvalid([FieldError("/file", "could not be re-encoded")])
    return encoded.tobytes(), media_type


def _measured_scale(session: Session, clinic_id: str, scale_id: str) -> float:
    """The micrometres per pixel of one of the clinic's measured scales (another clinic's
    is no such scale)."""
    scale = session.get(DermoscopeScale, scale_id)
    if scale is None or scale.clinic_id != clinic_id:
        raise InputInvalid([FieldError("/scale_id", "no such measured scale in this clinic")])
    return scale.um_per_px


def upload_image(
    db: Database, store: ImageStore, actor: Actor, patient_id: str, upload: ImageUpload
) -> dict[str, Any]:
    _check(upload)
    baselines: list[BaselineImage] = []
    with db.transaction() as session:  # look before the (slow) decode and analysis
        patient = load_patient(session, actor, patient_id, Permission.IMAGE_UPLOAD)
        if "photo_use" not in valid_consents(session, patient.clinic_id, patient.id):
            raise NotNow("the patient has not given (or has withdrawn) photo-use consent")
        zone = clinic_zone(session, patient.clinic_id)
        taken_at = stated_time(upload.taken_at, zone, "/taken_at")
        um_per_px = upload.um_per_px
        if upload.scale_id is not None:  # (a measured scale is never changed: read it once)
            um_per_px = _measured_scale(session, patient.clinic_id, upload.scale_id)
        if upload.kind == "trichoscopy" and upload.site is not None:
            baselines = baseline_images(
                session, patient.id, upload.site, clinic_day(taken_at, zone), zone
            )
    try:
        read = read_image(io.BytesIO(upload.content))
    except ImageRefused as exc:
        raise InputInvalid([FieldError("/file", str(exc))]) from exc
    rgb = read.rgb
    analysis = None
    visit_change: list[dict[str, Any]] = []
    if upload.kind == "trichoscopy":
        assert um_per_px is not None
        try:
            run = analyze_with_contrast(rgb, um_per_px)
        except AnalysisError as exc:
            raise InputInvalid([FieldError("/file", str(exc))]) from exc
        analysis = run.analysis
        # a follow-up image: the change from each baseline image, hair by hair
        visit_change = compare_with_baseline(store, baselines, rgb, run)
    content, media_type = _reencode(rgb, upload.kind)
    sha256 = store.put(content, media_type)
    overlay_sha256 = None
    if analysis is not None:  # every counted hair outlined and numbered, to check by eye
        overlay_png, _ = _reencode(draw_overlay(rgb, analysis), "trichoscopy")
        overlay_sha256 = store.put(overlay_png, "image/png")
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.IMAGE_UPLOAD)
        if "photo_use" not in valid_consents(session, patient.clinic_id, patient.id):
            raise NotNow("the patient has not given (or has withdrawn) photo-use consent")
        if upload.session_record_id is not None:
            record = session.get(SessionRecord, upload.session_record_id)
            if record is None or record.patient_id != patient.id or record.voided_at is not None:
                raise InputInvalid(
                    [FieldError("/session_record_id", "no such session for this patient")]
                )
        image = Image(
            id=new_id("img"),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            session_record_id=upload.session_record_id,
            content_sha256=sha256,
            kind=upload.kind,
            view=upload.view,
            site=upload.site,
            um_per_px=um_per_px,
            dermoscope_scale_id=upload.scale_id,
            media_type=media_type,
            width_px=int(rgb.shape[1]),
            height_px=int(rgb.shape[0]),
            taken_at=taken_at,
            uploaded_by_id=actor.user_id,
        )
        session.add(image)
        session.flush()
        audit_write(
            session,
            actor,
            "image.upload",
            "image",
            image.id,
            patient.clinic_id,
            {
                "patient_id": patient.id,
                "kind": image.kind,
                "sha256": sha256,
                "dermoscope_scale_id": upload.scale_id,
            },
        )
        result = image_view(image)
        if analysis is not None:
            measurement = Measurement(
                id=new_id("msr"),
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                image_id=image.id,
                site=upload.site,
                measured_at=image.taken_at,
                hair_count=analysis.hair_count,
                area_cm2=analysis.area_cm2,
                density_per_cm2=analysis.density_per_cm2,
                terminal_count=analysis.terminal_count,
                vellus_count=analysis.vellus_count,
                vellus_threshold_um=analysis.vellus_threshold_um,
                mean_diameter_um=analysis.mean_diameter_um,
                diameter_cv=analysis.diameter_cv,
                result={
                    **analysis.as_contract(image.id),
                    "overlay_sha256": overlay_sha256,
                    "image_warnings": list(image_warnings(read, analysis)),
                    "edge_spread_um": None
                    if analysis.edge_spread_um is None
                    else round(analysis.edge_spread_um, 1),
                    "visit_change": visit_change,
                },
                analyser_version=ANALYSER_VERSION,
            )
            session.add(measurement)
            session.flush()
            audit_write(
                session,
                actor,
                "measurement.create",
                "measurement",
                measurement.id,
                patient.clinic_id,
                {"patient_id": patient.id, "image_id": image.id},
            )
            result["measurement"] = measurement_view(measurement)
        return result


def list_images(db: Database, actor: Actor, patient_id: str) -> list[dict[str, Any]]:
    return list_patient_records(
        db,
        actor,
        patient_id,
        Image,
        Permission.IMAGE_READ,
        "image.list",
        image_view,
        (Image.taken_at, Image.id),
    )


def image_content(
    db: Database, store: ImageStore, actor: Actor, patient_id: str, image_id: str
) -> tuple[bytes, str]:
    with db.transaction() as session:
        image = load_record(session, actor, Image, image_id, patient_id, Permission.IMAGE_READ)
        audit_read(
            session, actor, "image.content", "image", image.clinic_id, [image.id], patient_id
        )
        return store.get(image.content_sha256, image.media_type), image.media_type


def list_measurements(db: Database, actor: Actor, patient_id: str) -> list[dict[str, Any]]:
    return list_patient_records(
        db,
        actor,
        patient_id,
        Measurement,
        Permission.MEASUREMENT_READ,
        "measurement.list",
        measurement_view,
        (Measurement.measured_at, Measurement.id),
    )


def overlay_content(
    db: Database, store: ImageStore, actor: Actor, patient_id: str, measurement_id: str
) -> bytes:
    """The analysed image with every counted hair outlined (PNG)."""
    with db.transaction() as session:
        measurement = load_record(
            session, actor, Measurement, measurement_id, patient_id, Permission.MEASUREMENT_READ
        )
        digest = measurement.result.get("overlay_sha256")
        if not digest:
            raise NotFound
        audit_read(
            session,
            actor,
            "measurement.overlay",
            "measurement",
            measurement.clinic_id,
            [measurement.id],
            patient_id,
        )
        return store.get(str(digest), "image/png")


def release_to_patient(
    db: Database, actor: Actor, patient_id: str, image_id: str, released: bool = True
) -> dict[str, Any]:
    """Show (or stop showing) an image and its measurement in the patient's portal."""
    with db.transaction() as session:
        image = load_record(session, actor, Image, image_id, patient_id, Permission.IMAGE_UPLOAD)
        image.released_to_patient = released
        audit_write(
            session,
            actor,
            "image.release" if released else "image.withhold",
            "image",
            image.id,
            image.clinic_id,
            {"patient_id": patient_id},
        )
        return image_view(image)


def void_image(
    db: Database, actor: Actor, patient_id: str, image_id: str, void: ImageVoid
) -> dict[str, Any]:
    """Set an image aside with a reason (taken of the wrong patient, overexposed, out of
    focus): it and its measurement are voided, not deleted, so they stop counting in the
    follow-up, the reports, the portal and the exports (the FHIR record keeps them, marked
    voided), and the audit trail says who did it and why. A voided image is no longer found
    (404), so setting it aside twice is refused like any missing image."""
    with db.transaction() as session:
        image = load_record(session, actor, Image, image_id, patient_id, Permission.IMAGE_VOID)
        now = utcnow()
        measured = list(
            session.scalars(
                select(Measurement).where(
                    Measurement.image_id == image.id, Measurement.voided_at.is_(None)
                )
            )
        )
        voided: list[Image | Measurement] = [image, *measured]
        for record in voided:
            record.void(actor.user_id, void.reason, now)
        audit_write(
            session,
            actor,
            "image.void",
            "image",
            image.id,
            image.clinic_id,
            {
                "patient_id": patient_id,
                "reason": void.reason,
                "measurement_ids": [m.id for m in measured],
            },
        )
        return {
            "image_id": image.id,
            "measurement_ids": [m.id for m in measured],
            "voided_at": now.isoformat(),
            "void_reason": void.reason,
        }
