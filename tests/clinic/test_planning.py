"""Plans: cited defaults, the clinic's choices, cautions that adjust, and limits never passed."""

from __future__ import annotations

from typing import Any

import pytest

from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.clinic_settings import ClinicSettingsInvalid, parse_clinic_settings
from follicle.clinic.planning import make_plan
from tests.support.intakes import areata_intake, base_intake, female_intake

CONTRACT_KEYS = {
    "indication",
    "needle_depth_mm",
    "interval_days",
    "sessions",
    "endpoint",
    "topicals",
    "review_after_weeks",
    "operator_max_depth_mm",
    "anaesthesia",
    "test_patch",
    "adjustments",
    "bounds",
    "aftercare",
    "evidence",
}


def _plan(document: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = parse_clinic_settings(config) if config is not None else None
    plan = make_plan(document, settings).plan
    assert plan is not None
    return plan


def _reasons(plan: dict[str, Any]) -> str:
    return " | ".join(a["reason"] for a in plan["adjustments"])


def test_default_pattern_loss_plan_has_the_contract_shape_and_cited_defaults() -> None:
    plan = _plan(base_intake())
    assert set(plan) >= CONTRACT_KEYS
    defaults = load_catalogue().indications["androgenetic_alopecia"]
    assert plan["needle_depth_mm"] == defaults.needle_depth_mm.value
    assert plan["interval_days"] == defaults.interval_days.value
    assert plan["topicals"] == [{"name": "minoxidil 5%", "restart_after_hours": 24}]
    assert plan["adjustments"] == []
    known = set(load_catalogue().sources)
    assert set(plan["evidence"]) <= known
    assert all(set(item["evidence"]) <= known for item in plan["aftercare"])


def test_women_get_the_2_percent_minoxidil_of_the_female_trials() -> None:
    plan = _plan(female_intake())
    assert plan["topicals"][0]["name"] == "minoxidil 2%"
    assert "fphl-microneedling-2022" in plan["evidence"]


@pytest.mark.parametrize(
    "decision_maker",
    [
        lambda d: d["history"]["conditions"].append("keloid_history"),
        lambda d: d["history"]["active_scalp_conditions"].append("open_wound"),
        lambda d: d["hair_loss"].update(scalp_findings=["scarring_patches"]),
    ],
)
def test_no_plan_unless_eligible(decision_maker: Any) -> None:
    document = base_intake()
    decision_maker(document)
    result = make_plan(document)
    assert result.plan is None
    assert result.why_no_plan
    assert result.as_contract()["plan"] is None


def test_darker_skin_gets_a_test_patch_and_the_gentle_endpoint() -> None:
    document = base_intake()
    document["patient"]["fitzpatrick"] = 6
    plan = _plan(
        document,
        {
            "plan_defaults": {
                "androgenetic_alopecia": {"needle_depth_mm": 1.5, "endpoint": "pinpoint_bleeding"}
            }
        },
    )
    assert plan["test_patch"] is True
    assert plan["endpoint"] == "mild_erythema"
    assert plan["needle_depth_mm"] == 1.0
    assert "Fitzpatrick VI" in _reasons(plan)


def test_an_aesthetician_is_held_to_their_depth_limit() -> None:
    document = base_intake()
    document["operator"] = {"credential": "licensed_aesthetician"}
    plan = _plan(document)
    assert plan["needle_depth_mm"] == 0.5
    assert plan["operator_max_depth_mm"] == 0.5
    assert "licensed aesthetician" in _reasons(plan)


def test_no_operator_means_no_limit_yet() -> None:
    document = base_intake()
    del document["operator"]
    assert _plan(document)["operator_max_depth_mm"] is None


@pytest.mark.parametrize(
    ("allergy_or_state", "expect_topicals"),
    [
        ("minoxidil", []),
        ("propylene_glycol", ["minoxidil 5% foam (propylene-glycol-free)"]),
    ],
)
def test_allergies_change_the_topicals(allergy_or_state: str, expect_topicals: list[str]) -> None:
    document = base_intake()
    document["history"]["allergies"].append(allergy_or_state)
    plan = _plan(document)
    assert [t["name"] for t in plan["topicals"]] == expect_topicals
    restarts = any(i["instruction"].startswith("Restart") for i in plan["aftercare"])
    assert restarts == bool(expect_topicals)


def test_breastfeeding_leaves_minoxidil_out() -> None:
    plan = _plan(female_intake(breastfeeding=True))
    assert plan["topicals"] == []
    assert "breastfeeding" in _reasons(plan)


def test_patient_preference_against_minoxidil_is_respected() -> None:
    document = base_intake()
    document["preferences"] = {"accepts_topical_minoxidil": False}
    assert _plan(document)["topicals"] == []


def test_anaesthesia_follows_depth_pain_and_lidocaine_allergy() -> None:
    document = base_intake()
    assert _plan(document)["anaesthesia"] == "none"
    document["preferences"] = {"low_pain_tolerance": True}
    assert _plan(document)["anaesthesia"] == "topical_lidocaine"
    document["history"]["allergies"].append("lidocaine")
    assert _plan(document)["anaesthesia"] == "cold"


def test_the_clinics_bounds_are_kept() -> None:
    config = {
        "plan_bounds": {"needle_depth_mm": [0.75, 1.5], "sessions": [4, 8]},
        "max_depth_mm_by_credential": {"licensed_aesthetician": 0},
    }
    plan = _plan(base_intake(), config)
    assert plan["needle_depth_mm"] == 0.75
    assert plan["sessions"] == 8
    assert plan["bounds"]["needle_depth_mm"] == [0.75, 1.5]
    assert "kept within this clinic's range" in _reasons(plan)


def test_alopecia_areata_plan_is_dermatologist_led_with_steroid_delivery() -> None:
    plan = _plan(areata_intake())
    assert plan["indication"] == "alopecia_areata"
    assert plan["interval_days"] == 21
    assert plan["sessions"] == 3
    assert "triamcinolone" in plan["topicals"][0]["name"]
    assert "dermatologist-led" in _reasons(plan)


@pytest.mark.parametrize(
    ("config", "pointer"),
    [
        ({"plan_bounds": {"needle_depth_mm": [0.1, 3.0]}}, "/plan_bounds/needle_depth_mm"),
        ({"rule_levels": {"keloid-history": "caution"}}, "/rule_levels/keloid-history"),
        ({"rule_levels": {"no-such-rule": "defer"}}, "/rule_levels/no-such-rule"),
        ({"isotretinoin_washout_months": 24}, "/isotretinoin_washout_months"),
        (
            {"max_depth_mm_by_credential": {"unlicensed": 0.5}},
            "/max_depth_mm_by_credential/unlicensed",
        ),
        (
            {"plan_bounds": {"needle_depth_mm": [0.8, 2.0]}},
            "/max_depth_mm_by_credential/licensed_aesthetician",
        ),
        (
            {"plan_defaults": {"androgenetic_alopecia": {"sessions": 40}}},
            "/plan_defaults/androgenetic_alopecia/sessions",
        ),
        ({"colour": "blue"}, "/colour"),
        ({"rule_levels": ["keloid-history"]}, "/rule_levels"),
    ],
)
def test_clinic_settings_outside_the_evidence_are_refused(
    config: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(ClinicSettingsInvalid) as caught:
        parse_clinic_settings(config)
    assert pointer in [e.pointer for e in caught.value.errors]


def test_settings_round_trip_through_their_document() -> None:
    config = {
        "schema": "follicle.clinic-settings/1",
        "plan_bounds": {"sessions": [4, 12]},
        "max_depth_mm_by_credential": {"registered_nurse": 0.0},
        "isotretinoin_washout_months": 3.0,
        "rule_levels": {"antiplatelet": "defer"},
        "plan_defaults": {"alopecia_areata": {"sessions": 4}},
    }
    assert parse_clinic_settings(config).as_document() == config
