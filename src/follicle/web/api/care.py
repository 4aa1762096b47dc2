"""Care delivered and measured: sessions, images, measurements, adverse events, follow-up."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from follicle.services import (
    adverse_events,
    follow_up,
    images,
    patient_outcomes,
    reports,
    sessions,
    visit_change,
)
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.services.commands import (
    AdverseEventClearance,
    AdverseEventGrading,
    AdverseEventReport,
    AdverseEventVoid,
    CompareAgain,
    ImageVoid,
    NewSessionRecord,
    PatientOutcomeReport,
    SessionVoid,
)
from follicle.web.api import schemas
from follicle.web.api.deps import ApiActor, IfMatch, needs, version_from, with_etag
from follicle.web.deps import state
from follicle.web.report_pdf import render_report_pdf

router = APIRouter(tags=["care"])
BASE = "/patients/{patient_id}"


@router.get(
    BASE + "/sessions", **needs(Permission.SESSION_READ), response_model=list[schemas.SessionRecord]
)
def list_sessions(request: Request, actor: ApiActor, patient_id: str) -> list[dict[str, Any]]:
    return sessions.list_sessions(state(request).db, actor, patient_id)


@router.post(
    BASE + "/sessions",
    status_code=201,
    **needs(Permission.SESSION_RECORD),
    response_model=schemas.SessionRecord,
)
def record_session(
    request: Request, response: Response, actor: ApiActor, patient_id: str, body: NewSessionRecord
) -> dict[str, Any]:
    """Record a session; refused if the pre-session re-check, the plan, the consent or the
    cartridge does not allow it today."""
    recorded = sessions.record_session(state(request).db, actor, patient_id, body)
    return with_etag(response, recorded)


@router.get(
    BASE + "/sessions/{session_id}",
    **needs(Permission.SESSION_READ),
    response_model=schemas.SessionRecord,
)
def read_session(
    request: Request, response: Response, actor: ApiActor, patient_id: str, session_id: str
) -> dict[str, Any]:
    found = sessions.read_session(state(request).db, actor, patient_id, session_id)
    return with_etag(response, found)


@router.get(BASE + "/images", **needs(Permission.IMAGE_READ), response_model=list[schemas.Image])
def list_images(request: Request, actor: ApiActor, patient_id: str) -> list[dict[str, Any]]:
    return images.list_images(state(request).db, actor, patient_id)


@router.post(
    BASE + "/images",
    status_code=201,
    **needs(Permission.IMAGE_UPLOAD),
    response_model=schemas.Image,
)
async def upload_image(
    request: Request,
    actor: ApiActor,
    patient_id: str,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=20)],
    view: Annotated[str | None, Form(max_length=20)] = None,
    site: Annotated[str | None, Form(max_length=20)] = None,
    um_per_px: Annotated[float | None, Form()] = None,
    scale_id: Annotated[str | None, Form(max_length=40)] = None,
    taken_at: Annotated[datetime | None, Form()] = None,
    session_record_id: Annotated[str | None, Form(max_length=40)] = None,
) -> dict[str, Any]:
    """A JPEG, PNG or TIFF (checked by content); trichoscopy images are analysed at once.

    A trichoscopy image is read at a typed scale (`um_per_px`) or at one of the clinic's
    measured dermoscope scales (`scale_id`), which the image then keeps."""
    content = await file.read(images.MAX_UPLOAD_BYTES + 1)
    upload = images.ImageUpload(
        kind=kind,
        content=content,
        view=view,
        site=site,
        um_per_px=um_per_px,
        scale_id=scale_id,
        taken_at=taken_at,
        session_record_id=session_record_id,
    )
    app_state = state(request)
    # Decoding and analysis take a while: run them off the event loop.
    return await run_in_threadpool(
        images.upload_image, app_state.db, app_state.images, actor, patient_id, upload
    )


@router.post(
    BASE + "/sessions/{session_id}/void",
    **needs(Permission.SESSION_VOID),
    response_model=schemas.SessionVoided,
)
def void_session(
    request: Request, actor: ApiActor, patient_id: str, session_id: str, body: SessionVoid
) -> dict[str, Any]:
    """Void a session record entered wrongly, with the reason; it can then be recorded again.

    For a session recorded on the wrong patient or with the wrong lot or depths: voided, not
    deleted, it stops counting in the series, reports, portal, exports and lot recalls, and is
    then not found here. Its appointment is booked again, a plan it completed is approved
    again, and its aftercare messages not sent yet are cancelled. Audited with the reason."""
    return sessions.void_session(state(request).db, actor, patient_id, session_id, body)


@router.post(
    BASE + "/images/{image_id}/void",
    **needs(Permission.IMAGE_VOID),
    response_model=schemas.ImageVoided,
)
def void_image(
    request: Request, actor: ApiActor, patient_id: str, image_id: str, body: ImageVoid
) -> dict[str, Any]:
    """Set an image aside with a reason: it and its measurement stop counting, kept voided.

    For an image of the wrong patient, overexposed or out of focus: voided, not deleted, it
    no longer counts in the follow-up, reports, portal and exports, and is then not found
    here. Audited with the reason."""
    return images.void_image(state(request).db, actor, patient_id, image_id, body)


@router.get(
    BASE + "/images/{image_id}/content", response_class=Response, **needs(Permission.IMAGE_READ)
)
def image_content(request: Request, actor: ApiActor, patient_id: str, image_id: str) -> Response:
    app_state = state(request)
    body, media_type = images.image_content(
        app_state.db, app_state.images, actor, patient_id, image_id
    )
    return Response(body, media_type=media_type)


@router.get(
    BASE + "/measurements",
    **needs(Permission.MEASUREMENT_READ),
    response_model=list[schemas.Measurement],
)
def list_measurements(request: Request, actor: ApiActor, patient_id: str) -> list[dict[str, Any]]:
    return images.list_measurements(state(request).db, actor, patient_id)


@router.get(
    BASE + "/follow-up", **needs(Permission.FOLLOW_UP_READ), response_model=schemas.FollowUp
)
def read_follow_up(request: Request, actor: ApiActor, patient_id: str) -> dict[str, Any]:
    """Whether the plan's review is due, and each site's change from its first measurement."""
    return follow_up.follow_up(state(request).db, actor, patient_id)


@router.post(
    BASE + "/follow-up/compare",
    **needs(Permission.IMAGE_UPLOAD),
    response_model=schemas.ComparedAgain,
)
async def compare_again(
    request: Request, actor: ApiActor, patient_id: str, body: CompareAgain
) -> dict[str, Any]:
    """Compare a site's latest images with its first visit's again, hair by hair.

    For images stored before comparisons were made at upload, a follow-up uploaded before its
    baseline, or a first visit whose images were set aside; 409 when the site has not been
    measured at two visits."""
    app_state = state(request)
    return await run_in_threadpool(
        visit_change.compare_again, app_state.db, app_state.images, actor, patient_id, body
    )


@router.get(
    BASE + "/adverse-events",
    **needs(Permission.ADVERSE_EVENT_READ),
    response_model=list[schemas.AdverseEvent],
)
def list_events(request: Request, actor: ApiActor, patient_id: str) -> list[dict[str, Any]]:
    return adverse_events.list_events(state(request).db, actor, patient_id)


@router.post(
    BASE + "/adverse-events",
    status_code=201,
    **needs(Permission.ADVERSE_EVENT_REPORT),
    response_model=schemas.AdverseEventReported,
)
def report_event(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    body: AdverseEventReport,
) -> dict[str, Any]:
    """Report a problem; a serious one puts the plan on hold, and the answer says what to do."""
    reported = adverse_events.report(state(request).db, actor, patient_id, body)
    return with_etag(response, reported)


@router.post(
    BASE + "/adverse-events/{event_id}/grade",
    **needs(Permission.ADVERSE_EVENT_GRADE),
    response_model=schemas.AdverseEventGraded,
)
def grade_event(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    event_id: str,
    body: AdverseEventGrading,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """A practitioner grades an open event: graded serious it holds the plan, else it may resume.

    Category and CTCAE grade, with a note saying why. Graded not serious, the plan resumes when
    no other serious event is open. The event as first reported is kept (reported_category,
    reported_grade); 409 for a cleared event, 422 when nothing changes."""
    graded = adverse_events.grade(
        state(request).db, actor, patient_id, event_id, body, version_from(if_match)
    )
    return with_etag(response, graded)


@router.post(
    BASE + "/adverse-events/{event_id}/clear",
    **needs(Permission.ADVERSE_EVENT_CLEAR),
    response_model=schemas.AdverseEventCleared,
)
def clear_event(
    request: Request,
    response: Response,
    actor: ApiActor,
    patient_id: str,
    event_id: str,
    body: AdverseEventClearance,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    cleared = adverse_events.clear(
        state(request).db, actor, patient_id, event_id, body, version_from(if_match)
    )
    return with_etag(response, cleared)


@router.post(
    BASE + "/adverse-events/{event_id}/void",
    **needs(Permission.ADVERSE_EVENT_VOID),
    response_model=schemas.AdverseEventVoided,
)
def void_event(
    request: Request, actor: ApiActor, patient_id: str, event_id: str, body: AdverseEventVoid
) -> dict[str, Any]:
    """Void an adverse event entered wrongly, with the reason; a plan it held resumes.

    For an event recorded on the wrong patient or twice: voided, not deleted, it stops
    counting and holding the plan (which resumes when no other serious event is open); an
    event that happened and is over is cleared instead. Then 404 like any voided record."""
    return adverse_events.void_event(state(request).db, actor, patient_id, event_id, body)


@router.get(
    BASE + "/patient-outcomes",
    **needs(Permission.PATIENT_OUTCOME_READ),
    response_model=list[schemas.PatientOutcome],
)
def list_patient_outcomes(
    request: Request, actor: ApiActor, patient_id: str
) -> list[dict[str, Any]]:
    """The patient's own view of the change since treatment began, answer by answer."""
    return patient_outcomes.list_outcomes(state(request).db, actor, patient_id)


