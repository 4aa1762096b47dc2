"""Account pages: the two-factor step of signing in, setting it up, accepting an invitation,
resetting a forgotten password. All but the last are reachable only with a valid pending
token or link; each answer to a guess is rate-limited like the sign-in form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from follicle.clinic.errors import InputInvalid
from follicle.services import accounts, auth
from follicle.services.errors import AuthenticationFailed, NotFound
from follicle.services.passwords import MIN_PASSWORD_LENGTH
from follicle.web.deps import client_address, state
from follicle.web.ratelimit import RateLimited
from follicle.web.security import CSRF_COOKIE, CsrfFailed, check_csrf
from follicle.web.views.auth import PENDING_COOKIE, signed_in
from follicle.web.views.common import render

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Form(max_length=40)]
Csrf = Annotated[str, Form(max_length=200)]


def _guarded(request: Request, csrf_token: str) -> str | None:
    """A refusal message for an expired form or too many tries from this address, else None."""
    app_state = state(request)
    try:
        check_csrf(app_state.secret_key, request.cookies.get(CSRF_COOKIE), csrf_token)
        app_state.login_limit.hit(client_address(request) or "unknown")
    except CsrfFailed:
        return "Your form had expired. Please try again."
    except RateLimited as exc:
        return f"Too many attempts from here. {exc}."
    return None


def _restart() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(PENDING_COOKIE, path="/")
    return response


@router.get("/login/two-factor", response_class=HTMLResponse)
def code_form(request: Request) -> Response:
    pending = request.cookies.get(PENDING_COOKIE, "")
    if auth.pending_user(state(request).settings, pending, "code") is None:
        return _restart()
    return render(request, "two_factor.html", {"error": None})


@router.post("/login/two-factor", response_class=HTMLResponse)
def code_submit(request: Request, code: Code = "", csrf_token: Csrf = "") -> Response:
    app_state = state(request)
    refused = _guarded(request, csrf_token)
    if refused:
        return render(request, "two_factor.html", {"error": refused}, status_code=400)
    try:
        result = auth.complete_with_code(
            app_state.db,
            app_state.settings,
            request.cookies.get(PENDING_COOKIE, ""),
            code,
            client_address(request),
        )
    except AuthenticationFailed as exc:
        return render(request, "two_factor.html", {"error": str(exc)}, status_code=401)
    return signed_in(request, result, None)


@router.get("/login/two-factor/setup", response_class=HTMLResponse)
def setup_form(request: Request) -> Response:
    app_state = state(request)
    user_id = auth.pending_user(
        app_state.settings, request.cookies.get(PENDING_COOKIE, ""), "enrol"
    )
    if user_id is None:
        return _restart()
    enrolment = auth.begin_enrolment(app_state.db, app_state.settings, user_id)
    return render(request, "two_factor_setup.html", {"enrolment": enrolment, "error": None})


@router.post("/login/two-factor/setup", response_class=HTMLResponse)
def setup_submit(request: Request, code: Code = "", csrf_token: Csrf = "") -> Response:
    app_state = state(request)
    pending = request.cookies.get(PENDING_COOKIE, "")
    refused = _guarded(request, csrf_token)
    if refused is None:
        try:
            result, codes = auth.enrol_and_sign_in(
                app_state.db, app_state.settings, pending, code, client_address(request)
            )
        except AuthenticationFailed as exc:
            refused = str(exc)
        else:
            response = render(request, "recovery_codes.html", {"codes": codes})
            done = signed_in(request, result, None)
            for name, value in done.headers.items():
                if name == "set-cookie":
                    response.headers.append("set-cookie", value)
            return response
    user_id = auth.pending_user(app_state.settings, pending, "enrol")
    if user_id is None:
        return _restart()
    enrolment = auth.begin_enrolment(app_state.db, app_state.settings, user_id)
    return render(
        request,
        "two_factor_setup.html",
        {"enrolment": enrolment, "error": refused},
        status_code=400,
    )


def _password_page(
    request: Request, purpose: str, token: str, error: list[str] | None, status_code: int = 200
) -> Response:
    try:
        email = accounts.link_email(state(request).db, token, purpose)
    except NotFound:
        return render(request, "link_expired.html", {"purpose": purpose}, status_code=404)
    return render(
        request,
        "choose_password.html",
        {
            "purpose": purpose,
            "email": email,
            "errors": error or [],
            "min_length": MIN_PASSWORD_LENGTH,
            "action": request.url.path,
        },
        status_code=status_code,
    )


def _choose_password(
    request: Request, purpose: str, token: str, password: str, repeat: str, csrf_token: str
) -> Response:
    refused = _guarded(request, csrf_token)
    if refused:
        return _password_page(request, purpose, token, [refused], 400)
    if password != repeat:
        return _password_page(request, purpose, token, ["the two passwords differ"], 422)
    try:
        email = accounts.set_password_with_link(
            state(request).db, token, purpose, password, client_address(request)
        )
    except InputInvalid as exc:
        return _password_page(request, purpose, token, [e.message for e in exc.errors], 422)
    except NotFound:
        return render(request, "link_expired.html", {"purpose": purpose}, status_code=404)
    return render(
        request, "login.html", {"email": email, "error": None, "next": None, "done": purpose}
    )


@router.get("/password-reset", response_class=HTMLResponse)
def reset_request_form(request: Request) -> Response:
    return render(request, "password_reset.html", {"sent": False, "error": None, "email": ""})


@router.post("/password-reset", response_class=HTMLResponse)
def reset_request(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    csrf_token: Csrf = "",
) -> Response:
    refused = _guarded(request, csrf_token)
    if refused:
        return render(
            request,
            "password_reset.html",
            {"sent": False, "error": refused, "email": email},
            status_code=400,
        )
    app_state = state(request)
    accounts.request_password_reset(
        app_state.db, email, app_state.settings.public_url, client_address(request)
    )
    return render(request, "password_reset.html", {"sent": True, "error": None, "email": email})


def _link_pages(path: str, purpose: str) -> None:
    """The page a one-time link opens, and the form it posts (invitation or reset)."""

    @router.get(path, response_class=HTMLResponse)
    def form(request: Request, token: str) -> Response:
        return _password_page(request, purpose, token, None)

    @router.post(path, response_class=HTMLResponse)
    def submit(
        request: Request,
        token: str,
        password: Annotated[str, Form(max_length=1024)] = "",
        repeat: Annotated[str, Form(max_length=1024)] = "",
        csrf_token: Csrf = "",
    ) -> Response:
        return _choose_password(request, purpose, token, password, repeat, csrf_token)


_link_pages("/activate/{token}", "invite")
_link_pages("/password-reset/{token}", "password_reset")
