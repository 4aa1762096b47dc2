"""Booking, session records, images and follow-up, adverse events, the clinic calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from follicle.clinic.adverse_events import serious_rule
from follicle.records.models.vocab import (
    ADVERSE_EVENT_CATEGORIES,
    APPOINTMENT_KINDS,
    PHOTO_VIEWS,
    SCALP_REGIONS,
)
from follicle.services import (
    adverse_events,
    appointment_requests,
    appointments,
    chart,
    clinic_admin,
    devices,
    follow_up,
    images,
    patient_outcomes,
    scales,
    sessions,
    visit_change,
)
from follicle.services.authz import ROLE_PERMISSIONS, Permission
from follicle.services.commands import (
    AdverseEventClearance,
    AdverseEventGrading,
    AdverseEventReport,
    AdverseEventVoid,
    Cancellation,
    CompareAgain,
    ImageVoid,
    NewAppointment,
    NewSessionRecord,
    RequestAnswer,
    SeriesBooking,
    SessionVoid,
)
from follicle.web.api.care import pdf_response
from follicle.web.api.exports import fhir_file
from follicle.web.deps import state
from follicle.web.intake_form import options_for
from follicle.web.views.common import (
    REFUSED,
    CsrfChecked,
    Staff,
    appointment_ask,
    outcome_answer,
    parse_command,
    redirect,
    refusal_line,
    refusal_messages,
    render,
    require,
    signed_in,
    version_of,
)

router = APIRouter(include_in_schema=False)


# --- Booking -----------------------------------------------------------------------------------


def _booking_page(
    request: Request,
    actor: Any,
    patient_id: str,
    errors: dict[str, str],
    values: dict[str, Any],
    status_code: int = 200,
    preview: list[dict[str, Any]] | None = None,
) -> Response:
    db = state(request).db
    found = chart.patient_chart(db, actor, patient_id)
    require(actor, Permission.APPOINTMENT_BOOK)
    staff = [
        u for u in clinic_admin.list_staff(db, actor) if u["role"] == "practitioner" and u["active"]
    ]
    return render(
        request,
        "book.html",
        {
            "chart": found,
            "practitioners": staff,
            "rooms": [r for r in clinic_admin.list_rooms(db, actor) if r["active"]],
            "errors": errors,
            "values": values,
            "preview": preview,
        },
        status_code=status_code,
        actor=actor,
    )


@router.get("/patients/{patient_id}/book", response_class=HTMLResponse)
def booking_form(
    request: Request,
    actor: Staff,
    patient_id: str,
    kind: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """With ``?kind=``, one visit of that kind is chosen (booking what the patient asked for)."""
    values = {"what": "single", "kind": kind} if kind in APPOINTMENT_KINDS else {}
    return _booking_page(request, actor, patient_id, {}, values)


@router.post("/patients/{patient_id}/book", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def book(request: Request, actor: Staff, patient_id: str) -> Response:
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    starts = f"{values.get('day', '')}T{values.get('time', '')}"
    common = {
        "practitioner_id": values.get("practitioner_id", ""),
        "room_id": values.get("room_id") or None,
        "duration_minutes": values.get("duration_minutes") or None,
    }
    db = state(request).db
    try:
        if values.get("what") == "series":
            booking = parse_command(
                SeriesBooking,
                {**common, "plan_id": values.get("plan_id", ""), "first_starts_at": starts},
            )
            if values.get("action") == "check":  # show every date and its conflicts first
                preview = appointments.check_series(db, actor, patient_id, booking)
                return _booking_page(request, actor, patient_id, {}, values, preview=preview)
            booked = appointments.book_series(db, actor, patient_id, booking)
            message = f"Booked {len(booked)} sessions."
        else:
            new = parse_command(
                NewAppointment,
                {
                    **common,
                    "kind": values.get("kind", ""),
                    "starts_at": starts,
                    "plan_id": values.get("plan_id") or None,
                },
            )
            appointments.book(db, actor, patient_id, new)
            message = "Appointment booked."
    except REFUSED as exc:
        errors = refusal_messages(exc)
        for key in ("/starts_at", "/first_starts_at"):
            if key in errors:
                errors["/day"] = errors.pop(key)
        return _booking_page(request, actor, patient_id, errors, values, status_code=422)
    return redirect(f"/patients/{patient_id}#appointments", message)


@router.post(
    "/patients/{patient_id}/appointments/{appointment_id}/cancel", dependencies=[CsrfChecked]
)
async def cancel(request: Request, actor: Staff, patient_id: str, appointment_id: str) -> Response:
    form = await request.form()
    try:
        reason = parse_command(Cancellation, {"reason": str(form.get("reason", ""))})
        appointments.cancel(
            state(request).db, actor, patient_id, appointment_id, reason, version_of(form)
        )
    except REFUSED as exc:
        return redirect(
            f"/patients/{patient_id}#appointments", f"Not cancelled: {refusal_line(exc)}"
        )
    return redirect(f"/patients/{patient_id}#appointments", "Appointment cancelled.")


@router.post("/patients/{patient_id}/requests", dependencies=[CsrfChecked])
async def note_request(request: Request, actor: Staff, patient_id: str) -> Response:
    """The desk notes what a patient who phoned asked for, when no time could be booked."""
    form = await request.form()
    try:
        asked = appointment_ask(form)
        appointment_requests.ask(state(request).db, actor, patient_id, asked)
    except REFUSED as exc:
        return redirect(f"/patients/{patient_id}#appointments", f"Not noted: {refusal_line(exc)}")
    return redirect(f"/patients/{patient_id}#appointments", "The request is noted.")


@router.post("/patients/{patient_id}/requests/{request_id}/answer", dependencies=[CsrfChecked])
async def answer_request(
    request: Request, actor: Staff, patient_id: str, request_id: str
) -> Response:
    form = await request.form()
    try:
        answered = parse_command(RequestAnswer, {"reason": str(form.get("reason", ""))})
        appointment_requests.answer(
            state(request).db, actor, patient_id, request_id, answered, version_of(form)
        )
    except REFUSED as exc:
        return redirect(f"/patients/{patient_id}#appointments", f"Not closed: {refusal_line(exc)}")
    return redirect(f"/patients/{patient_id}#appointments", "The request is closed.")


@router.get("/calendar", response_class=HTMLResponse)
def calendar(
    request: Request,
    actor: Staff,
    week: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    db = state(request).db
    zone = ZoneInfo(clinic_admin.read_settings(db, actor)["time_zone"])
    try:
        start = date.fromisoformat(week) if week else datetime.now(zone).date()
    except ValueError:
        start = datetime.now(zone).date()
    monday = start - timedelta(days=start.weekday())
    days = [monday + timedelta(days=i) for i in range(6)]
    found = appointments.calendar(db, actor, days[0], days[-1])
    names = {u["id"]: u["display_name"] for u in clinic_admin.list_staff(db, actor)}
    by_day: dict[str, list[dict[str, Any]]] = {d.isoformat(): [] for d in days}
    for item in found:
        by_day.setdefault(item["starts_local"][:10], []).append(item)
    return render(
        request,
        "calendar.html",
        {
            "days": days,
            "by_day": by_day,
            "names": names,
            "previous": (monday - timedelta(days=7)).isoformat(),
            "next": (monday + timedelta(days=7)).isoformat(),
            "time_zone": zone.key,
        },
        actor=actor,
    )


# --- Session record ----------------------------------------------------------------------------


def _session_page(
    request: Request,
    actor: Any,
    patient_id: str,
    errors: dict[str, str],
    values: dict[str, Any],
    status_code: int = 200,
) -> Response:
    found = chart.patient_chart(state(request).db, actor, patient_id)
    require(actor, Permission.SESSION_RECORD)
    return render(
        request,
        "session_new.html",
        {
            "chart": found,
            "errors": errors,
            "values": values,
            "regions": SCALP_REGIONS,
            "views": PHOTO_VIEWS,
            "conditions": options_for("/history/conditions"),
            "scalp_conditions": options_for("/history/active_scalp_conditions"),
            "medication_classes": options_for("/history/medications/*/class"),
            "lots": devices.lot_choices(state(request).db, actor),
        },
        status_code=status_code,
        actor=actor,
    )


@router.get("/patients/{patient_id}/sessions/new", response_class=HTMLResponse)
def session_form(request: Request, actor: Staff, patient_id: str) -> Response:
    return _session_page(request, actor, patient_id, {}, {})


@router.post(
    "/patients/{patient_id}/sessions/new", response_class=HTMLResponse, dependencies=[CsrfChecked]
)
async def record_session(request: Request, actor: Staff, patient_id: str) -> Response:
    form = await request.form()
    values: dict[str, Any] = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    values["new_conditions"] = form.getlist("new_conditions")
    values["active_scalp_conditions"] = form.getlist("active_scalp_conditions")
    depths = {
        region: values[f"depth_{region}"]
        for region in SCALP_REGIONS
        if values.get(f"depth_{region}")
    }
    medications = [
        {"name": values.get(f"med_name_{i}", ""), "class": values[f"med_class_{i}"]}
        for i in range(3)
        if values.get(f"med_class_{i}")
    ]
    check = {
        "confirmed_with_patient": values.get("confirmed_with_patient") == "yes",
        "new_medications": medications,
        "new_conditions": [str(c) for c in values["new_conditions"]],
        "active_scalp_conditions": [str(c) for c in values["active_scalp_conditions"]],
    }
    if values.get("pregnant") in ("yes", "no"):
        check["pregnant"] = values["pregnant"] == "yes"
    db = state(request).db
    try:
        record = parse_command(
            NewSessionRecord,
            {
                "plan_id": values.get("plan_id", ""),
                "appointment_id": values.get("appointment_id") or None,
                "lot_id": values.get("lot_id", ""),
                "depth_mm_by_region": depths,
                "endpoint": values.get("endpoint", ""),
                "pain_score": values.get("pain_score") or None,
                "reactions": values.get("reactions") or None,
                "notes": values.get("notes") or None,
                "pre_session_check": check,
            },
        )
        saved = sessions.record_session(db, actor, patient_id, record)
        photo = form.get("photo")
        if isinstance(photo, UploadFile) and photo.filename:
            content = await photo.read(images.MAX_UPLOAD_BYTES + 1)
            images.upload_image(
                db,
                state(request).images,
                actor,
                patient_id,
                images.ImageUpload(
                    kind="photo",
                    content=content,
                    view=values.get("photo_view") or "vertex",
                    session_record_id=saved["id"],
                ),
            )
    except REFUSED as exc:
        return _session_page(
            request, actor, patient_id, refusal_messages(exc), values, status_code=422
        )
    return redirect(
        f"/patients/{patient_id}#sessions",
        "Session recorded. Aftercare is on the patient's portal.",
    )


# --- Images and follow-up ----------------------------------------------------------------------


@router.get("/patients/{patient_id}/follow-up", response_class=HTMLResponse)
def follow_up_page(request: Request, actor: Staff, patient_id: str) -> Response:
    db = state(request).db
    found = chart.patient_chart(db, actor, patient_id)
    require(actor, Permission.IMAGE_READ)
    review = follow_up.follow_up(db, actor, patient_id)
    photos: dict[str, list[dict[str, Any]]] = {}
    for image in found.images:
        if image["kind"] == "photo":
            photos.setdefault(image["view"] or "other", []).append(image)
    return render(
        request,
        "follow_up.html",
        {
            "chart": found,
            "review": review,
            "photos": photos,
            "regions": SCALP_REGIONS,
            "views": PHOTO_VIEWS,
            "asked": patient_outcomes.question(),
            "answers": patient_outcomes.list_outcomes(db, actor, patient_id),
            "scales": scales.offered_scales(db, actor)
            if Permission.DEVICE_LIST in ROLE_PERMISSIONS.get(actor.role, frozenset())
            else [],
            "errors": {},
        },
        actor=actor,
    )


@router.post("/patients/{patient_id}/images", dependencies=[CsrfChecked])
async def upload(request: Request, actor: Staff, patient_id: str) -> Response:
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return redirect(f"/patients/{patient_id}/follow-up", "Choose an image file first.")
    content = await file.read(images.MAX_UPLOAD_BYTES + 1)
    kind = str(form.get("kind", ""))
    scale = str(form.get("um_per_px", "")).strip()
    try:
        um_per_px = float(scale) if scale else None
    except ValueError:
        um_per_px = None
    upload_request = images.ImageUpload(
        kind=kind,
        content=content,
        view=str(form.get("view", "")) or None if kind == "photo" else None,
        site=str(form.get("site", "")) or None if kind == "trichoscopy" else None,
        um_per_px=um_per_px if kind == "trichoscopy" else None,
        scale_id=str(form.get("scale_id", "")).strip() or None if kind == "trichoscopy" else None,
    )
    try:
        stored = await run_in_threadpool(
            images.upload_image,
            state(request).db,
            state(request).images,
            actor,
            patient_id,
            upload_request,
        )
    except REFUSED as exc:
        return redirect(f"/patients/{patient_id}/follow-up", f"Not stored: {refusal_line(exc)}")
    measured = stored.get("measurement")
    message = (
        f"Analysed: {measured['hair_count']} hairs, {measured['density_per_cm2']:.0f}/cm²."
        + "".join(f" Note: the image {warning}." for warning in measured["image_warnings"])
        if measured
        else "Photo stored."
    )
    return redirect(f"/patients/{patient_id}/follow-up", message)


@router.post("/patients/{patient_id}/follow-up/compare", dependencies=[CsrfChecked])
async def compare_again(request: Request, actor: Staff, patient_id: str) -> Response:
    form = await request.form()
    app_state = state(request)
    try:
        site = parse_command(CompareAgain, {"site": str(form.get("site", ""))})
        done = await run_in_threadpool(
            visit_change.compare_again, app_state.db, app_state.images, actor, patient_id, site
        )
    except REFUSED as exc:
        return redirect(f"/patients/{patient_id}/follow-up", f"Not compared: {refusal_line(exc)}")
    return redirect(
        f"/patients/{patient_id}/follow-up",
        f"Compared again: {done['compared']} latest image(s) with the first visit's "
        f"{done['baseline_images']}.",
    )


@router.get("/patients/{patient_id}/images/{image_id}")
def image_file(request: Request, patient_id: str, image_id: str) -> Response:
    actor = signed_in(request)
    app_state = state(request)
    body, media_type = images.image_content(
        app_state.db, app_state.images, actor, patient_id, image_id
    )
    return Response(body, media_type=media_type, headers={"Cache-Control": "private, no-store"})


# --- Adverse events ----------------------------------------------------------------------------


def _event_page(
    request: Request,
    actor: Any,
    patient_id: str,
    errors: dict[str, str],
    values: dict[str, Any],
    status_code: int = 200,
) -> Response:
    found = chart.patient_chart(state(request).db, actor, patient_id)
    require(actor, Permission.ADVERSE_EVENT_REPORT)
    return render(
        request,
        "event_new.html",
        {
            "chart": found,
            "categories": ADVERSE_EVENT_CATEGORIES,
            "serious_rule": serious_rule(),
            "errors": errors,
            "values": values,
        },
        status_code=status_code,
        actor=actor,
    )


@router.get("/patients/{patient_id}/adverse-events/new", response_class=HTMLResponse)
def event_form(request: Request, actor: Staff, patient_id: str) -> Response:
    return _event_page(request, actor, patient_id, {}, {})


@router.post(
    "/patients/{patient_id}/adverse-events/new",
    response_class=HTMLResponse,
    dependencies=[CsrfChecked],
)
async def report_event(request: Request, actor: Staff, patient_id: str) -> Response:
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    db = state(request).db
    try:
        report = parse_command(
            AdverseEventReport,
            {
                "category": values.get("category", ""),
                "grade": values.get("grade", ""),
                "description": values.get("description", ""),
                "onset_on": values.get("onset_on", ""),
                "session_record_id": values.get("session_record_id") or None,
            },
        )
        reported = adverse_events.report(db, actor, patient_id, report)
    except REFUSED as exc:
        return _event_page(
            request, actor, patient_id, refusal_messages(exc), values, status_code=422
        )
    held = " The plan is on hold until a practitioner clears it." if reported["plans_held"] else ""
    return redirect(f"/patients/{patient_id}#events", "Adverse event recorded." + held)


@router.post("/patients/{patient_id}/adverse-events/{event_id}/grade", dependencies=[CsrfChecked])
async def grade_event(request: Request, actor: Staff, patient_id: str, event_id: str) -> Response:
    form = await request.form()
    fields = ("category", "grade", "note")
    try:
        grading = parse_command(AdverseEventGrading, {k: str(form.get(k, "")) for k in fields})
        graded = adverse_events.grade(
            state(request).db, actor, patient_id, event_id, grading, version_of(form)
        )
    except REFUSED as exc:
        return redirect(
            f"/patients/{patient_id}#event-{event_id}", f"Not graded: {refusal_line(exc)}"
        )
    held = " The plan is on hold until it is cleared." if graded["plans_held"] else ""
    resumed = " The plan is active again." if graded["plans_resumed"] else ""
    return redirect(f"/patients/{patient_id}#event-{event_id}", "Event graded." + held + resumed)


@router.post("/patients/{patient_id}/adverse-events/{event_id}/void", dependencies=[CsrfChecked])
async def void_event(request: Request, actor: Staff, patient_id: str, event_id: str) -> Response:
    form = await request.form()
    try:
        void = parse_command(AdverseEventVoid, {"reason": str(form.get("reason", ""))})
        voided = adverse_events.void_event(state(request).db, actor, patient_id, event_id, void)
    except REFUSED as exc:
        return redirect(f"/patients/{patient_id}#events", f"Not voided: {refusal_line(exc)}")
    resumed = "; the plan is active again" if voided["plans_resumed"] else ""
    return redirect(
        f"/patients/{patient_id}#voided",
        "Adverse event voided: it no longer counts (kept in the record)" + resumed + ".",
    )


@router.post("/patients/{patient_id}/adverse-events/{event_id}/clear", dependencies=[CsrfChecked])
async def clear_event(request: Request, actor: Staff, patient_id: str, event_id: str) -> Response:
    form = await request.form()
    try:
        note = parse_command(AdverseEventClearance, {"note": str(form.get("note", ""))})
        cleared = adverse_events.clear(
            state(request).db, actor, patient_id, event_id, note, version_of(form)
        )
    except REFUSED as exc:
        return redirect(f"/patients/{patient_id}#events", f"Not cleared: {exc}")
    resumed = " The plan is active again." if cleared["plans_resumed"] else ""
    return redirect(f"/patients/{patient_id}#events", "Event cleared." + resumed)


@router.post("/patients/{patient_id}/patient-outcomes", dependencies=[CsrfChecked])
async def record_outcome(request: Request, actor: Staff, patient_id: str) -> Response:
    """The patient's answer, asked at a visit."""
    form = await request.form()
    try:
        answer = outcome_answer(form)
        patient_outcomes.report_outcome(state(request).db, actor, patient_id, answer)
    except REFUSED as exc:
        return redirect(
            f"/patients/{patient_id}/follow-up#patient-view", f"Not saved: {refusal_line(exc)}"
        )
    return redirect(
        f"/patients/{patient_id}/follow-up#patient-view", "The patient's answer is saved."
    )


