"""On both backends: a follow-up image of a marked site is compared hair by hair with the
first visit's images when it is uploaded, and the follow-up sums the comparisons up, near
the true change of the synthetic pair; an image set aside stops counting there too, and a
pair that cannot be compared says why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from follicle.records.files import ImageStore
from follicle.records.models import AuditEntry, Measurement
from follicle.services import follow_up, images, visit_change
from follicle.services.actors import Actor
from follicle.services.commands import CompareAgain, ImageVoid
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotNow
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram, render_visit_pair
from tests.services.test_scales import _actor, _consented_patient
from tests.support.factories import make_clinic


def _png(rgb: np.ndarray) -> bytes:
    return bytes(cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes())


@dataclass(frozen=True)
class _Vertex:
    """A practitioner taking trichoscopy images of one patient's vertex."""

    db: Database
    store: ImageStore
    derm: Actor
    patient: str

    def upload(self, rgb: np.ndarray, days_ago: int, um_per_px: float = 5.0) -> dict[str, Any]:
        taken_at = datetime.now(UTC) - timedelta(days=days_ago)
        upload = images.ImageUpload(
            kind="trichoscopy",
            content=_png(rgb),
            site="vertex",
            um_per_px=um_per_px,
            taken_at=taken_at,
        )
        return images.upload_image(self.db, self.store, self.derm, self.patient, upload)


def _vertex(db: Database, tmp_path: Path) -> tuple[_Vertex, str]:
    clinic = make_clinic(db)
    derm = _actor(db, clinic, "practitioner")
    patient = _consented_patient(db, clinic, derm)
    return _Vertex(db, ImageStore(tmp_path / "images"), derm, patient), clinic


def test_the_change_is_measured_hair_by_hair(db: Database, tmp_path: Path) -> None:
    site_images, _ = _vertex(db, tmp_path)
    derm, patient, upload = site_images.derm, site_images.patient, site_images.upload
    pair = render_visit_pair(
        TrichogramSpec(seed=41, width_px=800, height_px=600, density_per_cm2=200.0),
        lost_fraction=0.1,
        new_fraction=0.25,
        thinned_fraction=0.0,
        seed=2,
    )
    before, now = 120, 0  # days ago
    baseline = [upload(pair.baseline.rgb, before), upload(pair.repeat("baseline", 1).rgb, before)]
    assert all(b["measurement"] for b in baseline)
    site = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]
    assert site["hair_by_hair"] is None  # one visit: nothing to compare yet
    followed = upload(pair.followup.rgb, now)
    assert {c["baseline_image_id"] for c in _stored(db, followed["id"])} == {
        b["id"] for b in baseline
    }
    upload(pair.repeat("followup", 1).rgb, now)

    site = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]
    found = site["hair_by_hair"]
    assert found["pairs"] == 4
    assert found["not_compared"] == []
    truth = pair.true_change()
    baseline_count = len(pair.common_ids() - pair.new_ids)
    # A site of about 20 hairs: within 5 % of them or a hair and a half, whichever is more
    # (one hair is 5 % here; the benchmark holds the 2 % target over 96 larger pairs).
    tolerance = max(0.05 * baseline_count, 1.5)
    assert abs(found["change_in_count"] - truth) <= tolerance, (found, truth)
    assert found["lowest"] <= found["change_in_count"] <= found["highest"]
    assert found["said"].startswith(f"Of {found['baseline_hairs']:.0f} hairs at baseline")
    assert "over 4 image pairs" in found["said"]

    # a baseline image set aside: its pairs no longer count
    images.void_image(db, derm, patient, baseline[1]["id"], ImageVoid(reason="blurred"))
    found = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]["hair_by_hair"]
    assert found["pairs"] == 2

    # another site's image (not the marked one), and one read at another scale: said, not
    # counted
    other = render_trichogram(TrichogramSpec(seed=977, width_px=800, height_px=600)).rgb
    upload(other, now)
    upload(pair.repeat("followup", 2).rgb, now, um_per_px=5.5)
    found = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]["hair_by_hair"]
    assert found["pairs"] == 2
    assert len(found["not_compared"]) == 2
    assert any("another scale" in reason for reason in found["not_compared"])
    assert "Not compared:" in found["said"]


def _stored(db: Database, image_id: str) -> list[dict[str, Any]]:
    with db.transaction() as session:
        measurement = session.scalars(
            select(Measurement).where(Measurement.image_id == image_id)
        ).one()
        return list(measurement.result["visit_change"])


def test_a_site_is_compared_again_on_request(db: Database, tmp_path: Path) -> None:
    site_images, clinic = _vertex(db, tmp_path)
    derm, patient, upload = site_images.derm, site_images.patient, site_images.upload
    store = site_images.store
    pair = render_visit_pair(
        TrichogramSpec(seed=43, width_px=640, height_px=480, density_per_cm2=180.0), seed=4
    )
    vertex = CompareAgain(site="vertex")
    # the follow-up stored before its baseline (entered late): nothing compared at upload
    followed = upload(pair.followup.rgb, 0)
    with pytest.raises(NotNow):  # one visit so far
        visit_change.compare_again(db, store, derm, patient, vertex)
    upload(pair.baseline.rgb, 90)
    site = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]
    assert site["hair_by_hair"] is None

    with pytest.raises(Forbidden):
        visit_change.compare_again(db, store, _actor(db, clinic, "front_desk"), patient, vertex)
    done = visit_change.compare_again(db, store, derm, patient, vertex)
    assert done == {"site": "vertex", "compared": 1, "baseline_images": 1}
    found = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]["hair_by_hair"]
    assert found["pairs"] == 1
    baseline_count = len(pair.common_ids() - pair.new_ids)
    assert abs(found["change_in_count"] - pair.true_change()) <= 0.05 * baseline_count
    with db.transaction() as session:
        (entry,) = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "measurement.compare")
        )
        assert entry.detail["site"] == "vertex"

    # the stored follow-up image gone (a broken image store): said, not a crash
    next((tmp_path / "images").rglob(followed["content_sha256"] + ".png")).unlink()
    visit_change.compare_again(db, store, derm, patient, vertex)
    found = follow_up.follow_up(db, derm, patient)["sites"]["vertex"]["hair_by_hair"]
    assert found["pairs"] == 0
    (reason,) = found["not_compared"]
    assert reason.startswith("the follow-up image could not be read again")
