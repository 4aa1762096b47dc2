"""API tokens: exchange an email and password for a short-lived bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from follicle.services import accounts, auth
from follicle.services.errors import AuthenticationFailed
from follicle.web.api import schemas
from follicle.web.api.deps import Unauthenticated
from follicle.web.deps import client_address, state

router = APIRouter(tags=["auth"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    #: The six-digit code from the authenticator app (or a recovery code), for accounts with
    #: two-factor sign-in.
    totp_code: Annotated[str | None, Field(min_length=6, max_length=20)] = None


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
            code=body.totp_code,
        )
    except AuthenticationFailed as exc:
        raise Unauthenticated(str(exc)) from exc
    return {
        "access_token": result.token,
        "token_type": "bearer",
        "expires_in": app_state.settings.api_token_minutes * 60,
    }


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=3, max_length=254)]


@router.post(
    "/auth/password-reset",
    status_code=202,
    openapi_extra={"x-permission": "public"},
    response_model=schemas.Accepted,
)
def request_password_reset(request: Request, body: ResetRequest) -> dict[str, str]:
    """Email a one-hour reset link if an active account has this address. The answer is the
    same whether or not it has one, so the endpoint cannot tell who has an account."""
    app_state = state(request)
    app_state.login_limit.hit(client_address(request) or "unknown")
    accounts.request_password_reset(
        app_state.db, body.email, app_state.settings.public_url, client_address(request)
    )
    return {"status": "accepted"}
