"""Admin pages: staff and their hours, rooms, clinic settings, consent texts, the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.clinic_settings import default_settings
from follicle.clinic.errors import InputInvalid
from follicle.records.models.vocab import CREDENTIALS
from follicle.services import accounts, clinic_admin, consents
from follicle.services.actors import Actor
from follicle.services.appointments import CLINIC_HOURS, WEEKDAYS
from follicle.services.authz import Permission, authorize
from follicle.services.commands import NewConsentText, NewStaff
from follicle.services.common import actor_zone
from follicle.services.errors import NotFound
from follicle.web.deps import state
from follicle.web.views.common import (
    REFUSED,
    CsrfChecked,
    errors_by_field,
    parse_command,
    redirect,
    refusal_messages,
    render,
    staff,
    version_of,
)

router = APIRouter(include_in_schema=False)


def admin(request: Request) -> Actor:
    actor = staff(request)
    authorize(actor, Permission.USER_MANAGE)
    return actor


Admin = Annotated[Actor, Depends(admin)]


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, actor: Admin) -> Response:
    db = state(request).db
    return render(
        request,
        "admin.html",
        {
            "staff": clinic_admin.list_staff(db, actor),
            "rooms": clinic_admin.list_rooms(db, actor),
            "weekdays": WEEKDAYS,
            "default_hours": CLINIC_HOURS,
            "errors": {},
            "values": {},
            "credentials": CREDENTIALS,
        },
        actor=actor,
    )


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def add_staff(request: Request, actor: Admin) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip() for k in ("email", "display_name", "role", "credential")
    }
    db = state(request).db
    try:
        new = parse_command(
            NewStaff,
            {
                **values,
                "credential": values["credential"] or None,
                "password": str(form.get("password", "")) or None,
            },
        )
        created = clinic_admin.create_staff(db, actor, new, state(request).settings.public_url)
    except InputInvalid as exc:
        return render(
            request,
            "admin.html",
            {
                "staff": clinic_admin.list_staff(db, actor),
                "rooms": clinic_admin.list_rooms(db, actor),
                "weekdays": WEEKDAYS,
                "default_hours": CLINIC_HOURS,
                "errors": errors_by_field(exc.errors),
                "values": values,
                "credentials": CREDENTIALS,
            },
            status_code=422,
            actor=actor,
        )
    if created["status"] == "invited":
        return redirect(
            "/admin", f"{created['display_name']} was emailed a link to choose a password."
        )
    return redirect("/admin", f"{created['display_name']} can now sign in.")


@router.post("/admin/users/{user_id}/hours", dependencies=[CsrfChecked])
async def set_hours(request: Request, actor: Admin, user_id: str) -> Response:
    form = await request.form()
    hours: dict[str, list[list[str]]] = {}
    half: list[str] = []  # (a start without an end, or an end without a start)
    for day in WEEKDAYS:
        opens = str(form.get(f"{day}_from", "")).strip()
        closes = str(form.get(f"{day}_to", "")).strip()
        if opens and closes:
            hours[day] = [[opens, closes]]
        elif opens or closes:
            half.append(day.capitalize())
    if half:  # (dropped, the day would have been saved as a day off without a word)
        return redirect(
            "/admin",
            f"Hours not saved: {', '.join(half)} needs both a start and an end time "
            "(leave both empty for a day off).",
        )
    try:
        clinic_admin.set_working_hours(state(request).db, actor, user_id, hours, version_of(form))
    except InputInvalid as exc:  # (each day by name, as the form shows it)
        days = "; ".join(f"{_day_of(e.pointer)} {e.message}" for e in exc.errors)
        return redirect("/admin", f"Hours not saved: {days}.")
    except REFUSED as exc:
        return redirect("/admin", f"Hours not saved: {exc}")
    return redirect("/admin", "Working hours saved.")


def _day_of(pointer: str) -> str:
    """``/mon/0`` as the form's row: Mon."""
    return pointer.strip("/").split("/")[0].capitalize()


@router.post("/admin/users/{user_id}/{change}", dependencies=[CsrfChecked])
def change_account(request: Request, actor: Admin, user_id: str, change: str) -> Response:
    """Deactivate, reactivate, or clear a colleague's two-factor (lost phone)."""
    db = state(request).db
    try:
        if change in ("deactivate", "reactivate"):
            done = accounts.set_staff_active(
                db, actor, user_id, change == "reactivate", f"{change}d by an admin"
            )
            message = (
                f"Deactivated; {done['sessions_ended']} session(s) ended."
                if change == "deactivate"
                else "Reactivated: they can sign in again."
            )
        elif change == "reset-two-factor":
            accounts.reset_two_factor(db, actor, user_id, "reset by an admin")
            message = "Two-factor cleared: they set it up again at their next sign-in."
        else:
            raise NotFound
    except REFUSED as exc:
        return redirect("/admin", f"Not changed: {exc}")
    return redirect(f"/admin#user-{user_id}", message)


BOUNDED = ("needle_depth_mm", "interval_days", "sessions")


