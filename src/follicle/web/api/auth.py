"""API tokens: exchange an email and password for a short-lived bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from follicle.services import auth
from follicle.services.errors import AuthenticationFailed
from follicle.web.api import schemas
from follicle.web.api.deps import Unauthenticated
from follicle.web.deps import client_address, state

router = APIRouter(tags=["auth"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


@router.post("/auth/token", openapi_extra={"x-permission": "public"}, response_model=schemas.Token)
def issue_token(request: Request, body: TokenRequest) -> dict[str, Any]:
    app_state = state(request)
    app_state.login_limit.hit(client_address(request) or "unknown")
    try:
        result = auth.log_in(
            app_state.db,
            app_state.settings,
            body.email,
            body.password,
            client_address(request),
            kind="bearer",
        )
    except AuthenticationFailed as exc:
        raise Unauthenticated from exc
    return {
        "access_token": result.token,
        "token_type": "bearer",
        "expires_in": app_state.settings.api_token_minutes * 60,
    }
