"""Appointments: the clinic calendar, a patient's bookings, the series from a plan, ICS."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from follicle.services import appointment_requests, appointments
from follicle.services.authz import Permission
from follicle.services.commands import (
    AppointmentAsk,
    Cancellation,
    NewAppointment,
    RequestAnswer,
    Reschedule,
    SeriesBooking,
)
from follicle.web.api import schemas
from follicle.web.api.deps import ApiActor, IfMatch, needs, version_from, with_etag
from follicle.web.deps import state

router = APIRouter(tags=["appointments"])
BASE = "/patients/{patient_id}/appointments"
ICS = "text/calendar"


def _ics(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type=ICS,
        headers={"Content-Disposition": f'attachment; filename="{name}.ics"'},
    )


@router.get(
    "/appointments", **needs(Permission.APPOINTMENT_LIST), response_model=list[schemas.Appointment]
)
def clinic_calendar(
    request: Request,
    actor: ApiActor,
    from_: Annotated[date, Query(alias="from")],
    to: date,
    practitioner_id: Annotated[str | None, Query(max_length=40)] = None,
) -> list[dict[str, Any]]:
    """The clinic's appointments between two local dates, inclusive."""
    return appointments.calendar(state(request).db, actor, from_, to, practitioner_id)


@router.get(BASE, **needs(Permission.APPOINTMENT_READ), response_model=list[schemas.Appointment])
def list_appointments(request: Request, actor: ApiActor, patient_id: str) -> list[dict[str, Any]]:
    return appointments.list_for_patient(state(request).db, actor, patient_id)


@router.post(
    BASE, status_code=201, **needs(Permission.APPOINTMENT_BOOK), response_model=schemas.Appointment
)
def book(
    request: Request, response: Response, actor: ApiActor, patient_id: str, body: NewAppointment
) -> dict[str, Any]:
    return with_etag(response, appointments.book(state(request).db, actor, patient_id, body))


@router.post(
    BASE + "/series",
    status_code=201,
    **needs(Permission.APPOINTMENT_BOOK),
    response_model=list[schemas.Appointment],
)
def book_series(
    request: Request, actor: ApiActor, patient_id: str, body: SeriesBooking
) -> list[dict[str, Any]]:
    """Book all of an approved plan's sessions; nothing is booked if one of them cannot be."""
    return appointments.book_series(state(request).db, actor, patient_id, body)


@router.get(BASE + ".ics", response_class=Response, **needs(Permission.APPOINTMENT_READ))
def series_ics(request: Request, actor: ApiActor, patient_id: str) -> Response:
    """Every booked appointment as one calendar file."""
    return _ics(appointments.ics(state(request).db, actor, patient_id), "appointments")


@router.get(
    BASE + "/{appointment_id}",
    **needs(Permission.APPOINTMENT_READ),
    response_model=schemas.Appointment,
)
def read_appointment(
    request: Request, response: Response, actor: ApiActor, patient_id: str, appointment_id: str
) -> dict[str, Any]:
    found = appointments.read(state(request).db, actor, patient_id, appointment_id)
    return with_etag(response, found)


@router.get(
    BASE + "/{appointment_id}/ics", response_class=Response, **needs(Permission.APPOINTMENT_READ)
)
def appointment_ics(
    request: Request, actor: ApiActor, patient_id: str, appointment_id: str
) -> Response:
    body = appointments.ics(state(request).db, actor, patient_id, appointment_id)
    return _ics(body, "appointment")


@router.patch(
    BASE + "/{appointment_id}",
    **needs(Permission.APPOINTMENT_UPDATE),
    response_model=schemas.Appointment,
)
def reschedule(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    appointment_id: str,
    body: Reschedule,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    moved = appointments.reschedule(
        state(request).db, actor, patient_id, appointment_id, body, version_from(if_match)
    )
    return with_etag(response, moved)


@router.post(
    BASE + "/{appointment_id}/cancel",
    **needs(Permission.APPOINTMENT_CANCEL),
    response_model=schemas.Appointment,
)
def cancel(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    appointment_id: str,
    body: Cancellation,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Cancel a booked visit, with the reason.

    Staff at any time; the patient their own, up to the clinic's notice (409 after it)."""
    cancelled = appointments.cancel(
        state(request).db, actor, patient_id, appointment_id, body, version_from(if_match)
    )
    return with_etag(response, cancelled)


@router.post(
    BASE + "/{appointment_id}/no-show",
    **needs(Permission.APPOINTMENT_UPDATE),
    response_model=schemas.Appointment,
)
def no_show(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    appointment_id: str,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    marked = appointments.mark_no_show(
        state(request).db, actor, patient_id, appointment_id, version_from(if_match)
    )
    return with_etag(response, marked)


REQUESTS = "/patients/{patient_id}/appointment-requests"


@router.get(
    REQUESTS,
    **needs(Permission.APPOINTMENT_READ),
    response_model=list[schemas.AppointmentRequest],
)
def list_requests(
    request: Request, actor: ApiActor, patient_id: str, open_only: bool = False
) -> list[dict[str, Any]]:
    """The visits the patient asked for, newest first (``open_only``: not answered yet)."""
    return appointment_requests.list_for_patient(
        state(request).db, actor, patient_id, open_only=open_only
    )


@router.post(
    REQUESTS,
    status_code=201,
    **needs(Permission.APPOINTMENT_REQUEST),
    response_model=schemas.AppointmentRequest,
)
def ask_for_a_visit(
    request: Request, response: Response, actor: ApiActor, patient_id: str, body: AppointmentAsk
) -> dict[str, Any]:
    """Ask for a visit of a kind, saying when suits the patient (409 if one is open already)."""
    return with_etag(response, appointment_requests.ask(state(request).db, actor, patient_id, body))


@router.post(
    REQUESTS + "/{request_id}/withdraw",
    **needs(Permission.APPOINTMENT_REQUEST),
    response_model=schemas.AppointmentRequest,
)
def withdraw_request(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    request_id: str,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Take back an open request (the patient no longer needs the visit)."""
    withdrawn = appointment_requests.withdraw(
        state(request).db, actor, patient_id, request_id, version_from(if_match)
    )
    return with_etag(response, withdrawn)


@router.post(
    REQUESTS + "/{request_id}/answer",
    **needs(Permission.APPOINTMENT_BOOK),
    response_model=schemas.AppointmentRequest,
)
def answer_request(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    request_id: str,
    body: RequestAnswer,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Close an open request without booking, saying why (booking a visit of its kind
    answers it by itself)."""
    answered = appointment_requests.answer(
        state(request).db, actor, patient_id, request_id, body, version_from(if_match)
    )
    return with_etag(response, answered)
