"""Intake, screening, consent and plan pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from follicle.clinic.errors import InputInvalid
from follicle.services import chart, consents, intakes, plans
from follicle.services.authz import Permission
from follicle.services.commands import (
    ConsentSignature,
    ConsentWithdrawal,
    IntakeSubmission,
    PlanOverride,
    PlanStop,
)
from follicle.services.errors import Forbidden, NotNow, StaleVersion, VersionRequired
from follicle.web.deps import state
from follicle.web.intake_form import document_from_form, form_sections, form_values, rows_for
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
    signed_in,
    version_of,
)

router = APIRouter(include_in_schema=False)


def _intake_page(
    request: Request,
    actor: Any,
    patient_chart: chart.Chart,
    values: dict[str, Any],
    errors: dict[str, str],
    reason: str = "",
    status_code: int = 200,
) -> Response:
    current = patient_chart.current_intake
    return render(
        request,
        "intake.html",
        {
            "chart": patient_chart,
            "sections": form_sections(),
            "values": values,
            "errors": errors,
            "amends": current["id"] if current else None,
            "reason": reason,
            "rows_for": rows_for,
        },
        status_code=status_code,
        actor=actor,
    )


@router.get("/patients/{patient_id}/intake", response_class=HTMLResponse)
def intake_form(request: Request, actor: Staff, patient_id: str) -> Response:
    found = chart.patient_chart(state(request).db, actor, patient_id)
    require(actor, Permission.INTAKE_WRITE)
    current = found.current_intake
    if current:
        values = form_values(current["intake"])
        values.pop("/recorded_on", None)
    else:  # start from what registration already knows
        values = {
            "/patient/age_years": found.age_years,
            "/patient/sex_at_birth": found.patient["sex_at_birth"],
            "/history/conditions": [],
        }
    if actor.credential:
        values["/operator/credential"] = actor.credential
    return _intake_page(request, actor, found, values, {})


@router.post(
    "/patients/{patient_id}/intake", response_class=HTMLResponse, dependencies=[CsrfChecked]
)
async def submit_intake(request: Request, actor: Staff, patient_id: str) -> Response:
    form = await request.form()
    fields = {key: [str(v) for v in form.getlist(key)] for key in form if key.startswith("/")}
    document = document_from_form(fields)
    amends = str(form.get("amends", "")) or None
    reason = str(form.get("reason", "")).strip()
    db = state(request).db
    try:
        submission = parse_command(
            IntakeSubmission,
            {"intake": document, "amends": amends, "reason": reason or None},
        )
        created = intakes.submit_intake(db, actor, patient_id, submission)
    except (InputInvalid, NotNow) as exc:
        errors = (
            errors_by_field(
                type(e)(e.pointer.removeprefix("/intake") or "/", e.message) for e in exc.errors
            )
            if isinstance(exc, InputInvalid)
            else {"/": str(exc)}
        )
        found = chart.patient_chart(db, actor, patient_id)
        values = form_values(document)
        return _intake_page(request, actor, found, values, errors, reason, status_code=422)
    decision = created["screening"]["decision"].replace("_", " ")
    return redirect(f"/patients/{patient_id}#screening", f"Intake saved. Screening: {decision}.")


@router.post("/patients/{patient_id}/screenings", dependencies=[CsrfChecked])
def rescreen(request: Request, actor: Staff, patient_id: str) -> Response:
    try:
        result = intakes.rescreen(state(request).db, actor, patient_id)
    except NotNow as exc:
        return redirect(f"/patients/{patient_id}", str(exc))
    decision = result["decision"].replace("_", " ")
    return redirect(f"/patients/{patient_id}#screening", f"Screened again: {decision}.")


@router.get("/patients/{patient_id}/consent/{kind}", response_class=HTMLResponse)
def consent_page(request: Request, patient_id: str, kind: str) -> Response:
    actor = signed_in(request)
    status = consents.list_consents(state(request).db, actor, patient_id)
    text = status["current_texts"].get(kind)
    return render(
        request,
        "consent.html",
        {
            "patient_id": patient_id,
            "text": text,
            "kind": kind,
            "status": status,
            "errors": {},
            "values": {},
        },
        actor=actor,
    )


@router.post(
    "/patients/{patient_id}/consent/{kind}", response_class=HTMLResponse, dependencies=[CsrfChecked]
)
async def sign_consent(request: Request, patient_id: str, kind: str) -> Response:
    actor = signed_in(request)
    form = await request.form()
    db = state(request).db
    try:
        signature = parse_command(
            ConsentSignature,
            {
                "kind": kind,
                "signed_name": str(form.get("signed_name", "")),
                "consent_text_id": str(form.get("consent_text_id", "")),
                "signature_png": str(form.get("signature_png", "")) or None,
                "representative": str(form.get("representative", "")) or None,
            },
        )
        consents.sign(db, actor, patient_id, signature)
    except (InputInvalid, NotNow) as exc:
        errors = refusal_messages(exc)
        status = consents.list_consents(db, actor, patient_id)
        return render(
            request,
            "consent.html",
            {
                "patient_id": patient_id,
                "text": status["current_texts"].get(kind),
                "kind": kind,
                "status": status,
                "errors": errors,
                "values": {"representative": str(form.get("representative", ""))},
            },
            status_code=422,
            actor=actor,
        )
    back = "/portal" if actor.role == "patient" else f"/patients/{patient_id}#consents"
    return redirect(back, "Consent signed. Thank you.")


@router.post("/patients/{patient_id}/consents/{consent_id}/withdraw", dependencies=[CsrfChecked])
async def withdraw_consent(request: Request, patient_id: str, consent_id: str) -> Response:
    actor = signed_in(request)
    form = await request.form()
    try:
        withdrawal = parse_command(ConsentWithdrawal, {"reason": str(form.get("reason", ""))})
        consents.withdraw(
            state(request).db, actor, patient_id, consent_id, withdrawal, version_of(form)
        )
    except REFUSED as exc:
        return redirect(_back(actor, patient_id), f"Not withdrawn: {exc}")
    return redirect(_back(actor, patient_id), "Consent withdrawn; the signed record is kept.")


def _back(actor: Any, patient_id: str) -> str:
    return "/portal/consents" if actor.role == "patient" else f"/patients/{patient_id}#consents"


@router.post("/patients/{patient_id}/plans", dependencies=[CsrfChecked])
def propose_plan(request: Request, actor: Staff, patient_id: str) -> Response:
    try:
        plan = plans.propose_plan(state(request).db, actor, patient_id)
    except NotNow as exc:
        return redirect(f"/patients/{patient_id}", f"No plan: {exc}")
    return redirect(f"/patients/{patient_id}/plans/{plan['id']}", "Plan proposed.")


def _plan_page(
    request: Request,
    actor: Any,
    patient_id: str,
    plan_id: str,
    errors: dict[str, str],
    values: dict[str, Any],
    status_code: int = 200,
) -> Response:
    db = state(request).db
    plan = plans.read_plan(db, actor, patient_id, plan_id)
    found = chart.patient_chart(db, actor, patient_id)
    return render(
        request,
        "plan.html",
        {"plan": plan, "chart": found, "errors": errors, "values": values},
        status_code=status_code,
        actor=actor,
    )


@router.get("/patients/{patient_id}/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, actor: Staff, patient_id: str, plan_id: str) -> Response:
    return _plan_page(request, actor, patient_id, plan_id, {}, {})


@router.post(
    "/patients/{patient_id}/plans/{plan_id}/override",
    response_class=HTMLResponse,
    dependencies=[CsrfChecked],
)
async def override_plan(request: Request, actor: Staff, patient_id: str, plan_id: str) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("needle_depth_mm", "interval_days", "sessions", "reason")
    }
    db = state(request).db
    try:
        change = parse_command(PlanOverride, {k: v for k, v in values.items() if v})
        plans.override_plan(db, actor, patient_id, plan_id, change, version_of(form))
    except REFUSED as exc:
        return _plan_page(
            request, actor, patient_id, plan_id, refusal_messages(exc), values, status_code=422
        )
    return redirect(
        f"/patients/{patient_id}/plans/{plan_id}", "Plan changed; it needs approval again."
    )


@router.post("/patients/{patient_id}/plans/{plan_id}/stop", dependencies=[CsrfChecked])
async def stop_plan(request: Request, actor: Staff, patient_id: str, plan_id: str) -> Response:
    form = await request.form()
    try:
        stop = parse_command(PlanStop, {"reason": str(form.get("reason", "")).strip()})
        plans.stop_plan(state(request).db, actor, patient_id, plan_id, stop, version_of(form))
    except REFUSED as exc:
        reasons = "; ".join(refusal_messages(exc).values())
        return redirect(f"/patients/{patient_id}/plans/{plan_id}", f"Not stopped: {reasons}")
    return redirect(
        f"/patients/{patient_id}",
        "Plan stopped: its sessions still booked are cancelled and the patient is told.",
    )


@router.post("/patients/{patient_id}/plans/{plan_id}/approve", dependencies=[CsrfChecked])
async def approve_plan(request: Request, actor: Staff, patient_id: str, plan_id: str) -> Response:
    form = await request.form()
    try:
        plans.approve_plan(state(request).db, actor, patient_id, plan_id, version_of(form))
    except (NotNow, Forbidden, StaleVersion, VersionRequired) as exc:
        return redirect(f"/patients/{patient_id}/plans/{plan_id}", f"Not approved: {exc}")
    return redirect(f"/patients/{patient_id}/plans/{plan_id}", "Plan approved.")
