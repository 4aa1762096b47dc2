"""Who is calling the API, and the small HTTP habits every route shares.

A client authenticates with a bearer token (``POST /api/v1/auth/token``) or, from the pages,
with the session cookie; a cookie-authenticated write must also carry the CSRF token in
``X-CSRF-Token``, because browsers send cookies on cross-site requests and bearer headers not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from follicle.services import auth
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.errors import Forbidden
from follicle.web.deps import client_address, state
from follicle.web.security import CSRF_COOKIE, SESSION_COOKIE, CsrfFailed, check_csrf

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unauthenticated(Exception):
    """No valid token or session (401)."""


def api_actor(request: Request) -> Actor:
    actor = _authenticate(request)
    request.state.actor = actor  # for auditing a refusal (problems.py)
    return actor


def _authenticate(request: Request) -> Actor:
    app_state = state(request)
    address = client_address(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        actor = auth.resume(app_state.db, app_state.settings, token.strip(), address, "bearer")
        if actor is None:
            raise Unauthenticated
        return actor
    cookie = request.cookies.get(SESSION_COOKIE, "")
    actor = auth.resume(app_state.db, app_state.settings, cookie, address) if cookie else None
    if actor is None:
        raise Unauthenticated
    if request.method not in SAFE_METHODS:
        try:
            check_csrf(
                app_state.secret_key,
                request.cookies.get(CSRF_COOKIE),
                request.headers.get("x-csrf-token"),
            )
        except CsrfFailed as exc:
            raise Forbidden("send the page's CSRF token in X-CSRF-Token") from exc
    return actor


ApiActor = Annotated[Actor, Depends(api_actor)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=40)]


def needs(permission: Permission) -> dict[str, Any]:
    """Route keywords naming the permission in the OpenAPI description (``x-permission``):
    the authorization matrix test reads it, so no endpoint goes untested."""
    return {"openapi_extra": {"x-permission": str(permission)}}


def etag(version: int) -> str:
    return f'"v{version}"'


def version_from(if_match: str | None) -> int | None:
    """The version an If-Match names; an unreadable one names none that exists (-1)."""
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if value.startswith("v") and value[1:].isdigit():
        return int(value[1:])
    return -1


def with_etag(response: Response, record: dict[str, Any]) -> dict[str, Any]:
    if "version" in record:
        response.headers["ETag"] = etag(int(record["version"]))
    return record
