"""The evidence catalogue is whole: every rule, default and item cites known evidence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from follicle.clinic.catalogue import (
    SOURCE_KINDS,
    CatalogueError,
    catalogue_texts,
    load_catalogue,
    parse_catalogue,
)
from follicle.clinic.intake import schema_text
from follicle.clinic.rules import RULES


def test_catalogue_loads_and_names_its_version() -> None:
    catalogue = load_catalogue()
    assert catalogue.rules_version.startswith(catalogue.version + "+")
    assert len(catalogue.sources) >= 20


def test_every_rule_in_the_catalogue_has_code_and_every_predicate_has_a_rule() -> None:
    assert set(RULES) == set(load_catalogue().rules)


def test_every_source_has_the_contract_shape() -> None:
    for source in load_catalogue().sources.values():
        entry = source.as_contract()
        assert {"id", "kind", "citation", "summary"} <= set(entry)
        assert entry["kind"] in SOURCE_KINDS
        if entry["kind"] in {"trial", "systematic_review", "review"}:
            assert "doi" in entry or "pmid" in entry, source.id
        if entry["kind"] == "consensus":
            assert "no primary source" in entry["citation"]


def _vocabulary(schema: dict[str, Any]) -> dict[str, list[str]]:
    props = schema["properties"]
    history = props["history"]["properties"]
    return {
        "hair_loss.working_diagnosis": props["hair_loss"]["properties"]["working_diagnosis"][
            "enum"
        ],
        "hair_loss.scalp_findings": props["hair_loss"]["properties"]["scalp_findings"]["items"][
            "enum"
        ],
        "history.conditions": history["conditions"]["items"]["enum"],
        "history.active_scalp_conditions": history["active_scalp_conditions"]["items"]["enum"],
        "history.medications.class": history["medications"]["items"]["properties"]["class"]["enum"],
        "history.allergies": history["allergies"]["items"]["enum"],
        "operator.credential": props["operator"]["properties"]["credential"]["enum"],
    }


def test_the_whole_intake_vocabulary_is_accounted_for() -> None:
    """Each value either triggers a named rule or says why it needs none."""
    catalogue = load_catalogue()
    for field, values in _vocabulary(json.loads(schema_text())).items():
        assert set(catalogue.vocabulary[field]) == set(values), field


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        ("rules.yaml", "evidence: [consensus-keloid]\n", "evidence: []\n", "names no evidence"),
        (
            "rules.yaml",
            "[chu-2021, consensus-active-lesions]",
            "[chu-2021, made-up-2020]",
            "unknown evidence 'made-up-2020'",
        ),
        ("plans.yaml", "value: 0.6\n", "value: 9.0\n", "outside its bounds"),
        (
            "aftercare.yaml",
            "evidence: [consensus-aftercare]",
            "evidence: [nobody-2019]",
            "aftercare item",
        ),
        ("sources.yaml", 'pmid: "34448760"\n', "\n", "paper without a DOI or PMID"),
    ],
)
def test_a_broken_catalogue_is_refused(file: str, old: str, new: str, problem: str) -> None:
    texts = catalogue_texts()
    assert old in texts[file]
    texts[file] = texts[file].replace(old, new, 1)
    with pytest.raises(CatalogueError, match=problem):
        parse_catalogue(texts)
