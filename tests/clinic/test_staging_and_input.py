"""Input the schema allows but the contract does not: named field, clear message."""

from __future__ import annotations

import pytest

from follicle.clinic.errors import InputInvalid
from follicle.clinic.screening import screen
from tests.support.intakes import areata_intake, base_intake, female_intake


def _error(document: dict[str, object]) -> tuple[str, str]:
    with pytest.raises(InputInvalid) as caught:
        screen(document)
    [error] = caught.value.errors
    return error.pointer, error.message


def test_norwood_with_alopecia_areata_is_an_input_error() -> None:
    document = areata_intake()
    document["hair_loss"]["norwood"] = "III"
    pointer, message = _error(document)
    assert pointer == "/hair_loss/norwood"
    assert "androgenetic alopecia only" in message
    assert "alopecia areata" in message


def test_salt_with_pattern_loss_is_an_input_error() -> None:
    document = base_intake()
    document["hair_loss"]["salt_score"] = 30
    assert _error(document)[0] == "/hair_loss/salt_score"


def test_none_must_stand_alone() -> None:
    document = base_intake()
    document["hair_loss"]["scalp_findings"] = ["none", "erythema"]
    pointer, message = _error(document)
    assert pointer == "/hair_loss/scalp_findings"
    assert "stand alone" in message


def test_ludwig_in_a_man_is_allowed_with_an_info_finding() -> None:
    document = base_intake()
    del document["hair_loss"]["norwood"]
    document["hair_loss"]["ludwig"] = "II"
    finding = screen(document).fired("stage-unusual-for-sex")
    assert finding is not None
    assert finding.level.name == "info"
    assert "Ludwig" in finding.reason


def test_scales_are_not_unusual_for_an_intersex_patient() -> None:
    document = female_intake()
    document["patient"]["sex_at_birth"] = "intersex"
    document["hair_loss"]["norwood"] = "III"
    assert screen(document).fired("stage-unusual-for-sex") is None


def test_unknown_keys_are_refused_not_ignored() -> None:
    document = base_intake()
    document["patient"]["weight_kg"] = 80
    pointer, message = _error(document)
    assert pointer == "/patient"
    assert "weight_kg" in message
