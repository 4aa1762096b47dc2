"""The evidence catalogue: sources, screening rules, plan defaults, bounds and aftercare as data.

Clinical thresholds live here with their citations, never as bare numbers in code. Loading
checks the catalogue's own integrity (every rule, default, bound and aftercare item names at
least one known source), so a broken catalogue fails at start-up and in the tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml

SOURCE_KINDS = frozenset(
    {"trial", "systematic_review", "review", "guideline", "device_labeling", "consensus"}
)
CATALOGUE_FILES = ("sources.yaml", "rules.yaml", "plans.yaml", "aftercare.yaml")


class Level(IntEnum):
    """Finding levels, ordered by severity (contracts §2)."""

    info = 0
    caution = 1
    defer = 2
    refer = 3
    contraindicated = 4


class CatalogueError(ValueError):
    """The catalogue contradicts itself (an unknown evidence id, a rule with no evidence…)."""


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    citation: str
    summary: str
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None

    def as_contract(self) -> dict[str, str]:
        """The ``follicle evidence --json`` shape (contracts §2)."""
        entry = {
            "id": self.id,
            "kind": self.kind,
            "citation": self.citation,
            "summary": self.summary,
        }
        for key in ("doi", "pmid", "url"):
            value = getattr(self, key)
            if value:
                entry[key] = value
        return entry


@dataclass(frozen=True)
class RuleSpec:
    id: str
    level: Level
    when: str
    reason: str
    evidence: tuple[str, ...]
    parameters: dict[str, Any] = field(default_factory=dict)

    def parameter(self, name: str) -> Any:
        return self.parameters[name]["default"]


@dataclass(frozen=True)
class Default:
    """A plan default with its evidence (and a note where the literature disagrees)."""

    value: Any
    evidence: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class Topical:
    name: str
    restart_after_hours: int | None
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class IndicationDefaults:
    indication: str
    needle_depth_mm: Default
    interval_days: Default
    sessions: Default
    endpoint: Default
    review_after_weeks: Default
    topicals: dict[str, tuple[Topical, ...]]

    def topicals_for(self, sex_at_birth: str) -> tuple[Topical, ...]:
        return self.topicals.get(sex_at_birth) or self.topicals.get("any", ())


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    evidence: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class Adjustment:
    id: str
    reason: str
    evidence: tuple[str, ...]
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AftercareItem:
    from_hours: int
    to_hours: int
    instruction: str
    evidence: tuple[str, ...]
    when: str | None = None


@dataclass(frozen=True)
class PreparationItem:
    before_hours: int
    instruction: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class SeriousEventRule:
    """An adverse event is serious from this CTCAE grade, or in these categories at any."""

    from_grade: int
    always: frozenset[str]
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class ResponderRule:
    """What counts as a response at the plan's review (project-defined; no MCID exists for
    microneedling): density up by at least ``min_density_gain_pct`` of baseline and more than
    the measurement noise (the 95 % interval of the change above zero)."""

    metric: str
    min_density_gain_pct: float
    confidence: float
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class OutcomeQuestion:
    """The patient's own view of the change: one global question, its answers by score (-3
    greatly decreased … +3 greatly increased). Shown beside the measured change, never scored
    against it.

    >>> question = load_catalogue().patient_outcome
    >>> question.answers[0], min(question.answers), max(question.answers)
    ('No change', -3, 3)
    """

    question: str
    answers: dict[int, str]
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    version: str
    digest: str
    sources: dict[str, Source]
    rules: dict[str, RuleSpec]
    vocabulary: dict[str, dict[str, dict[str, Any]]]
    bounds: dict[str, Bound]
    credential_max_depth_mm: dict[str, float]
    credential_evidence: tuple[str, ...]
    indications: dict[str, IndicationDefaults]
    anaesthesia_topical_from_depth_mm: float
    anaesthesia_evidence: tuple[str, ...]
    adjustments: dict[str, Adjustment]
    aftercare: tuple[AftercareItem, ...]
    preparation: tuple[PreparationItem, ...]
    serious_event: SeriousEventRule
    responder: ResponderRule
    patient_outcome: OutcomeQuestion

    @property
    def rules_version(self) -> str:
        """Names the exact rule set a screening used: the version plus a content digest."""
        return f"{self.version}+{self.digest[:10]}"

    def rule(self, rule_id: str) -> RuleSpec:
        return self.rules[rule_id]


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value or ())


def _default(raw: dict[str, Any]) -> Default:
    return Default(value=raw["value"], evidence=_ids(raw.get("evidence")), note=raw.get("note"))


def _indication(name: str, raw: dict[str, Any]) -> IndicationDefaults:
    topicals = {
        sex: tuple(
            Topical(t["name"], t["restart_after_hours"], _ids(t.get("evidence"))) for t in items
        )
        for sex, items in raw["topicals"].items()
    }
    return IndicationDefaults(
        indication=name,
        needle_depth_mm=_default(raw["needle_depth_mm"]),
        interval_days=_default(raw["interval_days"]),
        sessions=_default(raw["sessions"]),
        endpoint=_default(raw["endpoint"]),
        review_after_weeks=_default(raw["review_after_weeks"]),
        topicals=topicals,
    )


def parse_catalogue(texts: dict[str, str]) -> Catalogue:
    """Build and check a catalogue from the YAML texts (file name → text)."""
    data: dict[str, Any] = {}
    for name in CATALOGUE_FILES:
        loaded = yaml.safe_load(texts[name])
        if not isinstance(loaded, dict):
            raise CatalogueError(f"{name} is not a mapping")
        data.update(loaded)
    digest = hashlib.sha256("".join(texts[n] for n in CATALOGUE_FILES).encode()).hexdigest()
    sources = {
        raw["id"]: Source(
            id=raw["id"],
            kind=raw["kind"],
            citation=" ".join(raw["citation"].split()),
            summary=" ".join(raw["summary"].split()),
            doi=raw.get("doi"),
            pmid=raw.get("pmid"),
            url=raw.get("url"),
        )
        for raw in data["sources"]
    }
    rules = {
        raw["id"]: RuleSpec(
            id=raw["id"],
            level=Level[raw["level"]],
            when=raw["when"],
            reason=raw["reason"],
            evidence=_ids(raw.get("evidence")),
            parameters=raw.get("parameters") or {},
        )
        for raw in data["rules"]
    }
    plans = data
    catalogue = Catalogue(
        version=str(data["catalogue_version"]),
        digest=digest,
        sources=sources,
        rules=rules,
        vocabulary=data["vocabulary"],
        bounds={
            name: Bound(
                float(raw["range"][0]),
                float(raw["range"][1]),
                _ids(raw.get("evidence")),
                raw.get("note"),
            )
            for name, raw in plans["bounds"].items()
        },
        credential_max_depth_mm={
            k: float(v) for k, v in plans["credential_max_depth_mm"]["default"].items()
        },
        credential_evidence=_ids(plans["credential_max_depth_mm"].get("evidence")),
        indications={name: _indication(name, raw) for name, raw in plans["indications"].items()},
        anaesthesia_topical_from_depth_mm=float(
            plans["anaesthesia"]["parameters"]["topical_from_depth_mm"]
        ),
        anaesthesia_evidence=_ids(plans["anaesthesia"].get("evidence")),
        adjustments={
            name: Adjustment(
                name, raw["reason"], _ids(raw.get("evidence")), raw.get("parameters") or {}
            )
            for name, raw in plans["adjustments"].items()
        },
        aftercare=tuple(
            AftercareItem(
                raw["from_hours"],
                raw["to_hours"],
                raw["instruction"],
                _ids(raw.get("evidence")),
                raw.get("when"),
            )
            for raw in data["aftercare"]
        ),
        preparation=tuple(
            PreparationItem(raw["before_hours"], raw["instruction"], _ids(raw.get("evidence")))
            for raw in data["preparation"]
        ),
        serious_event=SeriousEventRule(
            int(data["adverse_events"]["serious_from_grade"]),
            frozenset(data["adverse_events"]["always_serious"]),
            _ids(data["adverse_events"].get("evidence")),
        ),
        responder=ResponderRule(
            str(data["responder"]["metric"]),
            float(data["responder"]["min_density_gain_pct"]),
            float(data["responder"]["confidence"]),
            _ids(data["responder"].get("evidence")),
        ),
        patient_outcome=OutcomeQuestion(
            str(data["patient_outcome"]["question"]),
            {int(k): str(v) for k, v in data["patient_outcome"]["answers"].items()},
            _ids(data["patient_outcome"].get("evidence")),
        ),
    )
    check_catalogue(catalogue)
    return catalogue


def _cited(owner: str, evidence: tuple[str, ...], sources: dict[str, Source]) -> list[str]:
    if not evidence:
        return [f"{owner} names no evidence"]
    return [f"{owner} cites unknown evidence {e!r}" for e in evidence if e not in sources]


def check_catalogue(catalogue: Catalogue) -> None:
    """Raise CatalogueError listing every integrity problem at once."""
    problems: list[str] = []
    for source in catalogue.sources.values():
        if source.kind not in SOURCE_KINDS:
            problems.append(f"source {source.id} has unknown kind {source.kind!r}")
        if source.kind in {"trial", "systematic_review", "review"} and not (
            source.doi or source.pmid
        ):
            problems.append(f"source {source.id} is a paper without a DOI or PMID")
        if source.kind in {"guideline", "device_labeling"} and not (
            source.url or source.doi or source.pmid
        ):
            problems.append(f"source {source.id} has no URL, DOI or PMID")
    for rule in catalogue.rules.values():
        problems += _cited(f"rule {rule.id}", rule.evidence, catalogue.sources)
    for name, bound in catalogue.bounds.items():
        problems += _cited(f"bound {name}", bound.evidence, catalogue.sources)
        if bound.low > bound.high:
            problems.append(f"bound {name} has low > high")
    problems += _cited("credential depth limits", catalogue.credential_evidence, catalogue.sources)
    problems += _cited("anaesthesia", catalogue.anaesthesia_evidence, catalogue.sources)
    for indication in catalogue.indications.values():
        for part in (
            "needle_depth_mm",
            "interval_days",
            "sessions",
            "endpoint",
            "review_after_weeks",
        ):
            default: Default = getattr(indication, part)
            problems += _cited(
                f"{indication.indication} {part}", default.evidence, catalogue.sources
            )
            limits = catalogue.bounds.get(part)
            if limits and not limits.low <= float(default.value) <= limits.high:
                problems.append(f"{indication.indication} {part} default is outside its bounds")
        for topicals in indication.topicals.values():
            for topical in topicals:
                problems += _cited(
                    f"{indication.indication} topical {topical.name}",
                    topical.evidence,
                    catalogue.sources,
                )
    for adjustment in catalogue.adjustments.values():
        problems += _cited(f"adjustment {adjustment.id}", adjustment.evidence, catalogue.sources)
    for index, item in enumerate(catalogue.aftercare):
        problems += _cited(f"aftercare item {index}", item.evidence, catalogue.sources)
    for index, prep in enumerate(catalogue.preparation):
        problems += _cited(f"preparation item {index}", prep.evidence, catalogue.sources)
    problems += _cited("adverse-event grading", catalogue.serious_event.evidence, catalogue.sources)
    problems += _cited("responder rule", catalogue.responder.evidence, catalogue.sources)
    problems += _cited(
        "patient outcome question", catalogue.patient_outcome.evidence, catalogue.sources
    )
    for field_name, values in catalogue.vocabulary.items():
        for value, entry in values.items():
            for key in ("rule", "also"):
                rule_id = entry.get(key)
                if rule_id is not None and rule_id not in catalogue.rules:
                    problems.append(f"vocabulary {field_name}={value} names unknown rule {rule_id}")
            if entry.get("rule") is None and not entry.get("why"):
                problems.append(f"vocabulary {field_name}={value} has no rule and no why")
    if problems:
        raise CatalogueError("; ".join(problems))


def catalogue_texts() -> dict[str, str]:
    folder = resources.files("follicle.clinic").joinpath("data/catalogue")
    return {name: folder.joinpath(name).read_text(encoding="utf-8") for name in CATALOGUE_FILES}


@cache
def load_catalogue() -> Catalogue:
    """The packaged catalogue (parsed and checked once per process)."""
    return parse_catalogue(catalogue_texts())
