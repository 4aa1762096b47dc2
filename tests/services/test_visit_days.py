"""A visit is a day on the clinic's calendar, not in UTC (both backends): a Los Angeles clinic's
afternoon visit runs past midnight UTC, and its images must still be one visit, compared
with the next visit as one; a time sent without an offset is the clinic's wall-clock time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from follicle.clinic.errors import InputInvalid
from follicle.records.files import ImageStore
from follicle.services import follow_up, images, reports
from follicle.services.database import Database
from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
from follicle.web.report_pdf import render_report_html
from tests.services.test_scales import _actor, _consented_patient
from tests.services.test_visit_change import _png
from tests.support.factories import make_clinic

LOS_ANGELES = ZoneInfo("America/Los_Angeles")  # UTC-8 in November, UTC-7 in summer


class _Site:
    def __init__(self, db: Database, tmp_path: Path) -> None:
        self.db = db
        self.store = ImageStore(tmp_path / "images")
        clinic = make_clinic(db, time_zone="America/Los_Angeles")
        self.derm = _actor(db, clinic, "practitioner")
        self.patient = _consented_patient(db, clinic, self.derm)

    def upload(self, seed: int, taken_at: datetime) -> dict[str, Any]:
        rgb = render_trichogram(TrichogramSpec(seed=seed, width_px=480, height_px=360)).rgb
        upload = images.ImageUpload(
            kind="trichoscopy", content=_png(rgb), site="vertex", um_per_px=5.0, taken_at=taken_at
        )
        return images.upload_image(self.db, self.store, self.derm, self.patient, upload)

    def vertex(self) -> dict[str, Any]:
        site: dict[str, Any] = follow_up.follow_up(self.db, self.derm, self.patient)["sites"][
            "vertex"
        ]
        return site


@pytest.fixture
def site(db: Database, tmp_path: Path) -> _Site:
    return _Site(db, tmp_path)


def test_an_afternoon_visit_past_midnight_utc_is_one_visit(site: _Site) -> None:
    first = datetime(2025, 11, 12, 15, 50, tzinfo=LOS_ANGELES)
    site.upload(41, first)
    site.upload(42, first + timedelta(minutes=20))  # 00:10 UTC, the next day there
    assert site.vertex()["visits"] == 1
    site.upload(43, datetime(2026, 2, 11, 10, 0, tzinfo=LOS_ANGELES))
    vertex = site.vertex()
    assert vertex["visits"] == 2
    assert vertex["hair_by_hair"] is not None  # the two visits compared, image by image
    assert [r["measured_at"][:10] for r in vertex["readings"]] == [
        "2025-11-12",
        "2025-11-13",  # (stored in UTC)
        "2026-02-11",
    ]


def test_the_report_dates_the_visits_by_the_clinics_calendar(site: _Site) -> None:
    site.upload(41, datetime(2025, 11, 12, 16, 10, tzinfo=LOS_ANGELES))  # 00:10 UTC on the 13th
    site.upload(43, datetime(2026, 2, 11, 10, 0, tzinfo=LOS_ANGELES))
    context = reports.report_context(site.db, site.store, site.derm, site.patient, "clinician")
    page = " ".join(render_report_html(context).split())
    assert "Baseline 2025-11-12" in page
    assert "2025-11-13" not in page


def test_a_time_without_an_offset_is_the_clinics_wall_clock(site: _Site) -> None:
    stored = site.upload(41, datetime(2025, 11, 12, 16, 10))
    assert datetime.fromisoformat(stored["taken_at"]) == datetime(2025, 11, 13, 0, 10, tzinfo=UTC)


def test_an_image_taken_in_the_future_is_refused(site: _Site) -> None:
    with pytest.raises(InputInvalid) as caught:
        site.upload(41, datetime.now(UTC) + timedelta(hours=2))
    assert caught.value.errors[0].pointer == "/taken_at"


def test_an_image_time_in_a_year_no_clinic_means_is_refused(site: _Site) -> None:
    with pytest.raises(InputInvalid) as caught:
        site.upload(41, datetime(9999, 12, 31, 23, 0))  # (in UTC, the year 10000)
    assert caught.value.errors[0].pointer == "/taken_at"
