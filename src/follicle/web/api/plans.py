"""Plans: propose from the engine, override within bounds, approve, stop."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from follicle.services import plans
from follicle.services.authz import Permission
from follicle.services.commands import PlanOverride, PlanStop
from follicle.web.api import schemas
from follicle.web.api.deps import ApiActor, IfMatch, needs, version_from, with_etag
from follicle.web.deps import state

router = APIRouter(tags=["plans"])
BASE = "/patients/{patient_id}/plans"


@router.get(BASE, **needs(Permission.PLAN_READ), response_model=list[schemas.Plan])
def list_plans(request: Request, actor: ApiActor, patient_id: str) -> list[dict[str, Any]]:
    return plans.list_plans(state(request).db, actor, patient_id)


@router.post(BASE, status_code=201, **needs(Permission.PLAN_PROPOSE), response_model=schemas.Plan)
def propose(
    request: Request, response: Response, actor: ApiActor, patient_id: str
) -> dict[str, Any]:
    """Propose a plan from the current intake's screening, for the caller's credential."""
    proposed = plans.propose_plan(state(request).db, actor, patient_id)
    response.headers["Location"] = f"/api/v1{BASE.format(patient_id=patient_id)}/{proposed['id']}"
    return with_etag(response, proposed)


@router.get(BASE + "/{plan_id}", **needs(Permission.PLAN_READ), response_model=schemas.Plan)
def read_plan(
    request: Request, response: Response, actor: ApiActor, patient_id: str, plan_id: str
) -> dict[str, Any]:
    return with_etag(response, plans.read_plan(state(request).db, actor, patient_id, plan_id))


@router.patch(BASE + "/{plan_id}", **needs(Permission.PLAN_OVERRIDE), response_model=schemas.Plan)
def override(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    plan_id: str,
    body: PlanOverride,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Change depth, interval or sessions within bounds, with a reason (needs approval again)."""
    changed = plans.override_plan(
        state(request).db, actor, patient_id, plan_id, body, version_from(if_match)
    )
    return with_etag(response, changed)


@router.post(
    BASE + "/{plan_id}/approve", **needs(Permission.PLAN_APPROVE), response_model=schemas.Plan
)
def approve(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    plan_id: str,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    approved = plans.approve_plan(
        state(request).db, actor, patient_id, plan_id, version_from(if_match)
    )
    return with_etag(response, approved)


@router.post(BASE + "/{plan_id}/stop", **needs(Permission.PLAN_STOP), response_model=schemas.Plan)
def stop(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    plan_id: str,
    body: PlanStop,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Stop a plan, with the reason; its sessions still to come are cancelled.

    For a patient who stops treatment, or a plan that no longer suits them (a new
    contraindication, a changed diagnosis): the patient is told their booked sessions are
    cancelled (not the reason, which may be clinical), the review reminder is dropped, and
    another plan may then be proposed. The sessions done stay in the record."""
    stopped = plans.stop_plan(
        state(request).db, actor, patient_id, plan_id, body, version_from(if_match)
    )
    return with_etag(response, stopped)
