"""Research export of the demo clinic (issue: documents, "CSV export of measurements and
sessions for research, one row per measurement, with a data dictionary")."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from sqlalchemy import select

from follicle.records.files import ImageStore
from follicle.records.models import Measurement, Patient, PatientOutcome, SessionRecord
from follicle.services import exports
from follicle.services.actors import cli_actor
from follicle.services.database import Database
from follicle.services.demo import load_demo
from follicle.settings import Settings
from tests.support.server import follicle_env, run_follicle

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_is_pseudonymised_complete_and_matches_its_dictionary(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    load_demo(db, cli_actor(), store=ImageStore(tmp_path / "images"))
    result = run_follicle(
        ["export", "csv", str(tmp_path / "out")],
        env=follicle_env(
            FOLLICLE_MODE="demo",
            FOLLICLE_DATA_DIR=str(settings.data_dir),
            FOLLICLE_DATABASE_URL=settings.database_url or "",
            FOLLICLE_SECRET_KEY=settings.secret_key or "",
        ),
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    measurements = _rows((out / "measurements.csv").read_text(encoding="utf-8"))
    sessions = _rows((out / "sessions.csv").read_text(encoding="utf-8"))
    outcomes = _rows((out / "patient_outcomes.csv").read_text(encoding="utf-8"))
    dictionary = _rows((out / "data-dictionary.csv").read_text(encoding="utf-8"))

    with db.transaction() as session:
        # (a measurement set aside, voided, is left out: the demo has one)
        stored = session.scalars(select(Measurement).where(Measurement.voided_at.is_(None))).all()
        assert session.scalars(select(Measurement).where(Measurement.voided_at.is_not(None))).all()
        records = session.scalars(select(SessionRecord)).all()
        people = session.scalars(select(Patient)).all()
    assert len(measurements) == len(stored) > 0  # one row per measurement
    assert len(sessions) == len(records) > 0
    for file, rows in (
        ("measurements.csv", measurements),
        ("sessions.csv", sessions),
        ("patient_outcomes.csv", outcomes),
    ):
        assert list(rows[0]) == [d["column"] for d in dictionary if d["file"] == file]
    assert "patient-reported outcomes" in result.stdout

    text = "".join(
        (out / name).read_text()
        for name in ("measurements.csv", "sessions.csv", "patient_outcomes.csv")
    )
    for person in people:  # nothing that names a patient leaves
        assert person.family_name not in text
        assert person.id not in text
        assert person.date_of_birth.isoformat() not in text
        if person.email:
            assert person.email not in text

    # Patient 3's course: the same pseudonym in both files, baseline before the sessions.
    by_id = {m.id: m for m in stored}
    cyrus = next(p for p in people if p.family_name == "Demoford")
    name = exports.pseudonym(settings.resolved_secret_key(), cyrus.id)
    mine = sorted((r for r in measurements if r["patient"] == name), key=lambda r: r["measured_on"])
    assert [r["sessions_before"] for r in mine] == ["0"] * 3 + ["3"] * 3  # 3 images a visit
    assert int(mine[0]["days_since_first_session"]) <= 0 < int(mine[-1]["days_since_first_session"])
    assert [r["session_number"] for r in sessions if r["patient"] == name] == ["1", "2", "3"]
    for row in mine:
        stored_row = by_id[row["measurement_id"]]
        assert float(row["density_per_cm2"]) == round(stored_row.density_per_cm2, 1)
        on, born = date.fromisoformat(row["measured_on"]), cyrus.date_of_birth
        assert int(row["age_years"]) == on.year - born.year - (
            (on.month, on.day) < (born.month, born.day)
        )
    assert {r["working_diagnosis"] for r in mine} == {"androgenetic_alopecia"}
    # the demo's baseline was read at a typed scale, its follow-up at the measured one
    assert [r["scale_setting"] for r in mine] == [""] * 3 + ["Demo dermoscope (synthetic), 20x"] * 3
    assert {round(float(r["um_per_px"]), 2) for r in mine} == {5.0}
    # the baseline's last image was a phone's JPEG, its colour at half resolution
    assert [bool(r["image_warnings"]) for r in mine] == [False, False, True] + [False] * 3
    assert "(4:2:0)" in mine[2]["image_warnings"]
    # His own view, from the portal, after his three sessions; the comment stays at the clinic.
    with db.transaction() as session:
        said = session.scalars(select(PatientOutcome)).all()
    assert len(outcomes) == len(said) > 0
    (his,) = [r for r in outcomes if r["patient"] == name]
    assert (his["change_score"], his["answer"], his["asked_by"]) == (
        "1",
        "Slightly increased",
        "portal",
    )
    assert his["sessions_before"] == "3"
    assert int(his["days_since_first_session"]) > 0
    assert his["working_diagnosis"] == "androgenetic_alopecia"
    assert "bathroom" not in text
    assert "comment" not in outcomes[0]


def test_the_data_dictionary_document_is_current() -> None:
    assert DOC.read_text() == exports.dictionary_markdown(), "run `make docs` and commit"


def test_formula_cells_are_neutralised() -> None:
    text = exports.to_csv(
        [{c.name: "=cmd()" if c.name == "device" else "" for c in exports.SESSION_COLUMNS}],
        exports.SESSION_COLUMNS,
    )
    assert _rows(text)[0]["device"] == "'=cmd()"
    assert _rows(text)[0]["lot_number"] == ""  # an empty cell stays empty (it was "'")


def test_a_cell_starting_with_a_tab_or_return_is_neutralised() -> None:
    # (OWASP ASVS 5.0, 1.2.10: a tab before a formula still runs in some spreadsheets)
    names = ("device", "lot_number", "operator_role")
    text = exports.csv_text([dict(zip(names, ("\t=cmd()", "\r+1", "a=b"), strict=True))], names)
    assert _rows(text)[0] == {"device": "'\t=cmd()", "lot_number": "'\r+1", "operator_role": "a=b"}
