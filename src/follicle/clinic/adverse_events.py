"""Adverse-event grading: which events are serious and hold the plan (contracts §7).

Grades follow CTCAE v5 (1 mild … 5 death). The evidence catalogue holds the rule: serious
from a grade, and some categories serious at any grade.

>>> is_serious("erythema_prolonged", 2)
False
>>> is_serious("infection", 1)
True
"""

from __future__ import annotations

from follicle.clinic.catalogue import Catalogue, load_catalogue

GRADES = range(1, 6)  # CTCAE v5: 1 mild, 2 moderate, 3 severe, 4 life-threatening, 5 death
_LIFE_THREATENING = 4


def is_serious(category: str, grade: int, catalogue: Catalogue | None = None) -> bool:
    if grade not in GRADES:
        raise ValueError(f"grade {grade} is not a CTCAE grade (1-5)")
    rule = (catalogue or load_catalogue()).serious_event
    return grade >= rule.from_grade or category in rule.always


def serious_rule(catalogue: Catalogue | None = None) -> str:
    """The catalogue's rule in words, for the forms that grade an event.

    >>> serious_rule()
    'grade 3 or above, or any granuloma, infection or scarring'
    """
    rule = (catalogue or load_catalogue()).serious_event
    kinds = [kind.replace("_", " ") for kind in sorted(rule.always)]
    listed = ", ".join(kinds[:-1]) + f" or {kinds[-1]}" if len(kinds) > 1 else "".join(kinds)
    return f"grade {rule.from_grade} or above" + (f", or any {listed}" if listed else "")


def serious_evidence(catalogue: Catalogue | None = None) -> tuple[str, ...]:
    return (catalogue or load_catalogue()).serious_event.evidence


def urgent_advice(category: str, grade: int, clinic_phone: str | None = None) -> str:
    """What a patient reporting from the portal is told to do now (plain words), with the
    number to call when the clinic gave one.

    >>> urgent_advice("pain", 1, "020 7946 0958")
    'The clinic will review your report. Follow your aftercare steps; if it gets worse, call the clinic on 020 7946 0958.'
    """  # noqa: E501
    clinic = f"the clinic on {clinic_phone}" if clinic_phone else "the clinic"
    if grade >= _LIFE_THREATENING:
        return "This sounds urgent. Call your local emergency number now, then tell the clinic."
    if is_serious(category, grade):
        return (
            f"Please call {clinic} today. If you have a fever, spreading redness, pus or "
            "severe pain and cannot reach the clinic, go to urgent care."
        )
    return (
        "The clinic will review your report. Follow your aftercare steps; if it gets worse, "
        f"call {clinic}."
    )
