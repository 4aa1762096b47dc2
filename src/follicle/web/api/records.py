"""Intakes (submit, amend, history) and screenings (list, read, run again)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from follicle.services import intakes
from follicle.services.authz import Permission
from follicle.services.commands import IntakeSubmission
from follicle.web.api import schemas
from follicle.web.api.deps import ApiActor, needs
from follicle.web.deps import state

router = APIRouter(tags=["intake and screening"])
BASE = "/patients/{patient_id}"


@router.get(BASE + "/intakes", **needs(Permission.INTAKE_READ), response_model=list[schemas.Intake])
def list_intakes(request: Request, actor: ApiActor, patient_id: str) -> list[dict[str, Any]]:
    return intakes.list_intakes(state(request).db, actor, patient_id)


@router.post(
    BASE + "/intakes",
    status_code=201,
    **needs(Permission.INTAKE_WRITE),
    response_model=schemas.IntakeWithScreening,
)
def submit_intake(
    request: Request, response: Response, actor: ApiActor, patient_id: str, body: IntakeSubmission
) -> dict[str, Any]:
    """Submit a ``follicle.intake/1`` document, or amend one (``amends`` + ``reason``); the
    intake is screened in the same transaction and the screening returned with it."""
    created = intakes.submit_intake(state(request).db, actor, patient_id, body)
    response.headers["Location"] = f"/api/v1/patients/{patient_id}/intakes/{created['id']}"
    return created


@router.get(
    BASE + "/intakes/{intake_id}", **needs(Permission.INTAKE_READ), response_model=schemas.Intake
)
def read_intake(
    request: Request, actor: ApiActor, patient_id: str, intake_id: str
) -> dict[str, Any]:
    return intakes.read_intake(state(request).db, actor, patient_id, intake_id)


@router.get(
    BASE + "/screenings", **needs(Permission.SCREENING_READ), response_model=list[schemas.Screening]
)
def list_screenings(request: Request, actor: ApiActor, patient_id: str) -> list[dict[str, Any]]:
    return intakes.list_screenings(state(request).db, actor, patient_id)


@router.post(
    BASE + "/screenings",
    status_code=201,
    **needs(Permission.SCREENING_RUN),
    response_model=schemas.Screening,
)
def rescreen(request: Request, actor: ApiActor, patient_id: str) -> dict[str, Any]:
    """Screen the current intake again (after the rules or the clinic's settings changed)."""
    return intakes.rescreen(state(request).db, actor, patient_id)


@router.get(
    BASE + "/screenings/{screening_id}",
    **needs(Permission.SCREENING_READ),
    response_model=schemas.Screening,
)
def read_screening(
    request: Request, actor: ApiActor, patient_id: str, screening_id: str
) -> dict[str, Any]:
    return intakes.read_screening(state(request).db, actor, patient_id, screening_id)
