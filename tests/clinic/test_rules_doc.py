"""The clinicians' rule table is generated from the catalogue and kept current."""

from __future__ import annotations

from pathlib import Path

from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.rules_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "clinical-rules.md"


def test_docs_clinical_rules_is_up_to_date() -> None:
    assert DOC.read_text() == render(load_catalogue()), "run `make docs` and commit the result"


def test_the_table_lists_every_rule_and_source() -> None:
    catalogue = load_catalogue()
    text = render(catalogue)
    for rule_id in catalogue.rules:
        assert f"| `{rule_id}` |" in text
    for source_id in catalogue.sources:
        assert f"### {source_id}\n" in text
