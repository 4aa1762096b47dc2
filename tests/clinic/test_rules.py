"""Every screening rule fires when it should and not otherwise, at its catalogue level."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from follicle.clinic.catalogue import Level, load_catalogue
from follicle.clinic.clinic_settings import parse_clinic_settings
from follicle.clinic.screening import screen
from tests.support.intakes import areata_intake, base_intake, female_intake

Doc = dict[str, Any]


def _cond(*values: str) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        doc["history"]["conditions"] += list(values)
        return doc

    return mutate


def _active(*values: str) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        doc["history"]["active_scalp_conditions"] += list(values)
        return doc

    return mutate


def _finding(*values: str) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        doc["hair_loss"]["scalp_findings"] += list(values)
        return doc

    return mutate


def _med(drug_class: str, **extra: Any) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        doc["history"]["medications"].append({"class": drug_class, **extra})
        return doc

    return mutate


def _allergy(*values: str) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        doc["history"]["allergies"] += list(values)
        return doc

    return mutate


def _patient(**values: Any) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        doc["patient"].update(values)
        return doc

    return mutate


def _hair(**values: Any) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        doc["hair_loss"].update(values)
        return doc

    return mutate


def _without(section: str, key: str) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        del doc[section][key]
        return doc

    return mutate


def _operator(credential: str | None) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        if credential is None:
            del doc["operator"]
        else:
            doc["operator"] = {"credential": credential}
        return doc

    return mutate


def _female_unasked(doc: Doc) -> Doc:
    female = female_intake()
    del female["patient"]["pregnant"]
    return female


def _procedure_complication(doc: Doc) -> Doc:
    doc["history"]["prior_procedures"] = [{"kind": "prp", "months_ago": 8, "complication": True}]
    return doc


def _norwood_female(doc: Doc) -> Doc:
    female = female_intake()
    del female["hair_loss"]["ludwig"]
    female["hair_loss"]["norwood"] = "III"
    return female


FIRES: dict[str, Callable[[Doc], Doc]] = {
    "active-scalp-infection": _active("fungal_infection"),
    "scalp-signs-of-active-inflammation": _finding("pustules"),
    "active-lesion-at-site": _active("sunburn"),
    "scalp-redness-or-scaling": _finding("erythema"),
    "suspicious-lesion": _active("suspicious_lesion"),
    "keloid-history": _cond("keloid_history"),
    "hypertrophic-scar-history": _cond("hypertrophic_scar_history"),
    "diabetes-uncontrolled": _cond("diabetes_uncontrolled"),
    "bleeding-disorder": _cond("thrombocytopenia"),
    "anticoagulant": _med("anticoagulant", name="apixaban"),
    "antiplatelet": _med("antiplatelet", name="clopidogrel"),
    "nsaid-regular": _med("nsaid_regular"),
    "isotretinoin-current": _med("isotretinoin"),
    "isotretinoin-recent": _med("isotretinoin", stopped_months_ago=2),
    "immunosuppression": _med("jak_inhibitor", name="baricitinib"),
    "chemotherapy-current": _cond("chemotherapy_current"),
    "topical-retinoid": _med("topical_retinoid"),
    "pregnancy": lambda doc: female_intake(pregnant=True),
    "breastfeeding": lambda doc: female_intake(breastfeeding=True),
    "trying-to-conceive": lambda doc: female_intake(trying_to_conceive=True),
    "pregnancy-status-not-recorded": _female_unasked,
    "active-cancer": _cond("active_cancer"),
    "scalp-radiotherapy": _cond("scalp_radiotherapy"),
    "scalp-skin-cancer-history": _cond("scalp_skin_cancer_history"),
    "koebner-prone-disease": _cond("vitiligo"),
    "lupus-erythematosus": _cond("lupus_erythematosus"),
    "dermatitis-history": _cond("atopic_dermatitis"),
    "herpes-recurrent": _cond("herpes_simplex_recurrent"),
    "heart-condition-minoxidil": _cond("cardiac_arrhythmia"),
    "hypotension": _cond("hypotension"),
    "recent-illness-or-surgery": _cond("recent_major_illness_or_surgery"),
    "expectations-counselling": _procedure_complication,
    "metal-allergy": _allergy("nickel"),
    "lidocaine-allergy": _allergy("lidocaine"),
    "minoxidil-allergy": _allergy("minoxidil"),
    "propylene-glycol-allergy": _allergy("propylene_glycol"),
    "chlorhexidine-allergy": _allergy("chlorhexidine"),
    "latex-allergy": _allergy("latex"),
    "other-allergy": _allergy("other"),
    "darker-skin-pih": _patient(fitzpatrick=4),
    "scarring-alopecia-signs": _finding("loss_of_follicular_openings"),
    "scarring-alopecia-suspected": lambda doc: _without("hair_loss", "norwood")(
        _hair(working_diagnosis="scarring_alopecia_suspected")(doc)
    ),
    "diagnosis-without-trial-evidence": lambda doc: _without("hair_loss", "norwood")(
        _hair(working_diagnosis="telogen_effluvium")(doc)
    ),
    "sudden-onset-unconfirmed": lambda doc: _without("hair_loss", "diagnosed_by")(
        _hair(onset="sudden")(doc)
    ),
    "diagnosis-unconfirmed": _hair(diagnosed_by="other"),
    "thyroid-or-iron-untreated": _cond("iron_deficiency"),
    "shedding-active": _finding("positive_pull_test"),
    "alopecia-areata": lambda doc: areata_intake(),
    "alopecia-areata-extensive": lambda doc: areata_intake(salt_score=60),
    "advanced-stage": _hair(norwood="VI"),
    "stage-unusual-for-sex": _norwood_female,
    "minor": _patient(age_years=16),
    "scalp-conditions-not-recorded": _without("history", "active_scalp_conditions"),
    "scalp-findings-not-recorded": _without("hair_loss", "scalp_findings"),
    "operator-unlicensed": _operator("unlicensed"),
    "operator-not-permitted": _operator("registered_nurse"),
    "operator-not-recorded": _operator(None),
}
NO_NURSES = parse_clinic_settings({"max_depth_mm_by_credential": {"registered_nurse": 0}})


def test_the_base_intake_has_no_findings() -> None:
    result = screen(base_intake())
    assert result.findings == ()
    assert result.decision == "eligible"


def test_every_rule_has_a_case_here() -> None:
    assert set(FIRES) == set(load_catalogue().rules)


@pytest.mark.parametrize("rule_id", sorted(FIRES))
def test_rule_fires_at_its_level_with_its_evidence(rule_id: str) -> None:
    settings = NO_NURSES if rule_id == "operator-not-permitted" else None
    result = screen(FIRES[rule_id](base_intake()), settings)
    finding = result.fired(rule_id)
    assert finding is not None, [f.rule for f in result.findings]
    spec = load_catalogue().rule(rule_id)
    assert finding.level == spec.level
    assert finding.evidence == spec.evidence
    assert "{" not in finding.reason
    assert finding.reason.endswith(".")
    assert (
        Level[
            result.decision.replace("eligible_with_cautions", "caution").replace("eligible", "info")
        ]
        >= finding.level
    )


@pytest.mark.parametrize("rule_id", sorted(FIRES))
def test_rule_does_not_fire_on_the_base_intake(rule_id: str) -> None:
    assert screen(base_intake(), NO_NURSES).fired(rule_id) is None


def test_a_stopped_anticoagulant_is_not_current() -> None:
    result = screen(_med("anticoagulant", stopped_months_ago=1)(base_intake()))
    assert result.fired("anticoagulant") is None


def test_isotretinoin_wash_out_is_the_clinics_and_time_moves_on() -> None:
    intake = _med("isotretinoin", stopped_months_ago=4)(base_intake())
    assert screen(intake).fired("isotretinoin-recent") is not None  # default 6 months
    short = parse_clinic_settings({"isotretinoin_washout_months": 3})
    assert screen(intake, short).fired("isotretinoin-recent") is None
    # Recorded on 2026-06-01, stopped 4 months before; re-screened 3 months later: 7 months.
    assert screen(intake, as_of=date(2026, 9, 1)).fired("isotretinoin-recent") is None


def test_a_clinic_may_make_a_rule_stricter() -> None:
    strict = parse_clinic_settings({"rule_levels": {"darker-skin-pih": "defer"}})
    result = screen(_patient(fitzpatrick=5)(base_intake()), strict)
    assert result.decision == "defer"


def test_pregnancy_question_only_for_childbearing_age() -> None:
    older = _female_unasked(base_intake())
    older["patient"]["age_years"] = 60
    assert screen(older).fired("pregnancy-status-not-recorded") is None


def test_reason_names_what_was_found() -> None:
    result = screen(_active("fungal_infection", "herpes_outbreak")(base_intake()))
    finding = result.fired("active-scalp-infection")
    assert finding is not None
    assert "fungal infection, herpes outbreak" in finding.reason
