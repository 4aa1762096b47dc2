"""A typed, read-only view of a validated intake, as the rules ask about it.

Absent answers stay ``None`` (not asked), distinct from ``False`` or an empty set (asked, none).
Times such as ``stopped_months_ago`` are advanced by the time since ``recorded_on`` when the
screening is run later (``as_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Medication:
    drug_class: str
    name: str | None
    stopped_months_ago: float | None  # None = taking it now

    @property
    def current(self) -> bool:
        return self.stopped_months_ago is None

    @property
    def label(self) -> str:
        readable = self.drug_class.replace("_", " ")
        return f"{self.name} ({readable})" if self.name else readable


@dataclass(frozen=True)
class IntakeView:
    document: dict[str, Any]
    elapsed_months: float = 0.0

    @classmethod
    def of(cls, document: dict[str, Any], as_of: date | None = None) -> IntakeView:
        elapsed = 0.0
        recorded_on = document.get("recorded_on")
        if as_of is not None and recorded_on:
            elapsed = max(0.0, (as_of - date.fromisoformat(recorded_on)).days / DAYS_PER_MONTH)
        return cls(document, elapsed)

    # --- patient ---
    @property
    def _patient(self) -> dict[str, Any]:
        patient: dict[str, Any] = self.document["patient"]
        return patient

    @property
    def age_years(self) -> int:
        return int(self._patient["age_years"])

    @property
    def sex_at_birth(self) -> str:
        return str(self._patient["sex_at_birth"])

    @property
    def fitzpatrick(self) -> int:
        return int(self._patient["fitzpatrick"])

    def answer(self, question: str) -> bool | None:
        value = self._patient.get(question)
        return None if value is None else bool(value)

    # --- hair loss ---
    @property
    def hair_loss(self) -> dict[str, Any]:
        hair_loss: dict[str, Any] = self.document["hair_loss"]
        return hair_loss

    @property
    def diagnosis(self) -> str:
        return str(self.hair_loss["working_diagnosis"])

    @property
    def onset(self) -> str:
        return str(self.hair_loss["onset"])

    @property
    def diagnosed_by(self) -> str | None:
        value = self.hair_loss.get("diagnosed_by")
        return None if value is None else str(value)

    @property
    def scalp_findings(self) -> frozenset[str] | None:
        findings = self.hair_loss.get("scalp_findings")
        return None if findings is None else frozenset(findings)

    # --- history ---
    @property
    def _history(self) -> dict[str, Any]:
        history: dict[str, Any] = self.document["history"]
        return history

    @property
    def conditions(self) -> frozenset[str]:
        return frozenset(self._history["conditions"])

    @property
    def active_scalp_conditions(self) -> frozenset[str] | None:
        active = self._history.get("active_scalp_conditions")
        return None if active is None else frozenset(active)

    @property
    def allergies(self) -> frozenset[str]:
        return frozenset(self._history["allergies"])

    @property
    def medications(self) -> tuple[Medication, ...]:
        meds = []
        for raw in self._history["medications"]:
            stopped = raw.get("stopped_months_ago")
            meds.append(
                Medication(
                    drug_class=raw["class"],
                    name=raw.get("name"),
                    stopped_months_ago=(
                        None if stopped is None else float(stopped) + self.elapsed_months
                    ),
                )
            )
        return tuple(meds)

    def current_medications(self, *classes: str) -> tuple[Medication, ...]:
        return tuple(m for m in self.medications if m.current and m.drug_class in classes)

    @property
    def prior_procedure_complication(self) -> bool:
        return any(p.get("complication") for p in self._history.get("prior_procedures", []))

    # --- preferences and operator ---
    def preference(self, name: str) -> bool | None:
        value = self.document.get("preferences", {}).get(name)
        return None if value is None else bool(value)

    @property
    def operator_credential(self) -> str | None:
        operator = self.document.get("operator")
        return None if operator is None else str(operator["credential"])


def readable(value: str) -> str:
    """``fungal_infection`` → ``fungal infection``."""
    return value.replace("_", " ")


def listed(values: frozenset[str] | set[str] | tuple[str, ...]) -> str:
    return ", ".join(readable(v) for v in sorted(values))
