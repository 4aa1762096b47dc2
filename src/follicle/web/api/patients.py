"""Patients: register, search by name or date of birth, view, correct."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from follicle.services import accounts, patients
from follicle.services.authz import Permission
from follicle.services.commands import NewPatient, PatientDetails
from follicle.web.api import schemas
from follicle.web.api.deps import ApiActor, IfMatch, needs, version_from, with_etag
from follicle.web.deps import state

router = APIRouter(tags=["patients"])


@router.get(
    "/patients", **needs(Permission.PATIENT_LIST), response_model=list[schemas.PatientSummary]
)
def search_patients(
    request: Request,
    actor: ApiActor,
    q: Annotated[str, Query(max_length=100)] = "",
    date_of_birth: date | None = None,
) -> list[dict[str, Any]]:
    """By name ``q`` (without case or accents, either name first) and or date of birth.

    "muller anna" finds Anna Müller; ``%`` and ``_`` are letters, not wildcards."""
    found = patients.list_patients(state(request).db, actor, q, date_of_birth)
    return [{**asdict(p), "date_of_birth": p.date_of_birth.isoformat()} for p in found]


@router.post(
    "/patients", status_code=201, **needs(Permission.PATIENT_CREATE), response_model=schemas.Patient
)
def create_patient(
    request: Request, response: Response, actor: ApiActor, body: NewPatient
) -> dict[str, Any]:
    created = patients.create_patient(state(request).db, actor, body)
    response.headers["Location"] = f"/api/v1/patients/{created['id']}"
    return with_etag(response, created)


@router.get(
    "/patients/{patient_id}", **needs(Permission.PATIENT_READ), response_model=schemas.Patient
)
def read_patient(
    request: Request, response: Response, actor: ApiActor, patient_id: str
) -> dict[str, Any]:
    return with_etag(response, patients.read_patient(state(request).db, actor, patient_id))


@router.put(
    "/patients/{patient_id}", **needs(Permission.PATIENT_UPDATE), response_model=schemas.Patient
)
def update_patient(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    body: PatientDetails,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Correct the patient's registration details (all of them; one left out is cleared).

    The audit entry keeps what each changed field read before; messages not sent yet go to
    the new email address or phone number (cancelled if there is none).
    A correction that makes the patient match another registered patient is refused with
    `/not_a_duplicate`, as a registration is. The portal account still signs in with its own
    address."""
    updated = patients.update_patient(
        state(request).db, actor, patient_id, body, version_from(if_match)
    )
    return with_etag(response, updated)


@router.post(
    "/patients/{patient_id}/invite",
    **needs(Permission.PATIENT_INVITE),
    response_model=schemas.Invitation,
)
def invite(request: Request, actor: ApiActor, patient_id: str) -> dict[str, Any]:
    """Email the patient a one-time link (7 days) to choose a portal password; sending again
    replaces an earlier link. Refused once the account is active."""
    app_state = state(request)
    return accounts.invite_patient(app_state.db, actor, patient_id, app_state.settings.public_url)
