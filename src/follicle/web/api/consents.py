"""Consent texts (per clinic, versioned) and a patient's signatures and withdrawals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from follicle.services import consents
from follicle.services.authz import Permission
from follicle.services.commands import ConsentSignature, ConsentWithdrawal, NewConsentText
from follicle.web.api import schemas
from follicle.web.api.deps import ApiActor, IfMatch, needs, version_from, with_etag
from follicle.web.deps import state

router = APIRouter(tags=["consent"])


@router.get(
    "/consent-texts",
    **needs(Permission.CONSENT_TEXT_READ),
    response_model=list[schemas.ConsentText],
)
def list_texts(request: Request, actor: ApiActor) -> list[dict[str, Any]]:
    return consents.list_texts(state(request).db, actor)


@router.post(
    "/consent-texts",
    status_code=201,
    **needs(Permission.CONSENT_TEXT_PUBLISH),
    response_model=schemas.ConsentText,
)
def publish_text(request: Request, actor: ApiActor, body: NewConsentText) -> dict[str, Any]:
    """Publish the next version; everyone signs again before their next session."""
    return consents.publish_text(state(request).db, actor, body)


@router.get(
    "/patients/{patient_id}/consents",
    **needs(Permission.CONSENT_READ),
    response_model=schemas.ConsentStatus,
)
def list_consents(request: Request, actor: ApiActor, patient_id: str) -> dict[str, Any]:
    return consents.list_consents(state(request).db, actor, patient_id)


@router.post(
    "/patients/{patient_id}/consents",
    status_code=201,
    **needs(Permission.CONSENT_SIGN),
    response_model=schemas.Consent,
)
def sign(
    request: Request, response: Response, actor: ApiActor, patient_id: str, body: ConsentSignature
) -> dict[str, Any]:
    return with_etag(response, consents.sign(state(request).db, actor, patient_id, body))


@router.post(
    "/patients/{patient_id}/consents/{consent_id}/withdraw",
    **needs(Permission.CONSENT_WITHDRAW),
    response_model=schemas.Consent,
)
def withdraw(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    consent_id: str,
    body: ConsentWithdrawal,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    withdrawn = consents.withdraw(
        state(request).db, actor, patient_id, consent_id, body, version_from(if_match)
    )
    return with_etag(response, withdrawn)