def _settings_page(
    request: Request,
    actor: Actor,
    errors: dict[str, str],
    text: str | None = None,
    status_code: int = 200,
    attempted: dict[str, Any] | None = None,
) -> Response:
    current = clinic_admin.read_settings(state(request).db, actor)
    document = attempted if attempted is not None else current["settings"]
    catalogue = load_catalogue()
    return render(
        request,
        "admin_settings.html",
        {
            "current": current,
            "document": document,
            "text": text if text is not None else json.dumps(document, indent=2),
            "errors": errors,
            "bounded": BOUNDED,
            "cited": {name: catalogue.bounds[name] for name in BOUNDED},
            "credentials": CREDENTIALS,
            "default_depths": catalogue.credential_max_depth_mm,
            "default_washout": default_settings(catalogue).washout_months(),
        },
        status_code=status_code,
        actor=actor,
    )


def _number(raw: str) -> float | str:
    try:
        value = float(raw)
    except ValueError:
        return raw  # the settings check names the field
    return int(value) if value.is_integer() else value


def settings_from_form(form: Any, current: dict[str, Any]) -> dict[str, Any]:
    """The settings document from the form's fields, keeping what the form does not show
    (rule levels, plan defaults); an empty field means "the cited default"."""
    document = {k: v for k, v in current.items() if k in ("schema", "rule_levels", "plan_defaults")}
    document["schema"] = "follicle.clinic-settings/1"
    bounds = {}
    for name in BOUNDED:
        low, high = (
            str(form.get(f"{name}_low", "")).strip(),
            str(form.get(f"{name}_high", "")).strip(),
        )
        if low or high:  # one side left empty keeps the cited value for that side
            cited = load_catalogue().bounds[name]
            bounds[name] = [_number(low or str(cited.low)), _number(high or str(cited.high))]
    if bounds:
        document["plan_bounds"] = bounds
    depths = {
        credential: _number(str(form.get(f"depth_{credential}", "")).strip())
        for credential in CREDENTIALS
        if str(form.get(f"depth_{credential}", "")).strip()
    }
    if depths:
        document["max_depth_mm_by_credential"] = depths
    washout = str(form.get("isotretinoin_washout_months", "")).strip()
    if washout:
        document["isotretinoin_washout_months"] = _number(washout)
    return document


@router.get("/admin/settings", response_class=HTMLResponse)
def settings_page(request: Request, actor: Admin) -> Response:
    return _settings_page(request, actor, {})


@router.post("/admin/settings", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def save_settings(request: Request, actor: Admin) -> Response:
    form = await request.form()
    db = state(request).db
    text = None
    document: dict[str, Any] | None = None
    try:
        if form.get("advanced") == "yes":
            text = str(form.get("settings", ""))
            document = json.loads(text)
            if not isinstance(document, dict):
                raise ValueError("the settings are a JSON object")
        else:
            current = clinic_admin.read_settings(db, actor)["settings"]
            document = settings_from_form(form, current)
        clinic_admin.update_settings(db, actor, document, version_of(form))
    except (ValueError, *REFUSED) as exc:
        return _settings_page(
            request, actor, refusal_messages(exc), text, status_code=422, attempted=document
        )
    return redirect("/admin/settings", "Settings saved.")


@router.get("/admin/consent-texts", response_class=HTMLResponse)
def consent_texts(request: Request, actor: Admin) -> Response:
    db = state(request).db
    texts = consents.list_texts(db, actor)
    page = {"texts": texts, "errors": {}, "values": {}, "time_zone": actor_zone(db, actor)}
    return render(request, "admin_consents.html", page, actor=actor)


@router.post("/admin/consent-texts", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def publish_consent_text(request: Request, actor: Admin) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("kind", "title", "body")}
    db = state(request).db
    try:
        published = consents.publish_text(db, actor, parse_command(NewConsentText, values))
    except InputInvalid as exc:
        return render(
            request,
            "admin_consents.html",
            {
                "texts": consents.list_texts(db, actor),
                "errors": errors_by_field(exc.errors),
                "values": values,
                "time_zone": actor_zone(db, actor),
            },
            status_code=422,
            actor=actor,
        )
    return redirect(
        "/admin/consent-texts",
        f"Version {published['version_number']} published; "
        "patients sign it before their next session.",
    )


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    actor: Admin,
    action: Annotated[str, Query(max_length=60)] = "",
    resource_id: Annotated[str, Query(max_length=40)] = "",
    who: Annotated[str, Query(max_length=80)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    before_seq: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            start = None
    page = clinic_admin.audit_log(
        state(request).db,
        actor,
        action=action or None,
        resource_id=resource_id or None,
        actor_name=who or None,
        since=start,
        before_seq=before_seq,
        limit=100,
    )
    filters: dict[str, Any] = {
        "action": action,
        "resource_id": resource_id,
        "who": who,
        "since": since,
    }
    return render(request, "admin_audit.html", {"page": page, "filters": filters}, actor=actor)
