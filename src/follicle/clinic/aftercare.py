"""Aftercare and preparation instructions per session, generated from the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from follicle.clinic.catalogue import Catalogue


@dataclass(frozen=True)
class TopicalPlan:
    name: str
    restart_after_hours: int | None
    evidence: tuple[str, ...]

    @property
    def is_minoxidil(self) -> bool:
        return self.name.lower().startswith("minoxidil")

    def as_contract(self) -> dict[str, Any]:
        return {"name": self.name, "restart_after_hours": self.restart_after_hours}


def aftercare_timeline(catalogue: Catalogue, topicals: list[TopicalPlan]) -> list[dict[str, Any]]:
    """Hour 0 to day 14 after a session, ordered by when each instruction starts."""
    minoxidil = next((t for t in topicals if t.is_minoxidil), None)
    items: list[dict[str, Any]] = []
    for item in catalogue.aftercare:
        if item.when == "minoxidil" and minoxidil is None:
            continue
        instruction = item.instruction
        from_hours, to_hours = item.from_hours, item.to_hours
        if item.when == "minoxidil" and minoxidil is not None:
            instruction = instruction.format(topical=minoxidil.name)
            restart = minoxidil.restart_after_hours or 0
            from_hours = to_hours = restart
        items.append(
            {
                "from_hours": from_hours,
                "to_hours": to_hours,
                "instruction": instruction,
                "evidence": list(item.evidence),
            }
        )
    items.sort(key=lambda i: (i["from_hours"], i["to_hours"]))
    return items


def preparation_steps(catalogue: Catalogue) -> list[dict[str, Any]]:
    """What the patient does before each session, the earliest first."""
    return [
        {"before_hours": p.before_hours, "instruction": p.instruction, "evidence": list(p.evidence)}
        for p in sorted(catalogue.preparation, key=lambda p: -p.before_hours)
    ]
