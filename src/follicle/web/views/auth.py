"""Signing in and out."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from follicle.services import auth
from follicle.services.errors import AuthenticationFailed
from follicle.web.deps import client_address, current_actor, state
from follicle.web.ratelimit import RateLimited
from follicle.web.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfFailed,
    check_csrf,
    new_csrf_nonce,
    set_cookie,
)
from follicle.web.views.common import home_for, render

router = APIRouter(include_in_schema=False)
PENDING_COOKIE = "follicle_pending"  # between the password and the two-factor code


_LOCAL_PATH = re.compile(r"/[A-Za-z0-9_\-./~%]*")


def _safe_next(next_path: str) -> str | None:
    """Only a plain path on this site (no scheme, no //host, no whitespace or control
    characters a browser would strip), so a link cannot send users away."""
    if _LOCAL_PATH.fullmatch(next_path) and not next_path.startswith("//"):
        return next_path[:300]
    return None


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:
    actor = current_actor(request)
    if actor is not None:
        return RedirectResponse(home_for(actor), status_code=303)
    return render(request, "login.html", {"email": "", "error": None, "next": _safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    app_state = state(request)
    context = {"email": email, "next": _safe_next(next)}
    try:
        check_csrf(app_state.secret_key, request.cookies.get(CSRF_COOKIE), csrf_token)
    except CsrfFailed:
        return render(
            request,
            "login.html",
            {**context, "error": "Your form had expired. Please sign in again."},
            status_code=400,
        )
    try:
        app_state.login_limit.hit(client_address(request) or "unknown")
    except RateLimited as exc:
        limited = render(
            request,
            "login.html",
            {**context, "error": f"Too many sign-in attempts from here. {exc}."},
            status_code=429,
        )
        limited.headers["Retry-After"] = str(exc.retry_after_seconds)
        return limited
    try:
        result = auth.log_in(
            app_state.db, app_state.settings, email, password, client_address(request)
        )
    except AuthenticationFailed as exc:
        return render(request, "login.html", {**context, "error": str(exc)}, status_code=401)
    except auth.SecondFactorNeeded as needed:
        step = "/login/two-factor/setup" if needed.enrol else "/login/two-factor"
        response = RedirectResponse(step, status_code=303)
        set_cookie(
            response,
            PENDING_COOKIE,
            needed.pending,
            secure=app_state.settings.cookie_secure,
            max_age=auth.PENDING_MINUTES * 60,
        )
        return response
    return signed_in(request, result, _safe_next(next))


def signed_in(request: Request, result: auth.LoginResult, next_path: str | None) -> Response:
    """Send the new session's cookies and go home (or back where a staff member was)."""
    home = home_for(result.actor)
    target = next_path if home == "/" else None
    response = RedirectResponse(target or home, status_code=303)
    secure = state(request).settings.cookie_secure
    set_cookie(response, SESSION_COOKIE, result.token, secure=secure)
    set_cookie(response, CSRF_COOKIE, new_csrf_nonce(), secure=secure)  # new token per login
    response.delete_cookie(PENDING_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    app_state = state(request)
    try:
        check_csrf(app_state.secret_key, request.cookies.get(CSRF_COOKIE), csrf_token)
    except CsrfFailed:
        return RedirectResponse("/", status_code=303)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth.log_out(app_state.db, token, client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
