"""Clinic-level resources: settings, rooms, staff and their hours, the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response

from follicle.services import accounts, clinic_admin, outbox, patient_updates
from follicle.services.authz import Permission
from follicle.services.commands import Moment, NewStaff, PatientUpdate
from follicle.web.api import schemas
from follicle.web.api.deps import ApiActor, IfMatch, needs, version_from, with_etag
from follicle.web.deps import state

router = APIRouter(tags=["clinic"])
Filter = Annotated[str | None, Query(max_length=80)]


@router.get(
    "/settings", **needs(Permission.CLINIC_SETTINGS_READ), response_model=schemas.ClinicSettings
)
def read_settings(request: Request, response: Response, actor: ApiActor) -> dict[str, Any]:
    return with_etag(response, clinic_admin.read_settings(state(request).db, actor))


@router.put(
    "/settings", **needs(Permission.CLINIC_SETTINGS_MANAGE), response_model=schemas.ClinicSettings
)
def update_settings(
    request: Request,
    response: Response,
    actor: ApiActor,
    document: Annotated[dict[str, Any], Body()],
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Replace the settings (``follicle.clinic-settings/1``): plan bounds, depth limits by
    credential, wash-outs, rule levels; only ever stricter than the cited evidence."""
    updated = clinic_admin.update_settings(
        state(request).db, actor, document, version_from(if_match)
    )
    return with_etag(response, updated)


@router.get("/rooms", **needs(Permission.ROOM_LIST), response_model=list[schemas.Room])
def list_rooms(request: Request, actor: ApiActor) -> list[dict[str, Any]]:
    return clinic_admin.list_rooms(state(request).db, actor)


@router.get("/users", **needs(Permission.USER_LIST), response_model=list[schemas.StaffUser])
def list_staff(request: Request, actor: ApiActor) -> list[dict[str, Any]]:
    return clinic_admin.list_staff(state(request).db, actor)


@router.post(
    "/users", status_code=201, response_model=schemas.StaffUser, **needs(Permission.USER_MANAGE)
)
def create_staff(request: Request, actor: ApiActor, body: NewStaff) -> dict[str, Any]:
    """Add a staff member with a first password (practitioners need a credential)."""
    app_state = state(request)
    return clinic_admin.create_staff(app_state.db, actor, body, app_state.settings.public_url)


@router.put(
    "/users/{user_id}/working-hours",
    **needs(Permission.USER_MANAGE),
    response_model=schemas.StaffUser,
)
def set_working_hours(
    request: Request,
    response: Response,
    actor: ApiActor,
    user_id: str,
    hours: Annotated[dict[str, list[list[str]]], Body()],
    if_match: IfMatch = None,
) -> dict[str, Any]:
    updated = clinic_admin.set_working_hours(
        state(request).db, actor, user_id, hours, version_from(if_match)
    )
    return with_etag(response, updated)


@router.get("/audit", **needs(Permission.AUDIT_READ), response_model=schemas.AuditPage)
def audit_log(
    request: Request,
    actor: ApiActor,
    action: Filter = None,
    resource_type: Filter = None,
    resource_id: Filter = None,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=80)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=clinic_admin.MAX_AUDIT_PAGE)] = 100,
) -> dict[str, Any]:
    """Newest first; page with ``before_seq`` from ``next_before_seq``."""
    return clinic_admin.audit_log(
        state(request).db,
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        actor_name=actor_name,
        since=since,
        until=until,
        before_seq=before_seq,
        limit=limit,
    )


@router.get(
    "/operations",
    **needs(Permission.CLINIC_SETTINGS_READ),
    response_model=schemas.ClinicOperations,
)
def read_operations(request: Request, response: Response, actor: ApiActor) -> dict[str, Any]:
    return with_etag(response, clinic_admin.read_operations(state(request).db, actor))


@router.put(
    "/operations",
    **needs(Permission.CLINIC_SETTINGS_MANAGE),
    response_model=schemas.ClinicOperations,
)
def update_operations(
    request: Request,
    response: Response,
    actor: ApiActor,
    document: Annotated[dict[str, Any], Body()],
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Reminder lead times (hours before, up to three), text messages on or off,
    two-factor sign-in for all staff (admins always need it), how many hours before a
    visit a patient may still cancel it from the portal, and the phone number patients call.

    Text messages, when on, carry the reminders and the notices of a visit booked, moved or
    cancelled, to patients with a mobile number."""
    updated = clinic_admin.update_operations(
        state(request).db, actor, document, version_from(if_match)
    )
    return with_etag(response, updated)


@router.get("/messages", **needs(Permission.MESSAGE_LIST), response_model=schemas.Outbox)
def list_messages(
    request: Request,
    actor: ApiActor,
    status: Annotated[
        str | None, Query(pattern="^(pending|sending|sent|failed|cancelled|skipped)$")
    ] = None,
    patient_id: Filter = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Messages to patients and their delivery status, newest due first."""
    return outbox.list_messages(state(request).db, actor, status, patient_id, limit)


@router.post(
    "/users/{user_id}/deactivate",
    **needs(Permission.USER_MANAGE),
    response_model=schemas.AccountChange,
)
def deactivate_user(request: Request, actor: ApiActor, user_id: str) -> dict[str, Any]:
    """End a staff member's access at once (sessions and API tokens); records stay."""
    return accounts.set_staff_active(
        state(request).db, actor, user_id, False, "deactivated through the API"
    )


@router.post(
    "/users/{user_id}/reactivate",
    **needs(Permission.USER_MANAGE),
    response_model=schemas.AccountChange,
)
def reactivate_user(request: Request, actor: ApiActor, user_id: str) -> dict[str, Any]:
    return accounts.set_staff_active(
        state(request).db, actor, user_id, True, "reactivated through the API"
    )


@router.get(
    "/patient-updates",
    **needs(Permission.PATIENT_UPDATE_SEND),
    response_model=schemas.PatientUpdates,
)
def list_patient_updates(request: Request, actor: ApiActor) -> dict[str, Any]:
    """How many patients each audience reaches now, and the updates sent before."""
    db = state(request).db
    return {
        "audience_sizes": patient_updates.audience_sizes(db, actor),
        "sent": patient_updates.history(db, actor),
    }


@router.post(
    "/patient-updates",
    status_code=201,
    **needs(Permission.PATIENT_UPDATE_SEND),
    response_model=schemas.PatientUpdateSent,
)
def send_patient_update(request: Request, actor: ApiActor, body: PatientUpdate) -> dict[str, Any]:
    """Email an update or a piece of education to the patients who opted in to it."""
    return patient_updates.send(state(request).db, actor, body)
