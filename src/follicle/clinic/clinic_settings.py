"""A clinic's own settings for the clinical engine, checked against the cited bounds.

The catalogue holds the defaults and the ranges the evidence supports; a clinic may choose
within those ranges (plan bounds and defaults, depth limits by credential, the isotretinoin
wash-out) and may make any screening rule stricter, never looser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from follicle.clinic.catalogue import Catalogue, Level, load_catalogue
from follicle.clinic.errors import FieldError, InputInvalid
from follicle.clinic.vocabulary import CREDENTIALS, ENDPOINTS

SETTINGS_SCHEMA = "follicle.clinic-settings/1"
PLAN_FIELDS = ("needle_depth_mm", "interval_days", "sessions", "review_after_weeks")
_TOP_LEVEL = {
    "schema",
    "plan_bounds",
    "max_depth_mm_by_credential",
    "isotretinoin_washout_months",
    "rule_levels",
    "plan_defaults",
}


class ClinicSettingsInvalid(InputInvalid):
    """Clinic settings outside the catalogue's cited bounds or of the wrong shape."""


@dataclass(frozen=True)
class ClinicSettings:
    """Effective settings: the clinic's choices over the catalogue's defaults."""

    catalogue: Catalogue
    plan_bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    max_depth_mm_by_credential: dict[str, float] = field(default_factory=dict)
    isotretinoin_washout_months: float | None = None
    rule_levels: dict[str, Level] = field(default_factory=dict)
    plan_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)

    def bounds(self, name: str) -> tuple[float, float]:
        cited = self.catalogue.bounds[name]
        return self.plan_bounds.get(name, (cited.low, cited.high))

    def max_depth_mm(self, credential: str) -> float:
        if credential in self.max_depth_mm_by_credential:
            return self.max_depth_mm_by_credential[credential]
        return self.catalogue.credential_max_depth_mm[credential]

    def washout_months(self) -> float:
        if self.isotretinoin_washout_months is not None:
            return self.isotretinoin_washout_months
        return float(self.catalogue.rule("isotretinoin-recent").parameter("washout_months"))

    def level(self, rule_id: str) -> Level:
        return self.rule_levels.get(rule_id, self.catalogue.rule(rule_id).level)

    def as_document(self) -> dict[str, Any]:
        """The same shape the admin page and ``--clinic-config`` use."""
        document: dict[str, Any] = {"schema": SETTINGS_SCHEMA}
        if self.plan_bounds:
            document["plan_bounds"] = {k: list(v) for k, v in self.plan_bounds.items()}
        if self.max_depth_mm_by_credential:
            document["max_depth_mm_by_credential"] = dict(self.max_depth_mm_by_credential)
        if self.isotretinoin_washout_months is not None:
            document["isotretinoin_washout_months"] = self.isotretinoin_washout_months
        if self.rule_levels:
            document["rule_levels"] = {k: v.name for k, v in self.rule_levels.items()}
        if self.plan_defaults:
            document["plan_defaults"] = self.plan_defaults
        return document


def default_settings(catalogue: Catalogue | None = None) -> ClinicSettings:
    return ClinicSettings(catalogue=catalogue or load_catalogue())


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _section(document: dict[str, Any], key: str, errors: list[FieldError]) -> dict[str, Any]:
    """One object-valued section of the document ({} when absent or not an object)."""
    value = document.get(key, {})
    if isinstance(value, dict):
        return value
    errors.append(FieldError(f"/{key}", "must be an object"))
    return {}


def parse_clinic_settings(document: Any, catalogue: Catalogue | None = None) -> ClinicSettings:
    """Check a settings document against the cited bounds; errors name the field."""
    catalogue = catalogue or load_catalogue()
    errors: list[FieldError] = []
    if not isinstance(document, dict):
        raise ClinicSettingsInvalid([FieldError("", "clinic settings must be a JSON object")])
    if document.get("schema", SETTINGS_SCHEMA) != SETTINGS_SCHEMA:
        errors.append(FieldError("/schema", f"must be {SETTINGS_SCHEMA!r}"))
    errors += [FieldError(f"/{key}", "unknown field") for key in document if key not in _TOP_LEVEL]
    bounds = _parse_bounds(_section(document, "plan_bounds", errors), catalogue, errors)
    depths = _parse_depths(
        _section(document, "max_depth_mm_by_credential", errors), catalogue, bounds, errors
    )
    washout = _parse_washout(document.get("isotretinoin_washout_months"), catalogue, errors)
    levels = _parse_levels(_section(document, "rule_levels", errors), catalogue, errors)
    defaults = _parse_plan_defaults(
        _section(document, "plan_defaults", errors), catalogue, bounds, errors
    )
    if errors:
        raise ClinicSettingsInvalid(errors)
    return ClinicSettings(catalogue, bounds, depths, washout, levels, defaults)


