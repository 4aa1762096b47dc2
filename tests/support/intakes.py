"""Synthetic intake documents for tests: a fully recorded, finding-free base to vary."""

from __future__ import annotations

import copy
from typing import Any

BASE_INTAKE: dict[str, Any] = {
    "schema": "follicle.intake/1",
    "recorded_on": "2026-06-01",
    "patient": {"age_years": 35, "sex_at_birth": "male", "fitzpatrick": 2},
    "hair_loss": {
        "working_diagnosis": "androgenetic_alopecia",
        "onset": "gradual",
        "duration_months": 24,
        "norwood": "III",
        "scalp_findings": ["hair_diameter_variability"],
        "diagnosed_by": "dermatologist",
    },
    "history": {
        "conditions": [],
        "active_scalp_conditions": [],
        "medications": [],
        "allergies": [],
    },
    "operator": {"credential": "dermatologist"},
}


def base_intake() -> dict[str, Any]:
    return copy.deepcopy(BASE_INTAKE)


def female_intake(**patient: Any) -> dict[str, Any]:
    document = base_intake()
    document["patient"].update(sex_at_birth="female", pregnant=False, breastfeeding=False)
    document["patient"].update(patient)
    del document["hair_loss"]["norwood"]
    document["hair_loss"]["ludwig"] = "I"
    return document


def areata_intake(salt_score: float = 20) -> dict[str, Any]:
    document = base_intake()
    del document["hair_loss"]["norwood"]
    document["hair_loss"].update(
        working_diagnosis="alopecia_areata",
        onset="sudden",
        salt_score=salt_score,
        scalp_findings=["exclamation_mark_hairs"],
    )
    return document
