"""Server-rendered pages: login, staff home, patient portal. Routes only translate HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from follicle.services import auth, patients, portal, schedule
from follicle.services.actors import Actor
from follicle.services.authz import is_staff
from follicle.services.errors import AuthenticationFailed
from follicle.web.deps import client_address, current_actor, state
from follicle.web.ratelimit import RateLimited
from follicle.web.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfFailed,
    check_csrf,
    csrf_token_for,
    new_csrf_nonce,
    set_cookie,
)

router = APIRouter(include_in_schema=False)


def _render(
    request: Request,
    template: str,
    context: dict[str, object],
    status_code: int = 200,
    actor: Actor | None = None,
) -> HTMLResponse:
    app_state = state(request)
    nonce = request.cookies.get(CSRF_COOKIE) or new_csrf_nonce()
    context = {
        **context,
        "actor": actor,
        "csrf_token": csrf_token_for(app_state.secret_key, nonce),
        "demo_mode": app_state.settings.mode == "demo",
    }
    response = app_state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    if request.cookies.get(CSRF_COOKIE) != nonce:
        set_cookie(response, CSRF_COOKIE, nonce, secure=app_state.settings.cookie_secure)
    return response


def _home_for(actor: Actor) -> str:
    return "/" if is_staff(actor) else "/portal"


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    actor = current_actor(request)
    if actor is not None:
        return RedirectResponse(_home_for(actor), status_code=303)
    return _render(request, "login.html", {"email": "", "error": None})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    app_state = state(request)
    try:
        check_csrf(app_state.secret_key, request.cookies.get(CSRF_COOKIE), csrf_token)
    except CsrfFailed:
        return _render(
            request,
            "login.html",
            {"email": email, "error": "Your form had expired. Please sign in again."},
            status_code=400,
        )
    try:
        app_state.login_limit.hit(client_address(request) or "unknown")
    except RateLimited as exc:
        limited = _render(
            request,
            "login.html",
            {"email": email, "error": f"Too many sign-in attempts from here. {exc}."},
            status_code=429,
        )
        limited.headers["Retry-After"] = str(exc.retry_after_seconds)
        return limited
    try:
        result = auth.log_in(
            app_state.db, app_state.settings, email, password, client_address(request)
        )
    except AuthenticationFailed as exc:
        return _render(request, "login.html", {"email": email, "error": str(exc)}, status_code=401)
    response = RedirectResponse(_home_for(result.actor), status_code=303)
    secure = app_state.settings.cookie_secure
    set_cookie(response, SESSION_COOKIE, result.token, secure=secure)
    set_cookie(response, CSRF_COOKIE, new_csrf_nonce(), secure=secure)  # new token per login
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
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def staff_home(request: Request, q: str = "") -> Response:
    actor = current_actor(request)
    if actor is None:
        return _to_login()
    if not is_staff(actor):
        return RedirectResponse("/portal", status_code=303)
    db = state(request).db
    agenda = schedule.day_agenda(db, actor)
    found = patients.list_patients(db, actor, name_contains=q[:100])
    return _render(request, "home.html", {"agenda": agenda, "patients": found, "q": q}, actor=actor)


@router.get("/portal", response_class=HTMLResponse)
def portal_page(request: Request) -> Response:
    actor = current_actor(request)
    if actor is None:
        return _to_login()
    if is_staff(actor):
        return RedirectResponse("/", status_code=303)
    home = portal.portal_home(state(request).db, actor)
    return _render(request, "portal.html", {"home": home}, actor=actor)
