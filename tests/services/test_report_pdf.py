"""The progress report as a PDF (issue: documents, "The PDF is checked by rendering its pages
to PNG (pdftoppm) in a test and asserting they are not blank"): the demo's patient 3, both
copies, through the real CLI; pages rendered with poppler and read back as text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from follicle.records.files import ImageStore
from follicle.records.models import Clinic, Patient
from follicle.services.actors import cli_actor
from follicle.services.database import Database
from follicle.services.demo import DEMO_PHONE, load_demo
from follicle.settings import Settings
from tests.support.server import follicle_env, run_follicle


def _pages(pdf: Path, folder: Path) -> list[np.ndarray]:
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdf), str(folder / "page")], check=True, timeout=120
    )
    return [np.asarray(Image.open(p).convert("L")) for p in sorted(folder.glob("page-*.png"))]


def _text(pdf: Path) -> str:
    raw = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    return " ".join(raw.split())  # table cells wrap: compare words, not lines


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the layout is backend-blind
def test_the_clinician_and_patient_reports_render_with_content_on_every_page(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    load_demo(db, cli_actor(), store=ImageStore(settings.image_dir))
    with db.transaction() as session:
        cyrus = session.scalars(select(Patient.id).where(Patient.family_name == "Demoford")).one()
    env = follicle_env(
        FOLLICLE_MODE="demo",
        FOLLICLE_DATA_DIR=str(settings.data_dir),
        FOLLICLE_DATABASE_URL=settings.database_url or "",
        FOLLICLE_SECRET_KEY=settings.secret_key or "",
    )
    texts = {}
    for audience in ("clinician", "patient"):
        pdf = tmp_path / f"{audience}.pdf"
        done = run_follicle(
            ["report", "--patient", cyrus, "--pdf", str(pdf), "--audience", audience], env=env
        )
        assert done.returncode == 0, done.stderr
        assert pdf.read_bytes().startswith(b"%PDF-")
        folder = tmp_path / audience
        folder.mkdir()
        pages = _pages(pdf, folder)
        assert pages
        for number, page in enumerate(pages, start=1):
            inked = float((page < 200).mean())  # share of pixels that are not paper
            assert inked > 0.01, f"{audience} page {number} is blank ({inked:.4f})"
        texts[audience] = _text(pdf)
        if audience == "clinician":
            assert len(pages) >= 3
    clinician, patient = texts["clinician"], texts["patient"]
    for expected in (
        "Cyrus Demoford",
        "Progress report",
        "LOT-2611",  # sessions with device and lot (the cell wraps after "DEMO-")
        "95 % interval",
        "Responder: yes",  # the demo follow-up has about a fifth more hairs
        "Sources cited",
        "consensus-responder",
        "Adverse events",
        "(typed)",  # the baseline was read at a typed scale, the follow-up at a measured one
        "Demo dermoscope",
        "reduced resolution (4:2:0)",  # the baseline's phone JPEG, said where the change is
        "Images set aside",  # the overexposed one, with why
        "Hair by hair",  # the follow-up's images compared with the baseline's, registered
        "over 9 image pairs",
        "light was on high",
        "The patient's view",  # his own answer, beside the measurements
        "Slightly increased",
        "consensus-patient-outcome",
    ):
        assert expected in clinician, expected
    assert "Your progress" in patient
    assert "How you see it" in patient
    assert "Slightly increased" in patient
    assert "DEMO-LOT" not in patient  # plain language: no lots, intervals or citations
    assert "interval" not in patient
    assert "4:2:0" not in patient  # a technical matter for the clinic
    assert "set aside" not in patient
    assert "not guaranteed" in patient
    assert f"Demo Hair Clinic · phone {DEMO_PHONE}" in patient  # (whom to call, on the first page)

    refused = run_follicle(
        ["report", "--patient", "pat_nobody", "--pdf", str(tmp_path / "x.pdf")], env=env
    )
    assert refused.returncode != 0
    assert "no patient" in refused.stderr + refused.stdout


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_names_in_any_script_and_with_apostrophes_print_as_written(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    # With DejaVu alone, a Chinese, Korean or Hindi name printed as empty boxes (tofu): the
    # set-up installs Noto for the other scripts, and the report falls back to it glyph by
    # glyph. The footer, in CSS, printed a clinic's apostrophe and ampersand HTML-escaped
    # ("St John&#39;s &amp; ..."), in a serif font.
    load_demo(db, cli_actor(), store=ImageStore(settings.image_dir))
    with db.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.family_name == "Demoford")).one()
        patient.family_name, patient.given_name = "王", "芳 (김민준, आनंद, สมชาย)"
        patient_id = patient.id
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None
        clinic.name = 'St John\'s & "Partners" Hair Clinic'
    env = follicle_env(
        FOLLICLE_MODE="demo",
        FOLLICLE_DATA_DIR=str(settings.data_dir),
        FOLLICLE_DATABASE_URL=settings.database_url or "",
        FOLLICLE_SECRET_KEY=settings.secret_key or "",
    )
    pdf = tmp_path / "report.pdf"
    done = run_follicle(["report", "--patient", patient_id, "--pdf", str(pdf)], env=env)
    assert done.returncode == 0, done.stderr
    text = _text(pdf)
    assert "芳 (김민준, आनंद, สมชาย) 王" in text
    assert 'St John\'s & "Partners" Hair Clinic · Follicle · rules' in text
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    for script in ("CJK", "Devanagari", "Thai"):  # (a font for each is embedded)
        assert f"Noto-Sans-{script}" in fonts or f"NotoSans{script}" in fonts, (script, fonts)
    assert "Serif" not in fonts  # (the footer too is in the report's sans-serif)
