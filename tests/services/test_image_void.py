"""On both backends: an image set aside with a reason (and its measurement) is voided, not
deleted — it stops counting in the follow-up, the lists, the portal and the research export,
stays in the FHIR record marked voided, and the audit trail names who and why; only a
practitioner of the patient's clinic may do it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from follicle.records.files import ImageStore
from follicle.records.models import AuditEntry, Image, Measurement
from follicle.services import exports, fhir_export, follow_up, images, portal
from follicle.services.actors import Actor
from follicle.services.commands import ImageVoid
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotFound
from tests.services.test_scales import _actor, _consented_patient, _scalp
from tests.support.factories import make_clinic, make_patient

REASON = "Overexposed (the LED was on high); retaken"


def _upload(
    db: Database, store: ImageStore, derm: Actor, patient: str, seed: int, days_ago: int
) -> dict:
    upload = images.ImageUpload(
        kind="trichoscopy",
        content=_scalp(seed),
        site="vertex",
        um_per_px=5.0,
        taken_at=datetime.now(UTC) - timedelta(days=days_ago),
    )
    return images.upload_image(db, store, derm, patient, upload)


def test_a_set_aside_image_stops_counting_and_stays_in_the_record(
    db: Database, tmp_path: Path
) -> None:
    clinic = make_clinic(db)
    derm = _actor(db, clinic, "practitioner")
    patient = _consented_patient(db, clinic, derm)
    store = ImageStore(tmp_path / "images")
    baseline = _upload(db, store, derm, patient, 1, 90)
    kept = _upload(db, store, derm, patient, 2, 1)
    bad = _upload(db, store, derm, patient, 3, 1)
    images.release_to_patient(db, derm, patient, bad["id"])
    site = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]
    assert [m["image_id"] for m in site["readings"]] == [baseline["id"], kept["id"], bad["id"]]

    voided = images.void_image(db, derm, patient, bad["id"], ImageVoid(reason=f"  {REASON} "))
    assert voided["image_id"] == bad["id"]
    assert voided["measurement_ids"] == [bad["measurement"]["id"]]
    assert voided["void_reason"] == REASON  # (stripped)

    site = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]
    assert [m["image_id"] for m in site["readings"]] == [baseline["id"], kept["id"]]
    assert site["measurements"] == 2
    assert site["latest"]["image_id"] == kept["id"]
    assert [i["id"] for i in images.list_images(db, derm, patient)] == [baseline["id"], kept["id"]]
    assert bad["measurement"]["id"] not in {
        m["id"] for m in images.list_measurements(db, derm, patient)
    }
    with pytest.raises(NotFound):
        images.image_content(db, store, derm, patient, bad["id"])
    with pytest.raises(NotFound):  # set aside twice: it is no longer there to set aside
        images.void_image(db, derm, patient, bad["id"], ImageVoid(reason=REASON))

    # the patient no longer sees it, though it had been shared
    own = Actor(user_id=None, clinic_id=clinic, role="patient", patient_id=patient)
    assert portal.progress(db, own)["images"] == []
    with pytest.raises(NotFound):
        portal.released_image(db, store, own, bad["id"])

    # the research export leaves it out; the FHIR record keeps it, marked voided with why
    research = exports.research_export(db, _actor(db, clinic, "admin"), "a-test-secret")
    assert [row["measurement_id"] for row in research["measurements"]] == [
        baseline["measurement"]["id"],
        kept["measurement"]["id"],
    ]
    bundle = fhir_export.export_patient(db, derm, patient).bundle
    media = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Media"
        and any(i["value"] == bad["id"] for i in e["resource"]["identifier"])
    ]
    (voided_ext,) = [x for x in media[0]["extension"] if x["url"].endswith("voided")]
    assert {"url": "reason", "valueString": REASON} in voided_ext["extension"]

    # nothing deleted: both rows kept, voided by the practitioner with the reason
    with db.transaction() as session:
        image = session.get(Image, bad["id"])
        measurement = session.get(Measurement, bad["measurement"]["id"])
        assert image is not None
        assert measurement is not None
        for record in (image, measurement):
            assert record.voided_at is not None
            assert record.voided_by_id == derm.user_id
            assert record.void_reason == REASON
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "image.void"))
        assert entry.resource_id == bad["id"]
        assert entry.detail["reason"] == REASON
        assert entry.detail["measurement_ids"] == [bad["measurement"]["id"]]


def test_only_a_practitioner_of_the_clinic_may_set_an_image_aside(
    db: Database, tmp_path: Path
) -> None:
    clinic, other = make_clinic(db, "Ours"), make_clinic(db, "Theirs")
    derm = _actor(db, clinic, "practitioner")
    patient = _consented_patient(db, clinic, derm)
    store = ImageStore(tmp_path / "images")
    image = _upload(db, store, derm, patient, 4, 0)
    why = ImageVoid(reason=REASON)
    with pytest.raises(Forbidden):
        images.void_image(db, _actor(db, clinic, "front_desk"), patient, image["id"], why)
    with pytest.raises(Forbidden):  # admins run the clinic; they do not author the record
        images.void_image(db, _actor(db, clinic, "admin"), patient, image["id"], why)
    with pytest.raises(NotFound):  # another clinic's practitioner: as if it did not exist
        images.void_image(db, _actor(db, other, "practitioner"), patient, image["id"], why)
    own = Actor(user_id=None, clinic_id=clinic, role="patient", patient_id=patient)
    with pytest.raises(Forbidden):  # their own image, but not theirs to set aside
        images.void_image(db, own, patient, image["id"], why)
    with pytest.raises(NotFound):  # the image under another patient's id
        images.void_image(db, derm, make_patient(db, clinic), image["id"], why)
    assert [i["id"] for i in images.list_images(db, derm, patient)] == [image["id"]]
