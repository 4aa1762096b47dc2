"""Record-keeping rules enforced below the services, so no code path can skip them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from follicle.records.models import AuditEntry, LoginSession


class HardDeleteRefused(Exception):
    """Clinical records are amended or voided with a reason, never deleted."""


#: The only rows a session may delete: none of them is a clinical record.
_DELETABLE: tuple[type, ...] = (LoginSession,)
_APPEND_ONLY: tuple[type, ...] = (AuditEntry,)


@event.listens_for(Session, "before_flush")
def _refuse_hard_deletes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if not isinstance(obj, _DELETABLE):
            raise HardDeleteRefused(
                f"{type(obj).__name__} records are voided with a reason, not deleted"
            )
    for obj in session.dirty:
        if isinstance(obj, _APPEND_ONLY) and session.is_modified(obj):
            raise HardDeleteRefused("audit entries are append-only")
