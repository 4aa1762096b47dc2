"""On both backends: a trichoscopy upload keeps what in the way its file was saved may cost
the count, and the follow-up says it beside the change it affects; a lossless upload says
nothing."""

from __future__ import annotations

from pathlib import Path

import cv2

from follicle.records.files import ImageStore
from follicle.services import follow_up, images
from follicle.services.database import Database
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
from tests.services.test_scales import _actor, _consented_patient
from tests.support.factories import make_clinic


def _saved(seed: int, extension: str, *options: int) -> bytes:
    spec = TrichogramSpec(seed=seed, width_px=400, height_px=300, hair_colour="grey")
    bgr = cv2.cvtColor(render_trichogram(spec).rgb, cv2.COLOR_RGB2BGR)
    return bytes(cv2.imencode(extension, bgr, list(options))[1].tobytes())


def test_the_way_an_image_was_saved_is_kept_and_said(db: Database, tmp_path: Path) -> None:
    clinic = make_clinic(db)
    derm = _actor(db, clinic, "practitioner")
    patient = _consented_patient(db, clinic, derm)
    store = ImageStore(tmp_path / "images")

    def upload(content: bytes) -> dict:
        upload = images.ImageUpload(
            kind="trichoscopy", content=content, site="vertex", um_per_px=5.0
        )
        return images.upload_image(db, store, derm, patient, upload)

    lossless = upload(_saved(3, ".png"))
    assert lossless["measurement"]["image_warnings"] == []
    # (seed 12: enough long shafts, at least MIN_HAIRS_FOR_CONTRAST, to judge the contrast)
    subsampled = upload(
        _saved(
            12,
            ".jpg",
            cv2.IMWRITE_JPEG_QUALITY,
            95,
            cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
            cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
        )
    )
    warning, faint = subsampled["measurement"]["image_warnings"]
    assert "colour stored at reduced resolution (4:2:0)" in warning
    # (grey hair on light skin, read from 4:2:0 colour, also shows only faintly: said too)
    assert faint.startswith("shows its hairs only faintly")
    assert subsampled["media_type"] == "image/png"  # stored lossless all the same
    listed = {m["image_id"]: m for m in images.list_measurements(db, derm, patient)}
    assert listed[subsampled["id"]]["image_warnings"] == [warning, faint]
    assert listed[lossless["id"]]["image_warnings"] == []

    site = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]
    taken = subsampled["taken_at"][:10]
    assert site["image_notes"] == [f"The image of {taken} {w}." for w in (warning, faint)]

    # focus is read from the pixels: a lossless file out of focus is warned of too
    spec = TrichogramSpec(seed=5, width_px=400, height_px=300)
    blurred = cv2.GaussianBlur(render_trichogram(spec).rgb, (0, 0), 3.0)
    png = bytes(cv2.imencode(".png", cv2.cvtColor(blurred, cv2.COLOR_RGB2BGR))[1].tobytes())
    focus, blurred_faint = upload(png)["measurement"]["image_warnings"]
    assert focus.startswith("looks out of focus")
    assert blurred_faint.startswith("shows its hairs only faintly")  # blur lowers the contrast
    notes = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]["image_notes"]
    assert len(notes) == 4
