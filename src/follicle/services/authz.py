"""The one access policy: role × permission × tenancy × ownership (DESIGN.md §4).

Every service calls :func:`authorize` before it reads or writes. Something the actor may not
see raises :class:`NotFound`, exactly like a record that does not exist; something they may
see but not do raises :class:`Forbidden`.
"""

from __future__ import annotations

from enum import StrEnum

from follicle.services.actors import Actor
from follicle.services.errors import Forbidden, NotFound


class Permission(StrEnum):
    PATIENT_LIST = "patient:list"
    PATIENT_READ = "patient:read"
    PATIENT_CREATE = "patient:create"
    APPOINTMENT_LIST = "appointment:list"
    PORTAL_VIEW = "portal:view"
    CLINIC_SETTINGS_MANAGE = "clinic_settings:manage"
    USER_MANAGE = "user:manage"
    AUDIT_READ = "audit:read"


_STAFF_COMMON = frozenset(
    {
        Permission.PATIENT_LIST,
        Permission.PATIENT_READ,
        Permission.PATIENT_CREATE,
        Permission.APPOINTMENT_LIST,
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": _STAFF_COMMON
    | {Permission.CLINIC_SETTINGS_MANAGE, Permission.USER_MANAGE, Permission.AUDIT_READ},
    "practitioner": _STAFF_COMMON,
    "front_desk": _STAFF_COMMON,
    "patient": frozenset({Permission.PORTAL_VIEW, Permission.PATIENT_READ}),
    "cli": frozenset(Permission),
}

STAFF_ROLES = frozenset({"admin", "practitioner", "front_desk"})


def authorize(
    actor: Actor,
    permission: Permission,
    *,
    clinic_id: str | None = None,
    patient_id: str | None = None,
) -> None:
    """Allow, or raise NotFound / Forbidden. Deny by default."""
    if actor.role != "cli":
        if clinic_id is not None and actor.clinic_id != clinic_id:
            raise NotFound
        if actor.role == "patient" and patient_id is not None and actor.patient_id != patient_id:
            raise NotFound
    if permission not in ROLE_PERMISSIONS.get(actor.role, frozenset()):
        raise Forbidden(f"{actor.role} may not {permission}")


def is_staff(actor: Actor) -> bool:
    return actor.role in STAFF_ROLES