def _parse_bounds(
    raw: dict[str, Any], catalogue: Catalogue, errors: list[FieldError]
) -> dict[str, tuple[float, float]]:
    bounds: dict[str, tuple[float, float]] = {}
    for name, pair in raw.items():
        pointer = f"/plan_bounds/{name}"
        if name not in PLAN_FIELDS:
            errors.append(FieldError(pointer, f"unknown bound; allowed: {', '.join(PLAN_FIELDS)}"))
            continue
        cited = catalogue.bounds[name]
        if not (isinstance(pair, list) and len(pair) == 2 and all(_number(v) for v in pair)):
            errors.append(FieldError(pointer, "must be [low, high]"))
            continue
        low, high = float(pair[0]), float(pair[1])
        if low > high:
            errors.append(FieldError(pointer, "low must not exceed high"))
        elif low < cited.low or high > cited.high:
            errors.append(
                FieldError(
                    pointer, f"must stay within the cited range {cited.low:g}-{cited.high:g}"
                )
            )
        else:
            bounds[name] = (low, high)
    return bounds


def _parse_depths(
    raw: dict[str, Any],
    catalogue: Catalogue,
    bounds: dict[str, tuple[float, float]],
    errors: list[FieldError],
) -> dict[str, float]:
    depths: dict[str, float] = {}
    low, high = bounds.get(
        "needle_depth_mm",
        (catalogue.bounds["needle_depth_mm"].low, catalogue.bounds["needle_depth_mm"].high),
    )
    for credential, value in raw.items():
        pointer = f"/max_depth_mm_by_credential/{credential}"
        if credential not in CREDENTIALS:
            errors.append(
                FieldError(pointer, f"unknown credential; allowed: {', '.join(CREDENTIALS)}")
            )
        elif not _number(value):
            errors.append(FieldError(pointer, "must be a number of millimetres"))
        elif credential == "unlicensed" and value != 0:
            errors.append(FieldError(pointer, "an unlicensed operator may not needle (must be 0)"))
        elif value != 0 and not low <= value <= high:
            errors.append(
                FieldError(
                    pointer,
                    f"must be 0 (not allowed) or within the depth range {low:g}-{high:g} mm",
                )
            )
        else:
            depths[credential] = float(value)
    for credential, default in catalogue.credential_max_depth_mm.items():
        if credential not in raw and 0 < default < low:
            errors.append(
                FieldError(
                    f"/max_depth_mm_by_credential/{credential}",
                    f"the default limit {default:g} mm is below this clinic's minimum depth "
                    f"{low:g} mm: set it to 0 (not allowed) or within {low:g}-{high:g} mm",
                )
            )
    return depths


def _parse_washout(raw: Any, catalogue: Catalogue, errors: list[FieldError]) -> float | None:
    if raw is None:
        return None
    low, high = catalogue.rule("isotretinoin-recent").parameters["washout_months"]["range"]
    if not _number(raw) or not low <= raw <= high:
        errors.append(
            FieldError(
                "/isotretinoin_washout_months", f"must be a number of months from {low} to {high}"
            )
        )
        return None
    return float(raw)


def _parse_levels(
    raw: dict[str, Any], catalogue: Catalogue, errors: list[FieldError]
) -> dict[str, Level]:
    levels: dict[str, Level] = {}
    names = ", ".join(level.name for level in Level)
    for rule_id, value in raw.items():
        pointer = f"/rule_levels/{rule_id}"
        if rule_id not in catalogue.rules:
            errors.append(FieldError(pointer, "unknown rule id (see `follicle evidence`)"))
        elif value not in Level.__members__:
            errors.append(FieldError(pointer, f"unknown level; allowed: {names}"))
        elif Level[value] < catalogue.rule(rule_id).level:
            errors.append(
                FieldError(
                    pointer,
                    f"may be made stricter, never looser than {catalogue.rule(rule_id).level.name}",
                )
            )
        else:
            levels[rule_id] = Level[value]
    return levels


def _parse_plan_defaults(
    raw: dict[str, Any],
    catalogue: Catalogue,
    bounds: dict[str, tuple[float, float]],
    errors: list[FieldError],
) -> dict[str, dict[str, Any]]:
    defaults: dict[str, dict[str, Any]] = {}
    for indication, values in raw.items():
        base = f"/plan_defaults/{indication}"
        if indication not in catalogue.indications:
            errors.append(
                FieldError(base, "unknown indication; allowed: " + ", ".join(catalogue.indications))
            )
            continue
        if not isinstance(values, dict):
            errors.append(FieldError(base, "must be an object"))
            continue
        kept: dict[str, Any] = {}
        for name, value in values.items():
            pointer = f"{base}/{name}"
            if name == "endpoint":
                if value in ENDPOINTS:
                    kept[name] = value
                else:
                    errors.append(FieldError(pointer, f"allowed: {', '.join(ENDPOINTS)}"))
            elif name in PLAN_FIELDS:
                cited = catalogue.bounds[name]
                low, high = bounds.get(name, (cited.low, cited.high))
                if _number(value) and low <= value <= high:
                    kept[name] = value
                else:
                    errors.append(FieldError(pointer, f"must be a number within {low:g}-{high:g}"))
            else:
                errors.append(FieldError(pointer, "unknown plan default"))
        defaults[indication] = kept
    return defaults
