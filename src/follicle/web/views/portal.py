"""The patient portal: plan and appointments, aftercare, progress, reporting a problem,
consents and preferences. Plain words, large type, works on a phone."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from follicle.clinic.adverse_events import urgent_advice
from follicle.clinic.errors import InputInvalid
from follicle.records.models.vocab import ADVERSE_EVENT_CATEGORIES
from follicle.services import (
    adverse_events,
    appointment_requests,
    appointments,
    consents,
    patient_outcomes,
    portal,
)
from follicle.services.commands import (
    AdverseEventReport,
    Cancellation,
    ContactDetails,
)
from follicle.services.common import actor_today
from follicle.services.errors import NotNow
from follicle.services.messages import OPT_OUT_KINDS
from follicle.web.api.exports import fhir_file
from follicle.web.charts import line_chart
from follicle.web.deps import state
from follicle.web.templating import local_day
from follicle.web.views.common import (
    REFUSED,
    CsrfChecked,
    PatientActor,
    appointment_ask,
    errors_by_field,
    outcome_answer,
    parse_command,
    redirect,
    refusal_line,
    render,
    version_of,
)

router = APIRouter(include_in_schema=False)

#: What a patient can pick when reporting a problem, in their words.
PATIENT_PROBLEMS = {
    "erythema_prolonged": "Redness that is not going away",
    "edema": "Swelling",
    "pain": "Pain",
    "bleeding": "Bleeding",
    "infection": "Signs of infection (pus, warmth, fever)",
    "hyperpigmentation": "Darker patches of skin",
    "hypopigmentation": "Lighter patches of skin",
    "scarring": "A scar",
    "contact_dermatitis": "Itchy rash where a product was used",
    "granuloma": "A firm lump",
    "headache": "Headache",
    "hair_shedding": "More hair falling out",
    "other": "Something else",
}
assert set(PATIENT_PROBLEMS) == set(ADVERSE_EVENT_CATEGORIES)
SEVERITY = {
    1: "Mild: I notice it, but it does not stop me doing anything",
    2: "Moderate: it gets in the way of some everyday things",
    3: "Severe: I cannot do my usual day, or I needed to see a doctor",
    4: "Very severe: I needed urgent or emergency care",
}


@router.get("/portal", response_class=HTMLResponse)
def portal_home(request: Request, actor: PatientActor) -> Response:
    home = portal.portal_home(state(request).db, actor)
    return render(
        request,
        "portal.html",
        {"home": home, "problems": PATIENT_PROBLEMS},
        actor=actor,
    )


@router.get("/portal/my-record.zip")
def my_record(request: Request, actor: PatientActor) -> Response:
    """Everything the clinic holds about the patient, to keep or take elsewhere."""
    return fhir_file(request, actor, str(actor.patient_id), archive=True, staff_contact=False)


@router.get("/portal/aftercare", response_class=HTMLResponse)
def portal_aftercare(request: Request, actor: PatientActor) -> Response:
    db = state(request).db
    home = portal.portal_home(db, actor)
    steps = portal.aftercare(db, actor)
    return render(
        request,
        "portal_aftercare.html",
        {"home": home, "steps": steps, "local": portal.local},
        actor=actor,
    )


@router.get("/portal/progress", response_class=HTMLResponse)
def portal_progress(request: Request, actor: PatientActor) -> Response:
    db = state(request).db
    home = portal.portal_home(db, actor)
    shared = portal.progress(db, actor)
    by_site: dict[str, list[tuple[str, float]]] = {}
    for m in shared["measurements"]:
        day = date.fromisoformat(local_day(m["measured_at"], home.time_zone))
        label = day.strftime("%-d %b")
        by_site.setdefault(m["site"] or "scalp", []).append((label, float(m["density_per_cm2"])))
    charts = {site: line_chart(points) for site, points in by_site.items() if len(points) > 1}
    return render(
        request,
        "portal_progress.html",
        {
            "home": home,
            "progress": shared,
            "charts": charts,
            "asked": patient_outcomes.question(),
            "answers": patient_outcomes.list_outcomes(db, actor, home.patient_id),
        },
        actor=actor,
    )


@router.post("/portal/outcome", dependencies=[CsrfChecked])
async def report_outcome(request: Request, actor: PatientActor) -> Response:
    form = await request.form()
    try:
        answer = outcome_answer(form)
        patient_outcomes.report_outcome(state(request).db, actor, str(actor.patient_id), answer)
    except (InputInvalid, NotNow) as exc:
        return redirect("/portal/progress#my-view", f"Not sent: {refusal_line(exc)}")
    return redirect("/portal/progress#my-view", "Thank you: your clinic will see your answer.")


@router.post("/portal/appointments/{appointment_id}/cancel", dependencies=[CsrfChecked])
async def cancel_visit(request: Request, actor: PatientActor, appointment_id: str) -> Response:
    form = await request.form()
    try:
        another = str(form.get("another_time", "")).strip()
        reason = parse_command(
            Cancellation,
            {"reason": str(form.get("reason", ""))}
            | ({"another_time": another} if another else {}),
        )
        cancelled = appointments.cancel(
            state(request).db,
            actor,
            str(actor.patient_id),
            appointment_id,
            reason,
            version_of(form),
        )
    except REFUSED as exc:
        return redirect("/portal#appointments", f"Not cancelled: {refusal_line(exc)}")
    if "another_time_request_id" in cancelled:
        return redirect(
            "/portal#appointments",
            "Your visit is cancelled, and your clinic has your request for another time. "
            "They will contact you to book it.",
        )
    return redirect(
        "/portal#appointments",
        "Your visit is cancelled, and your clinic is told. They will contact you to book "
        "another if your plan needs one.",
    )


@router.post("/portal/requests", dependencies=[CsrfChecked])
async def ask_for_a_visit(request: Request, actor: PatientActor) -> Response:
    form = await request.form()
    try:
        asked = appointment_ask(form)
        appointment_requests.ask(state(request).db, actor, str(actor.patient_id), asked)
    except REFUSED as exc:
        return redirect("/portal#ask", f"Not sent: {refusal_line(exc)}")
    return redirect("/portal#appointments", "Sent: your clinic will contact you to book it.")


@router.post("/portal/requests/{request_id}/withdraw", dependencies=[CsrfChecked])
async def withdraw_request(request: Request, actor: PatientActor, request_id: str) -> Response:
    form = await request.form()
    try:
        appointment_requests.withdraw(
            state(request).db, actor, str(actor.patient_id), request_id, version_of(form)
        )
    except REFUSED as exc:
        return redirect("/portal#appointments", f"Not changed: {refusal_line(exc)}")
    return redirect("/portal#appointments", "Your request is taken back; your clinic is told.")


@router.get("/portal/images/{image_id}")
def portal_image(request: Request, actor: PatientActor, image_id: str) -> Response:
    app_state = state(request)
    body, media_type = portal.released_image(app_state.db, app_state.images, actor, image_id)
    return Response(body, media_type=media_type, headers={"Cache-Control": "private, no-store"})


@router.get("/portal/report", response_class=HTMLResponse)
def report_form(request: Request, actor: PatientActor) -> Response:
    return render(
        request,
        "portal_report.html",
        {
            "problems": PATIENT_PROBLEMS,
            "severity": SEVERITY,
            "errors": {},
            "values": {},
            "today": actor_today(state(request).db, actor),
        },
        actor=actor,
    )


@router.post("/portal/report", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def report_problem(request: Request, actor: PatientActor) -> Response:
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    try:
        report = parse_command(
            AdverseEventReport,
            {
                "category": values.get("category", ""),
                "grade": values.get("grade", ""),
                "description": values.get("description", ""),
                "onset_on": values.get("onset_on", ""),
            },
        )
        reported = adverse_events.report(state(request).db, actor, str(actor.patient_id), report)
    except InputInvalid as exc:
        return render(
            request,
            "portal_report.html",
            {
                "problems": PATIENT_PROBLEMS,
                "severity": SEVERITY,
                "errors": errors_by_field(exc.errors),
                "values": values,
                "today": actor_today(state(request).db, actor),
            },
            status_code=422,
            actor=actor,
        )
    return render(
        request,
        "portal_reported.html",
        {
            "advice": urgent_advice(
                reported["category"],
                reported["grade"],
                portal.clinic_contact(state(request).db, actor),
            ),
            "serious": reported["serious"],
        },
        actor=actor,
    )


@router.get("/portal/consents", response_class=HTMLResponse)
def portal_consents(request: Request, actor: PatientActor) -> Response:
    status = consents.list_consents(state(request).db, actor, str(actor.patient_id))
    return render(
        request,
        "portal_consents.html",
        {"status": status, "patient_id": actor.patient_id},
        actor=actor,
    )


@router.post("/portal/contact", dependencies=[CsrfChecked])
async def contact(request: Request, actor: PatientActor) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("email", "phone")}
    try:
        details = parse_command(ContactDetails, {k: v for k, v in values.items() if v})
        portal.set_contact(state(request).db, actor, details)
    except InputInvalid as exc:
        return redirect("/portal#contact", f"Not saved: {refusal_line(exc)}")
    return redirect("/portal#contact", "Your contact details are saved.")


@router.post("/portal/preferences", dependencies=[CsrfChecked])
async def preferences(request: Request, actor: PatientActor) -> Response:
    form = await request.form()
    portal.set_preferences(
        state(request).db,
        actor,
        education=form.get("education") == "yes",
        updates=form.get("updates") == "yes",
        opt_outs=[k for k in OPT_OUT_KINDS if form.get(f"send_{k}") != "yes"],
    )
    return redirect("/portal#preferences", "Your choices are saved.")
