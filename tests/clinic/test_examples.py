"""Every public worked example gives the decision the contract expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from follicle.clinic.planning import make_plan
from follicle.clinic.screening import screen

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples" / "intake"
EXPECTED: dict[str, str] = (
    json.loads((EXAMPLES / "expected-decisions.json").read_text()) if EXAMPLES.is_dir() else {}
)


@pytest.mark.skipif(not EXPECTED, reason="../shared/examples is not beside the repo")
@pytest.mark.parametrize(("name", "decision"), sorted(EXPECTED.items()))
def test_example_gives_its_expected_decision(name: str, decision: str) -> None:
    document = json.loads((EXAMPLES / name).read_text())
    result = screen(document)
    assert result.decision == decision
    plan = make_plan(document)
    assert (plan.plan is not None) == (decision in {"eligible", "eligible_with_cautions"})
