"""`follicle screen`, `plan` and `evidence` as a user runs them (contracts §2-3)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from follicle.clinic.catalogue import load_catalogue
from tests.support.intakes import base_intake
from tests.support.server import run_follicle

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples" / "intake"


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_follicle(list(args), stdin=stdin)


def _write(tmp_path: Path, document: object, name: str = "intake.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_screen_json_follows_the_contract(tmp_path: Path) -> None:
    intake = base_intake()
    intake["patient"]["fitzpatrick"] = 5
    result = _run("screen", str(_write(tmp_path, intake)), "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert set(output) == {"schema", "decision", "findings", "rules_version"}
    assert output["schema"] == "follicle.screening/1"
    assert output["decision"] == "eligible_with_cautions"
    [finding] = output["findings"]
    assert set(finding) == {"rule", "level", "reason", "evidence"}
    known = {e["id"] for e in json.loads(_run("evidence", "--json").stdout)}
    assert set(finding["evidence"]) <= known


def test_plan_reads_standard_input() -> None:
    result = _run("plan", "-", "--json", stdin=json.dumps(base_intake()))
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["schema"] == "follicle.plan/1"
    assert output["plan"]["indication"] == "androgenetic_alopecia"
    assert output["screening"]["decision"] == "eligible"


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/examples is not beside the repo")
def test_plan_for_a_contraindicated_example_says_why() -> None:
    result = _run("plan", str(EXAMPLES / "keloid-contraindicated.json"), "--json")
    output = json.loads(result.stdout)
    assert result.returncode == 0
    assert output["plan"] is None
    assert "keloid-history" in output["why_no_plan"]


def test_evidence_lists_every_source_with_a_link() -> None:
    entries = json.loads(_run("evidence", "--json").stdout)
    assert [e["id"] for e in entries] == list(load_catalogue().sources)
    for entry in entries:
        if entry["kind"] != "consensus":
            assert {"doi", "pmid", "url"} & set(entry), entry["id"]


def test_invalid_intake_exits_2_naming_the_field_and_printing_nothing(tmp_path: Path) -> None:
    intake = base_intake()
    intake["history"]["allergies"] = ["peanuts"]
    result = _run("screen", str(_write(tmp_path, intake)), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "/history/allergies/0" in result.stderr
    assert '"nickel"' in result.stderr  # the allowed values are listed


def test_staging_that_does_not_fit_is_an_input_error(tmp_path: Path) -> None:
    intake = base_intake()
    intake["hair_loss"]["salt_score"] = 40
    result = _run("plan", str(_write(tmp_path, intake)), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "/hair_loss/salt_score" in result.stderr


def test_not_json_and_missing_file_are_reported_by_name(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = _run("screen", str(broken))
    assert result.returncode == 2
    assert "broken.json: not valid JSON" in result.stderr
    missing = _run("screen", str(tmp_path / "absent.json"))
    assert missing.returncode == 2
    assert "absent.json: cannot be read" in missing.stderr


def test_clinic_config_is_applied_and_checked(tmp_path: Path) -> None:
    intake = _write(tmp_path, base_intake())
    config = _write(
        tmp_path,
        {"plan_defaults": {"androgenetic_alopecia": {"needle_depth_mm": 1.2}}},
        "clinic.json",
    )
    result = _run("plan", str(intake), "--json", "--clinic-config", str(config))
    assert json.loads(result.stdout)["plan"]["needle_depth_mm"] == 1.2
    looser = _write(tmp_path, {"rule_levels": {"anticoagulant": "caution"}}, "loose.json")
    refused = _run("plan", str(intake), "--clinic-config", str(looser))
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "clinic config /rule_levels/anticoagulant: may be made stricter" in refused.stderr


def test_readable_output_without_json(tmp_path: Path) -> None:
    result = _run("plan", str(_write(tmp_path, base_intake())))
    assert result.returncode == 0
    assert "Screening decision: eligible" in result.stdout
    assert "Proposed plan" in result.stdout
    assert "does not diagnose" in result.stdout
