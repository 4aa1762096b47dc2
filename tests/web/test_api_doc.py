"""docs/api.md is generated from the access policy and the OpenAPI description."""

from __future__ import annotations

from pathlib import Path

from follicle.web.api.api_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_docs_api_is_up_to_date() -> None:
    assert DOC.read_text() == render(), "run `make docs` and commit the result"


def test_every_endpoint_is_listed_with_its_permission() -> None:
    text = render()
    assert "| POST | `/api/v1/patients/{patient_id}/sessions` | `session:record` |" in text
    assert "| `audit:read` | yes |  |  |  |" in text
