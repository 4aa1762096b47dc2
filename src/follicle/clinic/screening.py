"""Screening an intake: each finding with its reason and evidence, and the decision.

The decision is the most severe finding level (contracts §2). The software supports a
clinician's decision; it does not make it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from follicle.clinic.catalogue import Level
from follicle.clinic.clinic_settings import ClinicSettings, default_settings
from follicle.clinic.errors import FieldError
from follicle.clinic.intake import IntakeInvalid, validate_intake
from follicle.clinic.intake_view import IntakeView
from follicle.clinic.rules import RULES, Context
from follicle.clinic.staging import Staging, stage

SCREENING_SCHEMA = "follicle.screening/1"
DECISIONS = {
    Level.contraindicated: "contraindicated",
    Level.refer: "refer",
    Level.defer: "defer",
    Level.caution: "eligible_with_cautions",
    Level.info: "eligible",
}
PLANNABLE = frozenset({"eligible", "eligible_with_cautions"})


@dataclass(frozen=True)
class Finding:
    rule: str
    level: Level
    reason: str
    evidence: tuple[str, ...]
    values: dict[str, str]

    def as_contract(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "level": self.level.name,
            "reason": self.reason,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Screening:
    decision: str
    findings: tuple[Finding, ...]
    rules_version: str
    intake: IntakeView
    staging: Staging

    @property
    def plannable(self) -> bool:
        return self.decision in PLANNABLE

    def fired(self, rule_id: str) -> Finding | None:
        return next((f for f in self.findings if f.rule == rule_id), None)

    def as_contract(self) -> dict[str, Any]:
        return {
            "schema": SCREENING_SCHEMA,
            "decision": self.decision,
            "findings": [f.as_contract() for f in self.findings],
            "rules_version": self.rules_version,
        }


def decision_for(levels: list[Level]) -> str:
    """The most severe level decides; no findings (or only info) is eligible."""
    return DECISIONS[max(levels, default=Level.info)]


def check_intake(document: Any) -> IntakeView:
    """Schema validation plus the rules the schema cannot express (contracts §2)."""
    valid = validate_intake(document)
    findings = valid["hair_loss"].get("scalp_findings")
    if findings and "none" in findings and len(findings) > 1:
        raise IntakeInvalid(
            [
                FieldError(
                    "/hair_loss/scalp_findings",
                    '"none" must stand alone: remove it or remove the other findings',
                )
            ]
        )
    return IntakeView.of(valid)


def screen(
    document: Any,
    settings: ClinicSettings | None = None,
    as_of: date | None = None,
) -> Screening:
    """Screen an intake document; raises InputInvalid (naming the field) for bad input."""
    settings = settings or default_settings()
    intake = IntakeView.of(check_intake(document).document, as_of)
    staging = stage(intake)
    context = Context(intake=intake, staging=staging, settings=settings, as_of=as_of)
    findings: list[Finding] = []
    for spec in settings.catalogue.rules.values():
        values = RULES[spec.id](context)
        if values is None:
            continue
        findings.append(
            Finding(
                rule=spec.id,
                level=settings.level(spec.id),
                reason=spec.reason.format(**values),
                evidence=spec.evidence,
                values=values,
            )
        )
    findings.sort(key=lambda f: -f.level)
    return Screening(
        decision=decision_for([f.level for f in findings]),
        findings=tuple(findings),
        rules_version=settings.catalogue.rules_version,
        intake=intake,
        staging=staging,
    )
