"""Staff pages: today, patients, a new patient, the chart, the clinic's outcomes, the evidence
catalogue."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from follicle.clinic.adverse_events import serious_rule
from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.errors import InputInvalid
from follicle.records.models.vocab import ADVERSE_EVENT_CATEGORIES
from follicle.services import accounts, chart, outcomes, patients, schedule, worklist
from follicle.services.authz import Permission
from follicle.services.commands import NewPatient, PatientDetails
from follicle.services.errors import StaleVersion
from follicle.web.deps import state
from follicle.web.views.common import (
    REFUSED,
    CsrfChecked,
    Staff,
    errors_by_field,
    parse_command,
    redirect,
    refusal_messages,
    render,
    require,
    version_of,
)

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def today(request: Request, actor: Staff) -> Response:
    db = state(request).db
    agenda = schedule.day_agenda(db, actor)
    work = worklist.worklist(db, actor)
    return render(request, "today.html", {"agenda": agenda, "work": work}, actor=actor)


@router.get("/patients", response_class=HTMLResponse)
def patient_list(
    request: Request,
    actor: Staff,
    q: Annotated[str, Query(max_length=100)] = "",
    date_of_birth: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    born = None
    if date_of_birth:
        try:
            born = date.fromisoformat(date_of_birth)
        except ValueError:
            born = None
    found = patients.list_patients(state(request).db, actor, q, born)
    return render(request, "patients.html", {"patients": found, "q": q, "dob": born}, actor=actor)


@router.get("/patients/new", response_class=HTMLResponse)
def new_patient_form(request: Request, actor: Staff) -> Response:
    return render(request, "patient_form.html", {"values": {}, "errors": {}}, actor=actor)


@router.post("/patients/new", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def new_patient(request: Request, actor: Staff) -> Response:
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    cleaned = {k: v for k, v in values.items() if v}
    try:
        command = parse_command(NewPatient, cleaned)
        created = patients.create_patient(state(request).db, actor, command)
    except InputInvalid as exc:
        errors = errors_by_field(exc.errors)
        same = exc.patient_id if isinstance(exc, patients.PossibleDuplicate) else None
        return render(
            request,
            "patient_form.html",
            {"values": values, "errors": errors, "registered_already": same},
            status_code=422,
            actor=actor,
        )
    return redirect(f"/patients/{created['id']}", "Patient registered.")


@router.get("/patients/{patient_id}/details", response_class=HTMLResponse)
def patient_details_form(request: Request, actor: Staff, patient_id: str) -> Response:
    require(actor, Permission.PATIENT_UPDATE)
    registered = patients.read_patient(state(request).db, actor, patient_id)
    values = {k: "" if v is None else str(v) for k, v in registered.items()}
    return render(
        request,
        "patient_form.html",
        {"values": values, "errors": {}, "patient_id": patient_id},
        actor=actor,
    )


@router.post(
    "/patients/{patient_id}/details", response_class=HTMLResponse, dependencies=[CsrfChecked]
)
async def patient_details(request: Request, actor: Staff, patient_id: str) -> Response:
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    cleaned = {k: v for k, v in values.items() if v and k != "version"}
    try:
        command = parse_command(PatientDetails, cleaned)
        patients.update_patient(state(request).db, actor, patient_id, command, version_of(form))
    except REFUSED as exc:
        same = exc.patient_id if isinstance(exc, patients.PossibleDuplicate) else None
        errors = refusal_messages(exc)
        if isinstance(exc, StaleVersion):  # (show them as they are now: nothing overwritten)
            values = {k: "" if v is None else str(v) for k, v in exc.current.items()}
            errors = {"/": "someone saved these details meanwhile; they are shown as saved now"}
        return render(
            request,
            "patient_form.html",
            {
                "values": values,
                "errors": errors,
                "registered_already": same,
                "patient_id": patient_id,
            },
            status_code=409 if isinstance(exc, StaleVersion) else 422,
            actor=actor,
        )
    return redirect(f"/patients/{patient_id}", "Details saved.")


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_chart(request: Request, actor: Staff, patient_id: str) -> Response:
    found = chart.patient_chart(state(request).db, actor, patient_id)
    return render(
        request,
        "chart.html",
        {
            "chart": found,
            "event_categories": ADVERSE_EVENT_CATEGORIES,
            "serious_rule": serious_rule(),
        },
        actor=actor,
    )


@router.get("/evidence", response_class=HTMLResponse)
def evidence(request: Request, actor: Staff) -> Response:
    catalogue = load_catalogue()
    return render(
        request,
        "evidence.html",
        {
            "sources": sorted(catalogue.sources.values(), key=lambda s: (s.kind, s.id)),
            "version": catalogue.rules_version,
        },
        actor=actor,
    )


@router.get("/outcomes", response_class=HTMLResponse)
def clinic_outcomes(request: Request, actor: Staff) -> Response:
    catalogue = load_catalogue()
    return render(
        request,
        "outcomes.html",
        {
            "rows": outcomes.clinic_outcomes(state(request).db, actor),
            "rule": catalogue.responder,
            "asked": catalogue.patient_outcome,
        },
        actor=actor,
    )


@router.post("/patients/{patient_id}/invite", dependencies=[CsrfChecked])
def invite(request: Request, actor: Staff, patient_id: str) -> Response:
    app_state = state(request)
    try:
        sent = accounts.invite_patient(
            app_state.db, actor, patient_id, app_state.settings.public_url
        )
    except REFUSED as exc:
        return redirect(
            f"/patients/{patient_id}",
            "No invitation sent: " + "; ".join(refusal_messages(exc).values()),
        )
    return redirect(
        f"/patients/{patient_id}",
        f"Invitation sent to {sent['email']}; the link works for {accounts.INVITE_DAYS} days.",
    )
