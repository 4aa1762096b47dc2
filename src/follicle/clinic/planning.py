"""A tailored plan from the screening, the evidence defaults and the clinic's settings.

Order of work: the indication's cited defaults, the clinic's own defaults, the adjustments the
screening's cautions call for, then the clinic's bounds and the operator's depth limit, which
nothing may exceed. Every change says why and on what evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from follicle.clinic.aftercare import TopicalPlan, aftercare_timeline, preparation_steps
from follicle.clinic.catalogue import Catalogue
from follicle.clinic.clinic_settings import PLAN_FIELDS, ClinicSettings, default_settings
from follicle.clinic.intake_view import readable
from follicle.clinic.screening import Screening, screen

PLAN_SCHEMA = "follicle.plan/1"
WHY_NO_PLAN = {
    "defer": "Not today: the screening found something that must settle first (re-screen later)",
    "refer": "A dermatologist must assess the patient first",
    "contraindicated": "Microneedling must not be offered as things stand",
}


@dataclass
class _Draft:
    """The plan while it is being worked out."""

    catalogue: Catalogue
    values: dict[str, Any]
    topicals: list[TopicalPlan]
    test_patch: bool = False
    anaesthesia: str = "none"
    adjustments: list[dict[str, Any]] = field(default_factory=list)

    def adjust(self, adjustment_id: str, **values: Any) -> None:
        spec = self.catalogue.adjustments[adjustment_id]
        params = {**spec.parameters, **values}
        self.adjustments.append(
            {"reason": spec.reason.format(**params), "evidence": list(spec.evidence)}
        )

    def drop_minoxidil(self, why: str) -> None:
        if any(t.is_minoxidil for t in self.topicals):
            self.topicals = [t for t in self.topicals if not t.is_minoxidil]
            self.adjust("minoxidil-left-out", why=why)

    @property
    def has_minoxidil(self) -> bool:
        return any(t.is_minoxidil for t in self.topicals)


@dataclass(frozen=True)
class PlanResult:
    screening: Screening
    plan: dict[str, Any] | None
    why_no_plan: str | None

    def as_contract(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "schema": PLAN_SCHEMA,
            "screening": self.screening.as_contract(),
            "plan": self.plan,
        }
        if self.why_no_plan is not None:
            result["why_no_plan"] = self.why_no_plan
        return result


def make_plan(
    document: Any, settings: ClinicSettings | None = None, as_of: date | None = None
) -> PlanResult:
    """Screen, then plan if the decision allows one (``plan`` is None otherwise)."""
    settings = settings or default_settings()
    screening = screen(document, settings, as_of)
    if not screening.plannable:
        reasons = ", ".join(
            f.rule for f in screening.findings if f.level.name == screening.decision
        )
        return PlanResult(screening, None, f"{WHY_NO_PLAN[screening.decision]} ({reasons}).")
    return PlanResult(screening, build_plan(screening, settings), None)


def build_plan(screening: Screening, settings: ClinicSettings) -> dict[str, Any]:
    catalogue = settings.catalogue
    intake = screening.intake
    defaults = catalogue.indications[intake.diagnosis]
    clinic_defaults = settings.plan_defaults.get(defaults.indication, {})
    values = {
        name: clinic_defaults.get(name, getattr(defaults, name).value)
        for name in (*PLAN_FIELDS, "endpoint")
    }
    draft = _Draft(
        catalogue,
        values,
        [
            TopicalPlan(t.name, t.restart_after_hours, t.evidence)
            for t in defaults.topicals_for(intake.sex_at_birth)
        ],
    )
    _apply_cautions(draft, screening)
    _apply_preferences(draft, screening)
    _keep_within_bounds(draft, settings)
    operator_max = _apply_operator_limit(draft, screening, settings)
    _choose_anaesthesia(draft, screening)
    evidence = [e for name in (*PLAN_FIELDS, "endpoint") for e in getattr(defaults, name).evidence]
    evidence.extend(e for topical in draft.topicals for e in topical.evidence)
    for adjustment in draft.adjustments:
        evidence.extend(adjustment["evidence"])
    return {
        "indication": defaults.indication,
        "needle_depth_mm": round(float(draft.values["needle_depth_mm"]), 2),
        "interval_days": int(draft.values["interval_days"]),
        "sessions": int(draft.values["sessions"]),
        "endpoint": draft.values["endpoint"],
        "topicals": [t.as_contract() for t in draft.topicals],
        "review_after_weeks": int(draft.values["review_after_weeks"]),
        "operator_max_depth_mm": operator_max,
        "anaesthesia": draft.anaesthesia,
        "test_patch": draft.test_patch,
        "adjustments": draft.adjustments,
        "bounds": {
            "needle_depth_mm": list(settings.bounds("needle_depth_mm")),
            "interval_days": [int(v) for v in settings.bounds("interval_days")],
            "sessions": [int(v) for v in settings.bounds("sessions")],
        },
        "aftercare": aftercare_timeline(catalogue, draft.topicals),
        "preparation": preparation_steps(catalogue),
        "evidence": list(dict.fromkeys(evidence)),
    }


def _apply_cautions(draft: _Draft, screening: Screening) -> None:
    fired = screening.fired
    if (finding := fired("darker-skin-pih")) is not None:
        limit = draft.catalogue.adjustments["darker-skin-pih"].parameters["max_depth_mm"]
        draft.test_patch = True
        draft.values["endpoint"] = "mild_erythema"
        draft.values["needle_depth_mm"] = min(draft.values["needle_depth_mm"], limit)
        draft.adjust("darker-skin-pih", **finding.values)
    for rule_id in ("hypertrophic-scar-history", "koebner-prone-disease"):
        if fired(rule_id):
            draft.test_patch = True
            draft.adjust(rule_id)
    if fired("antiplatelet"):
        draft.values["endpoint"] = "mild_erythema"
        draft.adjust("antiplatelet")
    if fired("minoxidil-allergy"):
        draft.drop_minoxidil("allergy to minoxidil")
    if fired("breastfeeding"):
        draft.drop_minoxidil("breastfeeding (the label warns against it)")
    if fired("trying-to-conceive"):
        draft.drop_minoxidil("trying to conceive (the label warns against use in pregnancy)")
    if fired("propylene-glycol-allergy") and draft.has_minoxidil:
        draft.topicals = [
            TopicalPlan(f"{t.name} foam (propylene-glycol-free)", t.restart_after_hours, t.evidence)
            if t.is_minoxidil
            else t
            for t in draft.topicals
        ]
        draft.adjust("propylene-glycol-allergy")
    if fired("heart-condition-minoxidil") and draft.has_minoxidil:
        draft.adjust("heart-condition-minoxidil")
    for rule_id in (
        "metal-allergy",
        "chlorhexidine-allergy",
        "latex-allergy",
        "herpes-recurrent",
        "alopecia-areata",
    ):
        if fired(rule_id):
            draft.adjust(rule_id)
    if (advanced := fired("advanced-stage")) is not None:
        draft.adjust("advanced-stage", **advanced.values)


def _apply_preferences(draft: _Draft, screening: Screening) -> None:
    if screening.intake.preference("accepts_topical_minoxidil") is False:
        draft.drop_minoxidil("the patient prefers not to use it")


def _keep_within_bounds(draft: _Draft, settings: ClinicSettings) -> None:
    for name in PLAN_FIELDS:
        low, high = settings.bounds(name)
        value = draft.values[name]
        kept = min(max(value, low), high)
        if kept != value:
            draft.values[name] = kept
            draft.adjust("clinic-bounds", field=readable(name), low=f"{low:g}", high=f"{high:g}")


def _apply_operator_limit(
    draft: _Draft, screening: Screening, settings: ClinicSettings
) -> float | None:
    credential = screening.intake.operator_credential
    if credential is None:
        return None
    limit = settings.max_depth_mm(credential)
    if draft.values["needle_depth_mm"] > limit:
        draft.values["needle_depth_mm"] = limit
        draft.adjust("operator-limit", max_depth_mm=f"{limit:g}", credential=readable(credential))
    return limit


def _choose_anaesthesia(draft: _Draft, screening: Screening) -> None:
    threshold = draft.catalogue.anaesthesia_topical_from_depth_mm
    wants_topical = draft.values["needle_depth_mm"] >= threshold
    if screening.intake.preference("low_pain_tolerance"):
        wants_topical = True
        draft.adjust("low-pain-tolerance")
    if not wants_topical:
        draft.anaesthesia = "none"
    elif screening.fired("lidocaine-allergy"):
        draft.anaesthesia = "cold"
        draft.adjust("lidocaine-allergy")
    else:
        draft.anaesthesia = "topical_lidocaine"
