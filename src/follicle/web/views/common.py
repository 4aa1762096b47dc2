"""What every page shares: rendering with the CSRF token, who is signed in, flashes, errors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.services.actors import Actor
from follicle.services.authz import ROLE_PERMISSIONS, Permission, is_staff
from follicle.services.errors import NotNow, StaleVersion, VersionRequired
from follicle.web.deps import current_actor, state
from follicle.web.security import (
    CSRF_COOKIE,
    CsrfFailed,
    check_csrf,
    csrf_token_for,
    new_csrf_nonce,
    set_cookie,
)

FLASH_COOKIE = "follicle_flash"


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class WrongSide(Exception):
    """A patient on a staff page or staff on a portal page: send them home."""

    def __init__(self, home: str) -> None:
        self.home = home


def home_for(actor: Actor) -> str:
    return "/" if is_staff(actor) else "/portal"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    actor: Actor | None = None,
) -> HTMLResponse:
    app_state = state(request)
    nonce = request.cookies.get(CSRF_COOKIE) or new_csrf_nonce()
    flash = request.cookies.get(FLASH_COOKIE)
    context = {
        **context,
        "actor": actor,
        "can": (lambda p: Permission(p) in ROLE_PERMISSIONS.get(actor.role, frozenset()))
        if actor
        else (lambda p: False),
        "csrf_token": csrf_token_for(app_state.secret_key, nonce),
        "demo_mode": app_state.settings.mode == "demo",
        "flash": flash,
        "path": request.url.path,
    }
    response = app_state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    if request.cookies.get(CSRF_COOKIE) != nonce:
        set_cookie(response, CSRF_COOKIE, nonce, secure=app_state.settings.cookie_secure)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str | None = None) -> RedirectResponse:
    """303 to ``url`` (after a POST), with a one-time message for the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE, quote(flash[:300]), max_age=60, httponly=True, samesite="lax", path="/"
        )
    return response


def signed_in(request: Request) -> Actor:
    actor = current_actor(request)
    if actor is None:
        raise LoginRequired(request.url.path)
    request.state.actor = actor  # so a refusal is audited against them
    return actor


def staff(request: Request) -> Actor:
    actor = signed_in(request)
    if not is_staff(actor):
        raise WrongSide("/portal")
    return actor


def patient(request: Request) -> Actor:
    actor = signed_in(request)
    if is_staff(actor):
        raise WrongSide("/")
    return actor


Staff = Annotated[Actor, Depends(staff)]
PatientActor = Annotated[Actor, Depends(patient)]


async def check_form(request: Request) -> None:
    """Every page POST carries the CSRF token of the form it came from."""
    form = await request.form()
    token = form.get("csrf_token")
    try:
        check_csrf(
            state(request).secret_key,
            request.cookies.get(CSRF_COOKIE),
            token if isinstance(token, str) else None,
        )
    except CsrfFailed as exc:
        raise FormExpired from exc


class FormExpired(Exception):
    """The form's CSRF token is missing or stale (an old tab, or a forged post)."""


CsrfChecked = Depends(check_form)


def errors_by_field(errors: Iterable[FieldError]) -> dict[str, str]:
    """Messages keyed by JSON pointer, for showing each next to its field."""
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(error.pointer or "/", error.message)
    return found


def require(actor: Actor, permission: Permission) -> None:
    """For a page that shows a form: refuse it (403) to a role that may not submit it."""
    if permission not in ROLE_PERMISSIONS.get(actor.role, frozenset()):
        from follicle.services.errors import Forbidden

        raise Forbidden(f"{actor.role.replace('_', ' ')} may not {permission}")


def version_of(form: Any) -> int | None:
    """The record version a form was rendered with (its hidden ``version`` field)."""
    raw = str(form.get("version", ""))
    return int(raw) if raw.isdigit() else None


def refusal_messages(exc: Exception) -> dict[str, str]:
    """Field errors by pointer, or the one reason a request was refused (under ``/``)."""
    from follicle.clinic.errors import InputInvalid

    return errors_by_field(exc.errors) if isinstance(exc, InputInvalid) else {"/": str(exc)}


def refusal_line(exc: Exception) -> str:
    """A refusal in one line for a flash message, each field named (a refusal that names no
    field is said as it is).

    >>> from follicle.services.errors import NotNow
    >>> refusal_line(NotNow("this visit has begun"))
    'this visit has begun'
    """
    return "; ".join(
        f"{k.strip('/')}: {v}" if k.strip("/") else v for k, v in refusal_messages(exc).items()
    )


def field_errors(exc: ValidationError) -> list[FieldError]:
    """A command's validation errors, named by the same pointers the API uses."""
    return [
        FieldError(
            "/" + "/".join(str(p) for p in e["loc"]), str(e["msg"]).removeprefix("Value error, ")
        )
        for e in exc.errors()
    ]


def parse_command(model: Any, values: dict[str, Any]) -> Any:
    """Build a command from form values; raises InputInvalid naming the fields."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InputInvalid(field_errors(exc)) from exc


#: What a form page shows back to the user instead of an error page: bad fields, a state that
#: refuses the request, a stale or missing version.
REFUSED = (InputInvalid, NotNow, StaleVersion, VersionRequired)


def outcome_answer(form: Any) -> Any:
    """The patient's answer to the outcome question from its form (the portal's or the
    follow-up page's)."""
    from follicle.services.commands import PatientOutcomeReport

    comment = str(form.get("comment", "")).strip() or None
    values = {"change_score": str(form.get("change_score", "")), "comment": comment}
    return parse_command(PatientOutcomeReport, values)


def appointment_ask(form: Any) -> Any:
    """A request for a visit from its form (the portal's, or the desk's on the chart)."""
    from follicle.services.commands import AppointmentAsk

    values = {k: str(form.get(k, "")) for k in ("kind", "preferred_times")}
    return parse_command(AppointmentAsk, values)
