"""Dermoscope scales: each setting's micrometres per pixel, measured from a photographed
ruling, so a trichoscopy upload takes a measured scale instead of a typed guess."""

from __future__ import annotations

import io
import math
from typing import Any

from sqlalchemy import select

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.records.models import DermoscopeScale, Image, UserAccount, new_id
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.common import MAX_UPLOAD_BYTES, audit_write
from follicle.services.database import Database
from follicle.trichoscopy.calibrate import CalibrationError, calibrate
from follicle.trichoscopy.images import ImageRefused, read_rgb

MAX_SETTING_CHARS = 120


def scale_view(scale: DermoscopeScale, measured_by: str) -> dict[str, Any]:
    return {
        "id": scale.id,
        "setting": scale.setting,
        "um_per_px": round(scale.um_per_px, 4),
        "line_spacing_um": scale.line_spacing_um,
        "lines": scale.lines,
        "uncertainty_pct": round(scale.uncertainty_pct, 3),
        "measured_at": scale.created_at.isoformat(),
        "measured_on": scale.created_at.date().isoformat(),
        "measured_by": measured_by,
    }


def measure_scale(
    db: Database, actor: Actor, setting: str, line_spacing_um: float | None, photo: bytes
) -> dict[str, Any]:
    """Measure a setting's scale from a photograph of a ruling and keep it."""
    authorize(actor, Permission.SCALE_MEASURE)
    setting = setting.strip()
    errors = []
    if not setting or len(setting) > MAX_SETTING_CHARS:
        errors.append(
            FieldError("/setting", f"name the dermoscope and its magnification, at most "
                       f"{MAX_SETTING_CHARS} characters")
        )  # fmt: skip
    if line_spacing_um is None or not math.isfinite(line_spacing_um) or line_spacing_um <= 0:
        errors.append(FieldError("/line_spacing_um", "the distance between lines, in um"))
    if not photo:
        errors.append(FieldError("/photo", "a photograph of the ruling is needed"))
    elif len(photo) > MAX_UPLOAD_BYTES:
        errors.append(FieldError("/photo", f"is larger than {MAX_UPLOAD_BYTES // 2**20} MB"))
    if errors:
        raise InputInvalid(errors)
    assert line_spacing_um is not None
    try:
        found = calibrate(read_rgb(io.BytesIO(photo)), line_spacing_um)
    except (ImageRefused, CalibrationError) as exc:
        raise InputInvalid([FieldError("/photo", str(exc))]) from None
    with db.transaction() as session:
        scale = DermoscopeScale(
            id=new_id("scl"),
            clinic_id=actor.clinic_id,
            setting=setting,
            um_per_px=found.um_per_px,
            line_spacing_um=line_spacing_um,
            lines=found.lines,
            uncertainty_pct=found.uncertainty_pct,
            measured_by=actor.user_id,
        )
        session.add(scale)
        session.flush()
        audit_write(
            session,
            actor,
            "dermoscope_scale.measure",
            "dermoscope_scale",
            scale.id,
            scale.clinic_id,
            {"setting": setting, "um_per_px": round(found.um_per_px, 4), "lines": found.lines},
        )
        return scale_view(scale, actor.display_name)


def list_scales(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Every measurement of the clinic, newest first; ``latest`` marks each setting's newest
    (the one a trichoscopy upload is offered)."""
    authorize(actor, Permission.DEVICE_LIST)
    with db.transaction() as session:
        rows = session.execute(
            select(DermoscopeScale, UserAccount.display_name)
            .outerjoin(UserAccount, UserAccount.id == DermoscopeScale.measured_by)
            .where(DermoscopeScale.clinic_id == actor.clinic_id)
            .order_by(DermoscopeScale.created_at.desc(), DermoscopeScale.id)
        ).all()
        newest = newest_by_setting([scale for scale, _ in rows])
        listed = []
        for scale, measured_by in rows:
            view = scale_view(scale, measured_by or "")
            view["latest"] = newest[scale.setting] is scale
            listed.append(view)
        return listed


def newest_by_setting(scales: list[DermoscopeScale]) -> dict[str, DermoscopeScale]:
    """Each setting's newest measurement (of two made in the same instant, the lower id)."""
    newest: dict[str, DermoscopeScale] = {}
    by_id = sorted(scales, key=lambda s: s.id)
    for scale in sorted(by_id, key=lambda s: s.created_at, reverse=True):  # (stable)
        newest.setdefault(scale.setting, scale)
    return newest


def offered_scales(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Each setting's newest scale, newest first: what a trichoscopy upload offers."""
    return [scale for scale in list_scales(db, actor) if scale["latest"]]


#: Scales within this many per cent of each other give densities within about 1 % (density
#: goes with the square of the scale), under the count's own error: taken as the same.
SCALE_AGREEMENT_PCT = 0.5


def _differ_pct(a: float, b: float) -> float:
    return 100.0 * (b / a - 1.0)


def scales_used(
    images: list[Image], measured: dict[str, DermoscopeScale]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The scales one site's trichoscopy images were read at, and what a clinician comparing
    them should know: a change of scale between visits shows as a change of density, and a
    scale measured again since shows that the images read at it are off.

    ``measured`` holds the clinic's measured scales by id (every measurement of them)."""
    newest = newest_by_setting(list(measured.values()))
    used: dict[tuple[str | None, float], dict[str, Any]] = {}
    for image in images:
        assert image.um_per_px is not None
        key = (image.dermoscope_scale_id, image.um_per_px)
        if key not in used:
            source = measured.get(image.dermoscope_scale_id or "")
            used[key] = {
                "um_per_px": round(image.um_per_px, 4),
                "measured": source is not None,
                "setting": source.setting if source else None,
                "measured_on": source.created_at.date().isoformat() if source else None,
                "images": 0,
            }
        used[key]["images"] += 1
    notes = []
    values = [image.um_per_px for image in images if image.um_per_px]
    if values and _differ_pct(min(values), max(values)) > SCALE_AGREEMENT_PCT:
        ratio = max(values) / min(values)
        notes.append(
            f"The images were read at different scales ({min(values):.4g} to "
            f"{max(values):.4g} um per pixel): density goes with the square of the scale, "
            f"so up to {100 * (ratio**2 - 1):.0f} % of a change in density may be the scale's."
        )
    for (scale_id, _), use in used.items():
        scale = measured.get(scale_id or "")
        if scale is None:
            continue
        latest = newest[scale.setting]
        drift = _differ_pct(scale.um_per_px, latest.um_per_px)
        if latest.id != scale.id and abs(drift) > SCALE_AGREEMENT_PCT:
            notes.append(
                f"{scale.setting} was measured again on {latest.created_at.date().isoformat()} "
                f"at {latest.um_per_px:.4g} um per pixel ({drift:+.1f} %): densities read at "
                f"its older {scale.um_per_px:.4g} ({use['images']} of these images) are off by "
                f"about {abs((1 + drift / 100) ** 2 - 1) * 100:.0f} %."
            )
    return list(used.values()), notes