@router.post(
    BASE + "/patient-outcomes",
    status_code=201,
    **needs(Permission.PATIENT_OUTCOME_REPORT),
    response_model=schemas.PatientOutcome,
)
def report_patient_outcome(
    request: Request, actor: ApiActor, patient_id: str, body: PatientOutcomeReport
) -> dict[str, Any]:
    """The patient's answer to the outcome question (-3 greatly decreased … +3 greatly increased).

    Asked in the portal or by the practitioner at a visit; 409 before the first session (no
    change to judge yet). Shown beside the measured change, never scored against it."""
    return patient_outcomes.report_outcome(state(request).db, actor, patient_id, body)


@router.get(
    BASE + "/report.pdf",
    **needs(Permission.MEASUREMENT_READ),
    responses={200: {"content": {"application/pdf": {}}}},
)
def progress_report(
    request: Request,
    actor: ApiActor,
    patient_id: str,
    audience: Annotated[str, Query(pattern="^(clinician|patient)$")] = "clinician",
) -> Response:
    """The progress report as a PDF: the clinician's (measurements with intervals, plots,
    overlays, screening with citations, sessions with device and lot, adverse events) or the
    patient's plain-language copy. Audited."""
    return pdf_response(request, actor, patient_id, audience)


def pdf_response(request: Request, actor: Actor, patient_id: str, audience: str) -> Response:
    app_state = state(request)
    context = reports.report_context(app_state.db, app_state.images, actor, patient_id, audience)
    return Response(
        render_report_pdf(context),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="progress-{patient_id}-{audience}.pdf"'
        },
    )
