"""Who is acting: the identity every service call is authorised and audited against."""

from __future__ import annotations

import getpass
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: str | None
    clinic_id: str | None
    role: str
    credential: str | None = None
    patient_id: str | None = None
    display_name: str = ""
    client_address: str | None = None

    @property
    def audit_name(self) -> str:
        return f"user:{self.user_id}" if self.user_id else f"{self.role}:{self.display_name}"


def cli_actor() -> Actor:
    """The local operator running a CLI command, audited as ``cli:<os user>`` (contracts §5)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(user_id=None, clinic_id=None, role="cli", display_name=name)