@router.get("/patients/{patient_id}/measurements/{measurement_id}/overlay")
def overlay_file(request: Request, actor: Staff, patient_id: str, measurement_id: str) -> Response:
    app_state = state(request)
    body = images.overlay_content(app_state.db, app_state.images, actor, patient_id, measurement_id)
    return Response(body, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.post("/patients/{patient_id}/images/{image_id}/release", dependencies=[CsrfChecked])
async def release(request: Request, actor: Staff, patient_id: str, image_id: str) -> Response:
    form = await request.form()
    show = form.get("released") != "no"
    images.release_to_patient(state(request).db, actor, patient_id, image_id, show)
    message = "Shared with the patient." if show else "No longer shown to the patient."
    return redirect(f"/patients/{patient_id}/follow-up", message)


@router.post("/patients/{patient_id}/images/{image_id}/void", dependencies=[CsrfChecked])
async def void_image(request: Request, actor: Staff, patient_id: str, image_id: str) -> Response:
    form = await request.form()
    try:
        void = parse_command(ImageVoid, {"reason": str(form.get("reason", ""))})
        images.void_image(state(request).db, actor, patient_id, image_id, void)
    except REFUSED as exc:
        return redirect(f"/patients/{patient_id}/follow-up", f"Not set aside: {refusal_line(exc)}")
    return redirect(
        f"/patients/{patient_id}/follow-up",
        "Image set aside: it and its measurement no longer count (kept in the record).",
    )


@router.post("/patients/{patient_id}/sessions/{session_id}/void", dependencies=[CsrfChecked])
async def void_session(
    request: Request, actor: Staff, patient_id: str, session_id: str
) -> Response:
    form = await request.form()
    try:
        void = parse_command(SessionVoid, {"reason": str(form.get("reason", ""))})
        voided = sessions.void_session(state(request).db, actor, patient_id, session_id, void)
    except REFUSED as exc:
        return redirect(f"/patients/{patient_id}", f"Not voided: {refusal_line(exc)}")
    undone = [
        "its appointment is booked again" if voided["appointment_reopened"] else "",
        "the plan is approved again" if voided["plan_reopened"] else "",
        f"{voided['messages_cancelled']} aftercare messages not sent yet are cancelled"
        if voided["messages_cancelled"]
        else "",
    ]
    return redirect(
        f"/patients/{patient_id}",
        "Session record voided: it no longer counts (kept in the record)"
        + "".join(f"; {part}" for part in undone if part)
        + ". Record the session again as it was.",
    )


@router.get("/patients/{patient_id}/record.zip")
def record_download(request: Request, actor: Staff, patient_id: str) -> Response:
    return fhir_file(request, actor, patient_id, archive=True, staff_contact=True)


@router.get("/patients/{patient_id}/report.pdf")
def progress_report(
    request: Request,
    actor: Staff,
    patient_id: str,
    audience: Annotated[str, Query(pattern="^(clinician|patient)$")] = "clinician",
) -> Response:
    return pdf_response(request, actor, patient_id, audience)
