"""The package's copy of the shared contracts stays identical, and the examples stay valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from follicle.clinic.intake import IntakeInvalid, schema_text, validate_intake

SHARED = Path(__file__).resolve().parents[2] / "shared"
EXAMPLES = sorted((SHARED / "examples" / "intake").glob("*.json"))


def _example(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((SHARED / "examples" / "intake" / name).read_text())
    return data


@pytest.mark.skipif(not (SHARED / "contracts").is_dir(), reason="../shared is not beside the repo")
def test_packaged_intake_schema_is_the_shared_contract() -> None:
    shared = (SHARED / "contracts" / "intake.schema.json").read_text()
    assert json.loads(schema_text()) == json.loads(shared)
    assert schema_text() == shared


@pytest.mark.parametrize(
    "path",
    [p for p in EXAMPLES if p.name != "expected-decisions.json"],
    ids=lambda p: p.name,
)
def test_every_shared_intake_example_is_valid(path: Path) -> None:
    validate_intake(json.loads(path.read_text()))


def test_unknown_vocabulary_names_the_field_and_the_allowed_values() -> None:
    document = _minimal()
    document["patient"]["sex_at_birth"] = "m"
    with pytest.raises(IntakeInvalid) as caught:
        validate_intake(document)
    [error] = caught.value.errors
    assert error.pointer == "/patient/sex_at_birth"
    assert '"female"' in error.message
    assert '"intersex"' in error.message


def test_unknown_key_is_an_error() -> None:
    document = _minimal()
    document["history"]["favourite_colour"] = "blue"
    with pytest.raises(IntakeInvalid) as caught:
        validate_intake(document)
    assert caught.value.errors[0].pointer == "/history"
    assert "favourite_colour" in caught.value.errors[0].message


def test_pointer_reaches_into_lists() -> None:
    document = _minimal()
    document["history"]["medications"] = [{"class": "anticoagulant"}, {"class": "warfarin"}]
    with pytest.raises(IntakeInvalid) as caught:
        validate_intake(document)
    assert [e.pointer for e in caught.value.errors] == ["/history/medications/1/class"]


def _minimal() -> dict[str, dict[str, object] | str]:
    return {
        "schema": "follicle.intake/1",
        "patient": {"age_years": 40, "sex_at_birth": "male", "fitzpatrick": 2},
        "hair_loss": {
            "working_diagnosis": "androgenetic_alopecia",
            "onset": "gradual",
            "duration_months": 12,
        },
        "history": {"conditions": [], "medications": [], "allergies": []},
    }  # type: ignore[return-value]
