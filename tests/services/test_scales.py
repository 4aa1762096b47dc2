"""Dermoscope scales on both backends: measured from a photographed ruling and kept with who
measured them (audited), the newest per setting offered; refused with the field named; one
clinic's scales unseen by another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from follicle.clinic.errors import InputInvalid
from follicle.records.files import ImageStore
from follicle.records.models import (
    AuditEntry,
    ConsentText,
    DermoscopeScale,
    UserAccount,
    new_id,
    utcnow,
)
from follicle.services import consents, follow_up, images, scales
from follicle.services.actors import Actor
from follicle.services.auth import actor_for
from follicle.services.commands import ConsentSignature
from follicle.services.database import Database
from follicle.services.errors import Forbidden
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
from follicle.trichoscopy.synth_calibration import CalibrationSpec, render_calibration
from tests.support.factories import make_clinic, make_patient, make_user


def _actor(db: Database, clinic_id: str, role: str) -> Actor:
    user_id = make_user(db, clinic_id, role)
    with db.transaction() as session:
        user = session.get(UserAccount, user_id)
        assert user is not None
        return actor_for(user)


def _photo(um_per_px: float, spacing_um: float = 100.0) -> bytes:
    rgb = render_calibration(
        CalibrationSpec(
            width_px=640, height_px=480, um_per_px=um_per_px, line_spacing_um=spacing_um
        )
    )
    return bytes(cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes())


def test_measured_kept_audited_and_the_newest_offered(db: Database) -> None:
    clinic = make_clinic(db)
    derm = _actor(db, clinic, "practitioner")
    first = scales.measure_scale(db, derm, "Dermoscope A, 20x", 100.0, _photo(5.2))
    assert first["um_per_px"] == pytest.approx(5.2, rel=2e-3)
    again = scales.measure_scale(db, derm, "Dermoscope A, 20x", 50.0, _photo(5.0, 50.0))
    other = scales.measure_scale(db, derm, "Dermoscope B, 10x", 1000.0, _photo(9.5, 1000.0))
    listed = scales.list_scales(db, derm)
    assert {s["id"] for s in listed if s["latest"]} == {again["id"], other["id"]}
    assert {s["id"]: s["latest"] for s in listed}[first["id"]] is False
    assert [s["id"] for s in scales.offered_scales(db, derm)] == [
        s["id"] for s in listed if s["latest"]
    ]
    with db.transaction() as session:
        stored = session.get(DermoscopeScale, other["id"])
        assert stored is not None
        assert stored.um_per_px == pytest.approx(9.5, rel=2e-3)
        assert stored.measured_by == derm.user_id
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "dermoscope_scale.measure")
        ).all()
    assert sorted(e.resource_id for e in entries) == sorted([first["id"], again["id"], other["id"]])


def test_refused_with_the_field_named_and_nothing_kept(db: Database) -> None:
    clinic = make_clinic(db)
    admin = _actor(db, clinic, "admin")
    rng = np.random.default_rng(3)
    skin_only = np.clip(rng.normal(190.0, 3.0, (240, 320, 3)), 0, 255).astype(np.uint8)
    blank = bytes(cv2.imencode(".png", skin_only)[1].tobytes())
    cases = [
        (("", 100.0, _photo(5.0)), "/setting"),
        (("Dermoscope", None, _photo(5.0)), "/line_spacing_um"),
        (("Dermoscope", -1.0, _photo(5.0)), "/line_spacing_um"),
        (("Dermoscope", 100.0, b""), "/photo"),
        (("Dermoscope", 100.0, b"not an image"), "/photo"),
        (("Dermoscope", 100.0, blank), "/photo"),
        (("Dermoscope", 1.0, _photo(5.0)), "/photo"),  # 0.05 um per pixel: a wrong spacing
    ]
    for (setting, spacing, photo), pointer in cases:
        with pytest.raises(InputInvalid) as refused:
            scales.measure_scale(db, admin, setting, spacing, photo)
        assert pointer in {e.pointer for e in refused.value.errors}
    assert scales.list_scales(db, admin) == []


def test_front_desk_may_not_measure_and_clinics_see_only_their_own(db: Database) -> None:
    ours, theirs = make_clinic(db, "Ours"), make_clinic(db, "Theirs")
    with pytest.raises(Forbidden):
        scales.measure_scale(db, _actor(db, ours, "front_desk"), "D", 100.0, _photo(5.0))
    scales.measure_scale(db, _actor(db, theirs, "admin"), "Theirs, 20x", 100.0, _photo(5.0))
    assert scales.list_scales(db, _actor(db, ours, "practitioner")) == []


def _consented_patient(db: Database, clinic_id: str, derm: Actor) -> str:
    with db.transaction() as session:
        session.add(
            ConsentText(
                id=new_id("ctx"),
                clinic_id=clinic_id,
                kind="photo_use",
                version_number=1,
                title="Photo-use consent",
                body="Synthetic consent text for tests.",
                published_at=utcnow(),
            )
        )
    patient_id = make_patient(db, clinic_id)
    text = consents.list_consents(db, derm, patient_id)["current_texts"]["photo_use"]
    consents.sign(
        db,
        derm,
        patient_id,
        ConsentSignature(
            kind="photo_use", signed_name="Pat Testperson", consent_text_id=text["id"]
        ),
    )
    return patient_id


def _scalp(seed: int) -> bytes:
    rgb = render_trichogram(TrichogramSpec(seed=seed, width_px=400, height_px=300)).rgb
    return bytes(cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes())


def test_an_image_keeps_the_measured_scale_it_was_read_at(db: Database, tmp_path: Path) -> None:
    """Which scale, not only its value: the follow-up names the scales a site's images were
    read at, and says when they differ or one was measured again since."""
    clinic, theirs = make_clinic(db), make_clinic(db, "Theirs")
    derm = _actor(db, clinic, "practitioner")
    patient = _consented_patient(db, clinic, derm)
    store = ImageStore(tmp_path / "images")
    old = scales.measure_scale(db, derm, "Dermoscope A, 20x", 100.0, _photo(5.0))
    other_clinics = scales.measure_scale(
        db, _actor(db, theirs, "admin"), "Theirs, 20x", 100.0, _photo(4.0)
    )

    def upload(**scale: Any) -> dict[str, Any]:
        return images.upload_image(
            db,
            store,
            derm,
            patient,
            images.ImageUpload(kind="trichoscopy", content=_scalp(5), site="vertex", **scale),
        )

    read = upload(scale_id=old["id"])
    assert read["dermoscope_scale_id"] == old["id"]
    assert read["um_per_px"] == pytest.approx(old["um_per_px"], abs=1e-4)
    for scale, pointer in (
        ({"scale_id": other_clinics["id"]}, "/scale_id"),  # another clinic's: no such scale
        ({"scale_id": "scl_nothing"}, "/scale_id"),
        ({"scale_id": old["id"], "um_per_px": 5.0}, "/um_per_px"),  # both: which one?
        ({}, "/um_per_px"),
    ):
        with pytest.raises(InputInvalid) as refused:
            upload(**scale)
        assert pointer in {e.pointer for e in refused.value.errors}
    assert len(images.list_images(db, derm, patient)) == 1  # nothing kept of the refusals
    with db.transaction() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "image.upload"))
        assert entry.detail["dermoscope_scale_id"] == old["id"]

    site = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]
    assert [(s["setting"], s["measured"], s["images"]) for s in site["scales"]] == [
        ("Dermoscope A, 20x", True, 1)
    ]
    assert site["scale_notes"] == []
    upload(um_per_px=5.2)  # typed, 4 % off the measured scale
    site = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]
    assert {(s["um_per_px"], s["measured"]) for s in site["scales"]} == {
        (old["um_per_px"], True),
        (5.2, False),
    }
    (different,) = site["scale_notes"]
    assert "different scales" in different
    scales.measure_scale(db, derm, "Dermoscope A, 20x", 100.0, _photo(5.3))  # measured again
    notes = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]["scale_notes"]
    assert len(notes) == 2
    assert "measured again" in notes[1]
    assert "12 %" in notes[1]  # density goes with the square: 1.06 ** 2
