"""Staging scales: which scale fits which diagnosis, and what counts as advanced.

Norwood-Hamilton, Ludwig and Sinclair describe pattern hair loss; SALT describes alopecia
areata (Gupta & Mysore 2016; Olsen 2018). A scale that does not fit the working diagnosis is an
input error; one that is unusual for the recorded sex is allowed (contracts §2).
"""

from __future__ import annotations

from dataclasses import dataclass

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.clinic.intake_view import IntakeView, readable

PATTERN_SCALES = {"norwood": "Norwood-Hamilton", "ludwig": "Ludwig", "sinclair": "Sinclair"}
AREATA_SCALES = {"salt_score": "SALT"}
#: The sex each pattern scale was made for; unusual elsewhere, but allowed.
SCALE_SEX = {"norwood": "male", "ludwig": "female", "sinclair": "female"}


class StagingInvalid(InputInvalid):
    """A staging scale that does not fit the working diagnosis."""


@dataclass(frozen=True)
class Staging:
    norwood: str | None = None
    ludwig: str | None = None
    sinclair: int | None = None
    salt_score: float | None = None

    def describe(self) -> str:
        parts = []
        if self.norwood:
            parts.append(f"Norwood {self.norwood.replace('_vertex', ' vertex')}")
        if self.ludwig:
            parts.append(f"Ludwig {self.ludwig}")
        if self.sinclair is not None:
            parts.append(f"Sinclair {self.sinclair}")
        if self.salt_score is not None:
            parts.append(f"SALT {self.salt_score:g}")
        return ", ".join(parts) or "not staged"


def stage(intake: IntakeView) -> Staging:
    """Normalise the staging and check each scale against the working diagnosis."""
    hair_loss = intake.hair_loss
    errors = []
    diagnosis = intake.diagnosis
    for scales, fits in (
        (PATTERN_SCALES, "androgenetic_alopecia"),
        (AREATA_SCALES, "alopecia_areata"),
    ):
        for key, name in scales.items():
            if key in hair_loss and diagnosis != fits:
                errors.append(
                    FieldError(
                        f"/hair_loss/{key}",
                        f"the {name} scale stages {readable(fits)} only; the working diagnosis "
                        f"is {readable(diagnosis)}",
                    )
                )
    if errors:
        raise StagingInvalid(errors)
    sinclair = hair_loss.get("sinclair")
    salt = hair_loss.get("salt_score")
    return Staging(
        norwood=hair_loss.get("norwood"),
        ludwig=hair_loss.get("ludwig"),
        sinclair=None if sinclair is None else int(sinclair),
        salt_score=None if salt is None else float(salt),
    )


def unusual_scales_for_sex(staging: Staging, sex_at_birth: str) -> list[str]:
    """Scales used outside the sex they were made for (intersex: none is unusual)."""
    if sex_at_birth not in {"male", "female"}:
        return []
    present = {"norwood": staging.norwood, "ludwig": staging.ludwig, "sinclair": staging.sinclair}
    return [
        PATTERN_SCALES[key]
        for key, value in present.items()
        if value is not None and SCALE_SEX[key] != sex_at_birth
    ]
