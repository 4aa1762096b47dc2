"""Pages for running the clinic day to day: devices and lots (with the recall lookup and
safety by lot), dermoscope scales, the outbox of messages to patients, reminder and sign-in
settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from follicle.clinic.errors import InputInvalid
from follicle.services import (
    clinic_admin,
    devices,
    exports,
    images,
    outbox,
    patient_updates,
    scales,
)
from follicle.services.authz import Permission
from follicle.services.commands import NewDevice, NewLot, PatientUpdate
from follicle.services.common import actor_today
from follicle.services.errors import NotFound
from follicle.web.api.exports import fhir_file, research_file
from follicle.web.deps import state
from follicle.web.views.admin import Admin
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
STATUSES = ("pending", "sending", "sent", "failed", "cancelled", "skipped")


def _devices_page(
    request: Request,
    actor: Any,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    db = state(request).db
    return render(
        request,
        "devices.html",
        {
            "devices": devices.list_devices(db, actor),
            "safety": devices.safety_by_lot(db, actor),
            "scales": scales.list_scales(db, actor),
            "errors": errors or {},
            "values": values or {},
            "today": actor_today(db, actor),
        },
        status_code=status_code,
        actor=actor,
    )


@router.get("/devices", response_class=HTMLResponse)
def devices_page(request: Request, actor: Staff) -> Response:
    require(actor, Permission.DEVICE_LIST)
    return _devices_page(request, actor)


@router.post("/devices", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def register_device(request: Request, actor: Staff) -> Response:
    form = await request.form()
    fields = ("maker", "model", "needle_configuration", "regulatory_status")
    values = {k: str(form.get(k, "")).strip() for k in fields}
    try:
        created = devices.register_device(
            state(request).db, actor, parse_command(NewDevice, values)
        )
    except InputInvalid as exc:
        return _devices_page(request, actor, errors_by_field(exc.errors), values, 422)
    return redirect("/devices", f"{created['label']} registered; add its lots as they arrive.")


@router.post("/devices/lots", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def receive_lot(request: Request, actor: Staff) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("device_id", "lot_number", "expires_on", "received_on")
    }
    try:
        lot = devices.receive_lot(
            state(request).db,
            actor,
            values["device_id"],
            parse_command(NewLot, {k: v for k, v in values.items() if k != "device_id"}),
        )
    except InputInvalid as exc:
        return _devices_page(request, actor, errors_by_field(exc.errors), values, 422)
    return redirect("/devices", f"Lot {lot['lot_number']} received.")


@router.post("/devices/scales", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def measure_scale(request: Request, actor: Staff) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("setting", "line_spacing_um")}
    photo = form.get("photo")
    content = (
        await photo.read(images.MAX_UPLOAD_BYTES + 1) if isinstance(photo, UploadFile) else b""
    )
    try:
        spacing = float(values["line_spacing_um"]) if values["line_spacing_um"] else None
    except ValueError:
        spacing = None
    try:
        measured = await run_in_threadpool(
            scales.measure_scale, state(request).db, actor, values["setting"], spacing, content
        )
    except InputInvalid as exc:
        return _devices_page(request, actor, errors_by_field(exc.errors), values, 422)
    return redirect(
        "/devices",
        f"{measured['setting']}: {measured['um_per_px']} µm per pixel, from "
        f"{measured['lines']} lines.",
    )


@router.get("/lots/{lot_id}/recall", response_class=HTMLResponse)
def recall_page(request: Request, actor: Staff, lot_id: str) -> Response:
    found = devices.recall(state(request).db, actor, lot_id)
    return render(request, "recall.html", {"recall": found}, actor=actor)


@router.get("/lots/{lot_id}/recall.csv")
def recall_csv(request: Request, actor: Staff, lot_id: str) -> Response:
    found = devices.recall(state(request).db, actor, lot_id)
    name = "recall-" + found["lot"]["lot_number"].replace("/", "-") + ".csv"
    return Response(
        devices.recall_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/messages", response_class=HTMLResponse)
def messages_page(
    request: Request,
    actor: Staff,
    status: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    chosen = status if status in STATUSES else None
    listed = outbox.list_messages(state(request).db, actor, chosen, None, 200)
    return render(
        request,
        "messages.html",
        {"listed": listed, "status": chosen or "", "statuses": STATUSES},
        actor=actor,
    )


def _operations_page(
    request: Request,
    actor: Any,
    errors: dict[str, str],
    status_code: int = 200,
    typed: dict[str, Any] | None = None,
) -> Response:
    """The settings form; after a refusal, with what was typed (over what is stored)."""
    current = clinic_admin.read_operations(state(request).db, actor)
    current["operations"] = {**current["operations"], **(typed or {})}
    return render(
        request,
        "admin_operations.html",
        {"current": current, "errors": errors},
        status_code=status_code,
        actor=actor,
    )


@router.get("/admin/operations", response_class=HTMLResponse)
def operations_page(request: Request, actor: Admin) -> Response:
    return _operations_page(request, actor, {})


@router.post("/admin/operations", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def save_operations(request: Request, actor: Admin) -> Response:
    form = await request.form()
    leads: list[Any] = []
    for index in range(3):
        raw = str(form.get(f"lead_{index}", "")).strip()
        if raw:
            leads.append(int(raw) if raw.isdigit() else raw)
    document = {
        "reminder_lead_hours": leads,
        "sms_reminders": form.get("sms_reminders") == "yes",
        "two_factor_for_staff": form.get("two_factor_for_staff") == "yes",
        "clinic_phone": str(form.get("clinic_phone", "")).strip() or None,
    }
    notice = str(form.get("patient_cancellation_notice_hours", "")).strip()
    if notice:
        document["patient_cancellation_notice_hours"] = int(notice) if notice.isdigit() else notice
    try:
        clinic_admin.update_operations(state(request).db, actor, document, version_of(form))
    except REFUSED as exc:
        return _operations_page(request, actor, refusal_messages(exc), 422, document)
    return redirect("/admin/operations", "Saved. New bookings use these lead times.")


@router.get("/admin/research", response_class=HTMLResponse)
def research_page(request: Request, actor: Admin) -> Response:
    return render(
        request,
        "admin_research.html",
        {
            "files": exports.RESEARCH_FILES,
            "dictionary": exports.DICTIONARY_FILE,
            "columns": exports.dictionary_rows(),
        },
        actor=actor,
    )


@router.get("/admin/research/{name}")
def research_download(request: Request, actor: Admin, name: str) -> Response:
    if name == "clinic-record.json":
        return fhir_file(request, actor, None, archive=False, staff_contact=True)
    if name not in {f.name for f in exports.RESEARCH_FILES} | {exports.DICTIONARY_FILE}:
        raise NotFound
    return research_file(request, actor, name)


def _updates_page(
    request: Request,
    actor: Any,
    errors: dict[str, str],
    values: dict[str, str],
    status_code: int = 200,
) -> Response:
    db = state(request).db
    return render(
        request,
        "admin_updates.html",
        {
            "sizes": patient_updates.audience_sizes(db, actor),
            "sent": patient_updates.history(db, actor),
            "time_zone": clinic_admin.read_settings(db, actor)["time_zone"],
            "errors": errors,
            "values": values,
        },
        status_code=status_code,
        actor=actor,
    )


@router.get("/admin/updates", response_class=HTMLResponse)
def updates_page(request: Request, actor: Admin) -> Response:
    return _updates_page(request, actor, {}, {})


@router.post("/admin/updates", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def send_update(request: Request, actor: Admin) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("audience", "subject", "body")}
    try:
        update = parse_command(PatientUpdate, values)
        sent = patient_updates.send(state(request).db, actor, update)
    except InputInvalid as exc:
        return _updates_page(request, actor, errors_by_field(exc.errors), values, 422)
    count = sent["sent_to"]
    return redirect(
        "/admin/updates", f"Sent to {count} patient{'s' if count != 1 else ''} (by the worker)."
    )
