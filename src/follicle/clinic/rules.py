"""When each screening rule fires. Levels, reasons, thresholds and evidence are in the catalogue.

Each predicate returns ``None`` (does not fire) or the values its reason template needs. Rules
only ever add findings as the history grows, so adding a condition can never make the decision
less severe (a property the tests check).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from follicle.clinic.catalogue import Catalogue
from follicle.clinic.clinic_settings import ClinicSettings
from follicle.clinic.intake_view import IntakeView, listed, readable
from follicle.clinic.staging import Staging, unusual_scales_for_sex

Fired = dict[str, str]


@dataclass(frozen=True)
class Context:
    intake: IntakeView
    staging: Staging
    settings: ClinicSettings
    as_of: date | None

    @property
    def catalogue(self) -> Catalogue:
        return self.settings.catalogue

    def parameter(self, rule_id: str, name: str) -> object:
        return self.catalogue.rule(rule_id).parameter(name)


Predicate = Callable[[Context], Fired | None]
RULES: dict[str, Predicate] = {}


def rule(rule_id: str) -> Callable[[Predicate], Predicate]:
    def register(predicate: Predicate) -> Predicate:
        RULES[rule_id] = predicate
        return predicate

    return register


def _items(found: frozenset[str] | set[str]) -> Fired | None:
    return {"items": listed(found)} if found else None


def _active(ctx: Context, *values: str) -> Fired | None:
    active = ctx.intake.active_scalp_conditions or frozenset()
    return _items(active & set(values))


def _findings(ctx: Context, *values: str) -> Fired | None:
    findings = ctx.intake.scalp_findings or frozenset()
    return _items(findings & set(values))


def _conditions(ctx: Context, *values: str) -> Fired | None:
    return _items(ctx.intake.conditions & set(values))


def _allergies(ctx: Context, *values: str) -> Fired | None:
    return _items(ctx.intake.allergies & set(values))


def _current_meds(ctx: Context, *classes: str) -> Fired | None:
    meds = ctx.intake.current_medications(*classes)
    return {"items": ", ".join(m.label for m in meds)} if meds else None


# --- The scalp today ------------------------------------------------------------------------
@rule("active-scalp-infection")
def _active_infection(ctx: Context) -> Fired | None:
    return _active(ctx, "bacterial_infection", "fungal_infection", "herpes_outbreak")


@rule("scalp-signs-of-active-inflammation")
def _pustules(ctx: Context) -> Fired | None:
    return _findings(ctx, "pustules", "crusting")


@rule("active-lesion-at-site")
def _lesion(ctx: Context) -> Fired | None:
    return _active(
        ctx,
        "open_wound",
        "sunburn",
        "psoriasis_plaques",
        "eczema_flare",
        "seborrheic_dermatitis_flare",
    )


@rule("scalp-redness-or-scaling")
def _redness(ctx: Context) -> Fired | None:
    return _findings(ctx, "erythema", "scaling")


@rule("suspicious-lesion")
def _suspicious(ctx: Context) -> Fired | None:
    return _active(ctx, "suspicious_lesion")


# --- Scarring and healing ---------------------------------------------------------------------
@rule("keloid-history")
def _keloid(ctx: Context) -> Fired | None:
    return _conditions(ctx, "keloid_history")


@rule("hypertrophic-scar-history")
def _hypertrophic(ctx: Context) -> Fired | None:
    return _conditions(ctx, "hypertrophic_scar_history")


@rule("diabetes-uncontrolled")
def _diabetes(ctx: Context) -> Fired | None:
    return _conditions(ctx, "diabetes_uncontrolled")


# --- Bleeding -----------------------------------------------------------------------------------
@rule("bleeding-disorder")
def _bleeding(ctx: Context) -> Fired | None:
    return _conditions(ctx, "bleeding_disorder", "thrombocytopenia")


@rule("anticoagulant")
def _anticoagulant(ctx: Context) -> Fired | None:
    return _current_meds(ctx, "anticoagulant")


@rule("antiplatelet")
def _antiplatelet(ctx: Context) -> Fired | None:
    return _current_meds(ctx, "antiplatelet")


@rule("nsaid-regular")
def _nsaid(ctx: Context) -> Fired | None:
    return _current_meds(ctx, "nsaid_regular")


# --- Medicines ----------------------------------------------------------------------------------
@rule("isotretinoin-current")
def _isotretinoin_now(ctx: Context) -> Fired | None:
    return _current_meds(ctx, "isotretinoin")


@rule("isotretinoin-recent")
def _isotretinoin_recent(ctx: Context) -> Fired | None:
    washout = ctx.settings.washout_months()
    recent = [
        m.stopped_months_ago
        for m in ctx.intake.medications
        if m.drug_class == "isotretinoin"
        and m.stopped_months_ago is not None
        and m.stopped_months_ago < washout
    ]
    if not recent:
        return None
    return {
        "months_ago": f"{min(recent):.1f}".rstrip("0").rstrip("."),
        "washout_months": f"{washout:g}",
    }


@rule("immunosuppression")
def _immunosuppression(ctx: Context) -> Fired | None:
    items = [
        m.label
        for m in ctx.intake.current_medications(
            "immunosuppressant", "biologic", "jak_inhibitor", "systemic_corticosteroid"
        )
    ]
    if "immunosuppression" in ctx.intake.conditions:
        items.insert(0, "immunosuppression")
    return {"items": ", ".join(items)} if items else None


@rule("chemotherapy-current")
def _chemotherapy(ctx: Context) -> Fired | None:
    if "chemotherapy_current" in ctx.intake.conditions:
        return {}
    return _current_meds(ctx, "chemotherapy")


@rule("topical-retinoid")
def _retinoid(ctx: Context) -> Fired | None:
    return _current_meds(ctx, "topical_retinoid")


# --- Pregnancy ----------------------------------------------------------------------------------
@rule("pregnancy")
def _pregnancy(ctx: Context) -> Fired | None:
    return {} if ctx.intake.answer("pregnant") else None


@rule("breastfeeding")
def _breastfeeding(ctx: Context) -> Fired | None:
    return {} if ctx.intake.answer("breastfeeding") else None


@rule("trying-to-conceive")
def _conceiving(ctx: Context) -> Fired | None:
    return {} if ctx.intake.answer("trying_to_conceive") else None


@rule("pregnancy-status-not-recorded")
def _pregnancy_unknown(ctx: Context) -> Fired | None:
    ages = ctx.parameter("pregnancy-status-not-recorded", "childbearing_age_years")
    assert isinstance(ages, list)
    low, high = int(ages[0]), int(ages[1])
    if ctx.intake.sex_at_birth == "male" or not low <= ctx.intake.age_years <= high:
        return None
    missing = {q for q in ("pregnant", "breastfeeding") if ctx.intake.answer(q) is None}
    return _items(missing)


# --- Other conditions -----------------------------------------------------------------------------
@rule("active-cancer")
def _cancer(ctx: Context) -> Fired | None:
    return _conditions(ctx, "active_cancer")


@rule("scalp-radiotherapy")
def _radiotherapy(ctx: Context) -> Fired | None:
    return _conditions(ctx, "scalp_radiotherapy")


@rule("scalp-skin-cancer-history")
def _skin_cancer(ctx: Context) -> Fired | None:
    return _conditions(ctx, "scalp_skin_cancer_history")


@rule("koebner-prone-disease")
def _koebner(ctx: Context) -> Fired | None:
    return _conditions(ctx, "autoimmune_disease", "vitiligo", "psoriasis")


@rule("lupus-erythematosus")
def _lupus(ctx: Context) -> Fired | None:
    return _conditions(ctx, "lupus_erythematosus")


@rule("dermatitis-history")
def _dermatitis(ctx: Context) -> Fired | None:
    return _conditions(ctx, "seborrheic_dermatitis", "atopic_dermatitis")


@rule("herpes-recurrent")
def _herpes(ctx: Context) -> Fired | None:
    return _conditions(ctx, "herpes_simplex_recurrent")


@rule("heart-condition-minoxidil")
def _heart(ctx: Context) -> Fired | None:
    return _conditions(ctx, "cardiac_arrhythmia")


@rule("hypotension")
def _hypotension(ctx: Context) -> Fired | None:
    return _conditions(ctx, "hypotension")


@rule("recent-illness-or-surgery")
def _recent_illness(ctx: Context) -> Fired | None:
    return _conditions(ctx, "recent_major_illness_or_surgery")


@rule("expectations-counselling")
def _expectations(ctx: Context) -> Fired | None:
    reasons = []
    if "body_dysmorphic_disorder" in ctx.intake.conditions:
        reasons.append("Body dysmorphic disorder")
    if ctx.intake.prior_procedure_complication:
        reasons.append("A complication after an earlier procedure")
    return {"items": " and ".join(reasons)} if reasons else None


# --- Allergies ------------------------------------------------------------------------------------
@rule("metal-allergy")
def _metal(ctx: Context) -> Fired | None:
    return _allergies(ctx, "nickel", "stainless_steel")


@rule("lidocaine-allergy")
def _lidocaine(ctx: Context) -> Fired | None:
    return _allergies(ctx, "lidocaine")


@rule("minoxidil-allergy")
def _minoxidil(ctx: Context) -> Fired | None:
    return _allergies(ctx, "minoxidil")


@rule("propylene-glycol-allergy")
def _propylene_glycol(ctx: Context) -> Fired | None:
    return _allergies(ctx, "propylene_glycol")


@rule("chlorhexidine-allergy")
def _chlorhexidine(ctx: Context) -> Fired | None:
    return _allergies(ctx, "chlorhexidine")


@rule("latex-allergy")
def _latex(ctx: Context) -> Fired | None:
    return _allergies(ctx, "latex")


@rule("other-allergy")
def _other_allergy(ctx: Context) -> Fired | None:
    return _allergies(ctx, "other")


# --- Skin type ------------------------------------------------------------------------------------
@rule("darker-skin-pih")
def _darker_skin(ctx: Context) -> Fired | None:
    threshold = ctx.parameter("darker-skin-pih", "from_fitzpatrick")
    assert isinstance(threshold, int)
    if ctx.intake.fitzpatrick < threshold:
        return None
    return {"fitzpatrick": ("I", "II", "III", "IV", "V", "VI")[ctx.intake.fitzpatrick - 1]}


# --- Diagnosis and staging ------------------------------------------------------------------------
@rule("scarring-alopecia-signs")
def _scarring_signs(ctx: Context) -> Fired | None:
    return _findings(
        ctx,
        "loss_of_follicular_openings",
        "scarring_patches",
        "perifollicular_erythema",
        "perifollicular_scaling",
    )


@rule("scarring-alopecia-suspected")
def _scarring_suspected(ctx: Context) -> Fired | None:
    return {} if ctx.intake.diagnosis == "scarring_alopecia_suspected" else None


_NO_TRIAL_EVIDENCE = {
    "telogen_effluvium": "Telogen effluvium",
    "traction_alopecia": "Traction alopecia",
    "unknown": "The cause of the hair loss is not yet known",
}


@rule("diagnosis-without-trial-evidence")
def _no_trial_evidence(ctx: Context) -> Fired | None:
    label = _NO_TRIAL_EVIDENCE.get(ctx.intake.diagnosis)
    return None if label is None else {"diagnosis": label}


@rule("sudden-onset-unconfirmed")
def _sudden(ctx: Context) -> Fired | None:
    confirmed = ctx.intake.diagnosed_by in {"dermatologist", "physician"}
    return {} if ctx.intake.onset == "sudden" and not confirmed else None


@rule("diagnosis-unconfirmed")
def _unconfirmed(ctx: Context) -> Fired | None:
    specific = ctx.intake.diagnosis not in {"unknown"}
    confirmed = ctx.intake.diagnosed_by in {"dermatologist", "physician"}
    return {"diagnosis": readable(ctx.intake.diagnosis)} if specific and not confirmed else None


@rule("thyroid-or-iron-untreated")
def _thyroid_iron(ctx: Context) -> Fired | None:
    found = ctx.intake.conditions & {"thyroid_disease_untreated", "iron_deficiency"}
    if not found:
        return None
    labels = {
        "thyroid_disease_untreated": "Untreated thyroid disease",
        "iron_deficiency": "Iron deficiency",
    }
    return {"items": " and ".join(labels[f] for f in sorted(found, reverse=True))}


@rule("shedding-active")
def _shedding(ctx: Context) -> Fired | None:
    return _findings(ctx, "positive_pull_test")


@rule("alopecia-areata")
def _areata(ctx: Context) -> Fired | None:
    return {} if ctx.intake.diagnosis == "alopecia_areata" else None


@rule("alopecia-areata-extensive")
def _areata_extensive(ctx: Context) -> Fired | None:
    threshold = ctx.parameter("alopecia-areata-extensive", "salt_score_from")
    assert isinstance(threshold, int | float)
    salt = ctx.staging.salt_score
    if salt is None or salt < threshold:
        return None
    return {"salt_score": f"{salt:g}"}


@rule("advanced-stage")
def _advanced(ctx: Context) -> Fired | None:
    spec = ctx.catalogue.rule("advanced-stage")
    staging = ctx.staging
    advanced = []
    if staging.norwood in spec.parameter("norwood"):
        advanced.append(f"Norwood {staging.norwood}")
    if staging.ludwig in spec.parameter("ludwig"):
        advanced.append(f"Ludwig {staging.ludwig}")
    if staging.sinclair is not None and staging.sinclair >= spec.parameter("sinclair_from"):
        advanced.append(f"Sinclair {staging.sinclair}")
    return {"stage": ", ".join(advanced)} if advanced else None


@rule("stage-unusual-for-sex")
def _unusual_scale(ctx: Context) -> Fired | None:
    unusual = unusual_scales_for_sex(ctx.staging, ctx.intake.sex_at_birth)
    if not unusual:
        return None
    return {"scale": " and ".join(unusual), "sex": ctx.intake.sex_at_birth}


def adult_age_years(catalogue: Catalogue) -> int:
    """The age from which a patient consents for themselves and is not referred as a minor."""
    adult = catalogue.rule("minor").parameter("adult_age_years")
    assert isinstance(adult, int)
    return adult


@rule("minor")
def _minor(ctx: Context) -> Fired | None:
    adult = adult_age_years(ctx.catalogue)
    return {"adult_age_years": str(adult)} if ctx.intake.age_years < adult else None


# --- Questions not asked --------------------------------------------------------------------------
@rule("scalp-conditions-not-recorded")
def _conditions_missing(ctx: Context) -> Fired | None:
    return {} if ctx.intake.active_scalp_conditions is None else None


@rule("scalp-findings-not-recorded")
def _findings_missing(ctx: Context) -> Fired | None:
    return {} if ctx.intake.scalp_findings is None else None


# --- Who performs it ------------------------------------------------------------------------------
@rule("operator-unlicensed")
def _unlicensed(ctx: Context) -> Fired | None:
    return {} if ctx.intake.operator_credential == "unlicensed" else None


@rule("operator-not-permitted")
def _not_permitted(ctx: Context) -> Fired | None:
    credential = ctx.intake.operator_credential
    if credential is None or credential == "unlicensed":
        return None
    if ctx.settings.max_depth_mm(credential) > 0:
        return None
    return {"credential": readable(credential)}


@rule("operator-not-recorded")
def _no_operator(ctx: Context) -> Fired | None:
    return {} if ctx.intake.operator_credential is None else None
