"""Input errors that name the field (as a JSON pointer) and say what is allowed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    pointer: str
    message: str


class InputInvalid(ValueError):
    """Bad input: every error names its field; nothing may be stored or printed as a result."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.pointer or '/'}: {e.message}" for e in errors))
