"""Properties over generated intakes and clinic settings (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from follicle.clinic.clinic_settings import ClinicSettings, parse_clinic_settings
from follicle.clinic.intake import schema_text
from follicle.clinic.planning import make_plan
from follicle.clinic.screening import screen

SCHEMA = json.loads(schema_text())
PROPS = SCHEMA["properties"]
HISTORY = PROPS["history"]["properties"]
HAIR = PROPS["hair_loss"]["properties"]
CONDITIONS = HISTORY["conditions"]["items"]["enum"]
ACTIVE = HISTORY["active_scalp_conditions"]["items"]["enum"]
MED_CLASSES = HISTORY["medications"]["items"]["properties"]["class"]["enum"]
ALLERGIES = HISTORY["allergies"]["items"]["enum"]
FINDINGS = [f for f in HAIR["scalp_findings"]["items"]["enum"] if f != "none"]
CREDENTIALS = PROPS["operator"]["properties"]["credential"]["enum"]
SEVERITY = ["eligible", "eligible_with_cautions", "defer", "refer", "contraindicated"]


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _subset(values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=4)


medications = st.lists(
    st.fixed_dictionaries(
        {"class": st.sampled_from(MED_CLASSES)},
        optional={
            "stopped_months_ago": st.floats(0, 36, allow_nan=False),
            "name": st.text(max_size=20),
        },
    ),
    max_size=3,
)


@st.composite
def intakes(draw: st.DrawFn) -> dict[str, Any]:
    diagnosis = draw(st.sampled_from(HAIR["working_diagnosis"]["enum"]))
    patient: dict[str, Any] = {
        "age_years": draw(st.integers(10, 90)),
        "sex_at_birth": draw(st.sampled_from(["female", "male", "intersex"])),
        "fitzpatrick": draw(st.integers(1, 6)),
    }
    for question in ("pregnant", "breastfeeding", "trying_to_conceive"):
        answer = draw(_optional(st.booleans()))
        if answer is not None:
            patient[question] = answer
    hair_loss: dict[str, Any] = {
        "working_diagnosis": diagnosis,
        "onset": draw(st.sampled_from(["gradual", "sudden"])),
        "duration_months": draw(st.integers(0, 240)),
    }
    if diagnosis == "androgenetic_alopecia":
        stage = draw(st.sampled_from(["norwood", "ludwig", "sinclair", None]))
        if stage:
            hair_loss[stage] = draw(
                st.integers(1, 5) if stage == "sinclair" else st.sampled_from(HAIR[stage]["enum"])
            )
    elif diagnosis == "alopecia_areata" and draw(st.booleans()):
        hair_loss["salt_score"] = draw(st.floats(0, 100, allow_nan=False))
    findings = draw(_optional(st.just(["none"]) | _subset(FINDINGS)))
    if findings is not None:
        hair_loss["scalp_findings"] = findings
    diagnosed_by = draw(_optional(st.sampled_from(["dermatologist", "physician", "other"])))
    if diagnosed_by:
        hair_loss["diagnosed_by"] = diagnosed_by
    history: dict[str, Any] = {
        "conditions": draw(_subset(CONDITIONS)),
        "medications": draw(medications),
        "allergies": draw(_subset(ALLERGIES)),
    }
    active = draw(_optional(_subset(ACTIVE)))
    if active is not None:
        history["active_scalp_conditions"] = active
    document: dict[str, Any] = {
        "schema": "follicle.intake/1",
        "patient": patient,
        "hair_loss": hair_loss,
        "history": history,
    }
    credential = draw(_optional(st.sampled_from(CREDENTIALS)))
    if credential:
        document["operator"] = {"credential": credential}
    if draw(st.booleans()):
        document["preferences"] = {
            "accepts_topical_minoxidil": draw(st.booleans()),
            "low_pain_tolerance": draw(st.booleans()),
        }
    return document


@st.composite
def clinic_settings(draw: st.DrawFn) -> ClinicSettings:
    low = draw(st.sampled_from([0.25, 0.5, 0.75, 1.0]))
    high = draw(st.sampled_from([1.0, 1.5, 2.0, 2.5]).filter(lambda h: h >= low))
    depth_for = {
        c: draw(st.sampled_from([0.0, low, (low + high) / 2, high]))
        for c in CREDENTIALS
        if c != "unlicensed"
    }
    sessions_low = draw(st.integers(3, 12))
    interval_low = draw(st.integers(7, 21))
    return parse_clinic_settings(
        {
            "plan_bounds": {
                "needle_depth_mm": [low, high],
                "sessions": [sessions_low, draw(st.integers(sessions_low, 24))],
                "interval_days": [interval_low, draw(st.integers(interval_low, 28))],
            },
            "max_depth_mm_by_credential": depth_for,
        }
    )


def _severity(document: dict[str, Any]) -> int:
    return SEVERITY.index(screen(document).decision)


@st.composite
def additions(draw: st.DrawFn, document: dict[str, Any]) -> dict[str, Any]:
    """The same intake with one more condition, medication, allergy or finding."""
    grown = json.loads(json.dumps(document))
    history, hair = grown["history"], grown["hair_loss"]
    kinds = ["condition", "medication", "allergy"]
    if "active_scalp_conditions" in history:
        kinds.append("active")
    if "scalp_findings" in hair:
        kinds.append("finding")
    kind = draw(st.sampled_from(kinds))
    if kind == "medication":
        history["medications"].append(draw(medications.filter(bool))[0])
        return grown
    field, values, target = {
        "condition": ("conditions", CONDITIONS, history),
        "allergy": ("allergies", ALLERGIES, history),
        "active": ("active_scalp_conditions", ACTIVE, history),
        "finding": ("scalp_findings", FINDINGS, hair),
    }[kind]
    current = [v for v in target[field] if v != "none"]
    value = draw(st.sampled_from(values))
    if value not in current:
        current.append(value)
    target[field] = current
    return grown


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_adding_a_condition_never_makes_the_decision_less_severe(data: st.DataObject) -> None:
    document = data.draw(intakes())
    grown = data.draw(additions(document))
    assert _severity(grown) >= _severity(document)


@settings(max_examples=300, deadline=None)
@given(document=intakes(), clinic=clinic_settings())
def test_a_plan_stays_within_bounds_and_the_operator_limit(
    document: dict[str, Any], clinic: ClinicSettings
) -> None:
    result = make_plan(document, clinic)
    plan = result.plan
    decision = result.screening.decision
    assert (plan is None) == (decision in {"defer", "refer", "contraindicated"})
    if plan is None:
        return
    for name in ("needle_depth_mm", "interval_days", "sessions"):
        low, high = clinic.bounds(name)
        assert low <= plan[name] <= high, name
    if plan["operator_max_depth_mm"] is not None:
        assert plan["needle_depth_mm"] <= plan["operator_max_depth_mm"]
    credential = document.get("operator", {}).get("credential")
    if credential:
        assert plan["needle_depth_mm"] <= clinic.max_depth_mm(credential)
