"""Validating a ``follicle.intake/1`` document against the packaged schema (contracts §1).

Errors name the field as a JSON pointer and say what is allowed, so a form, the API (422) and
the CLI (exit 2) can all show the same message.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from follicle.clinic.errors import FieldError, InputInvalid

INTAKE_SCHEMA_ID = "follicle.intake/1"


class IntakeInvalid(InputInvalid):
    """An intake document that does not meet ``follicle.intake/1``."""


def schema_text() -> str:
    return resources.files("follicle.clinic").joinpath("data/intake.schema.json").read_text()


@cache
def _validator() -> Draft202012Validator:
    schema: dict[str, Any] = json.loads(schema_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _pointer(error: ValidationError) -> str:
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path]
    return "/" + "/".join(parts) if parts else ""


def _message(error: ValidationError) -> str:
    if error.validator == "enum" and isinstance(error.validator_value, list):
        allowed = ", ".join(json.dumps(value) for value in error.validator_value)
        return f"{json.dumps(error.instance)} is not allowed; allowed values: {allowed}"
    if error.validator == "additionalProperties":
        return f"unknown field ({error.message})"
    return error.message


def validate_intake(document: Any) -> dict[str, Any]:
    """Return the document if it is a valid intake, else raise IntakeInvalid naming each field."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: (_pointer(e), e.message))
    if errors:
        raise IntakeInvalid([FieldError(_pointer(e), _message(e)) for e in errors])
    assert isinstance(document, dict)
    return document
