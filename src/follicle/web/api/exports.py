"""Downloads for research: pseudonymised CSV files and their data dictionary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from follicle.services import exports, fhir_export, outcomes
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.web.api.deps import ApiActor, needs
from follicle.web.deps import state

router = APIRouter(tags=["exports"])
ResearchFile = Annotated[
    str, Path(pattern="^(measurements|sessions|patient_outcomes|data-dictionary)\\.csv$")
]


def research_file(request: Request, actor: Actor, name: str) -> Response:
    """One file of the research export (the export is audited each time)."""
    if name == exports.DICTIONARY_FILE:
        text = exports.dictionary_csv()
    else:
        app_state = state(request)
        found = exports.research_export(
            app_state.db, actor, app_state.settings.resolved_secret_key()
        )
        text = exports.research_file(name, found)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/exports/research/{name}",
    **needs(Permission.RESEARCH_EXPORT),
    responses={200: {"content": {"text/csv": {}}}},
)
def research(request: Request, actor: ApiActor, name: ResearchFile) -> Response:
    """measurements.csv (one row per measurement), sessions.csv (one per session),
    patient_outcomes.csv (one per answer) or data-dictionary.csv; patients under a pseudonym,
    no names, birth dates or contacts."""
    return research_file(request, actor, name)


FHIR_JSON = "application/fhir+json"


def fhir_file(
    request: Request, actor: Actor, patient_id: str | None, archive: bool, staff_contact: bool
) -> Response:
    """A patient's record (or, without ``patient_id``, the clinic's) as FHIR R4B: the
    bundle as JSON, or a ZIP with the bundle and the images. Audited."""
    app_state = state(request)
    if patient_id is None:
        found = fhir_export.export_clinic(app_state.db, actor, actor.clinic_id)
        name = "clinic-record"
    else:
        found = fhir_export.export_patient(app_state.db, actor, patient_id, staff_contact)
        name = f"record-{patient_id}"
    if archive:
        content = fhir_export.zip_archive(found, app_state.images)
        return Response(
            content,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
        )
    return Response(
        fhir_export.bundle_text(found.bundle),
        media_type=FHIR_JSON,
        headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
    )


@router.get(
    "/patients/{patient_id}/fhir",
    **needs(Permission.RECORD_EXPORT),
    responses={200: {"content": {FHIR_JSON: {}}}},
)
def patient_fhir(request: Request, actor: ApiActor, patient_id: str) -> Response:
    """The patient's whole record as a FHIR R4B Bundle (collection); photos by reference.
    Patients may download their own."""
    return fhir_file(
        request, actor, patient_id, archive=False, staff_contact=actor.role != "patient"
    )


@router.get(
    "/patients/{patient_id}/fhir.zip",
    **needs(Permission.RECORD_EXPORT),
    responses={200: {"content": {"application/zip": {}}}},
)
def patient_fhir_zip(request: Request, actor: ApiActor, patient_id: str) -> Response:
    """The same bundle with the photos it names, as a ZIP (bundle.json, images/)."""
    return fhir_file(
        request, actor, patient_id, archive=True, staff_contact=actor.role != "patient"
    )


@router.get(
    "/exports/fhir",
    **needs(Permission.CLINIC_EXPORT),
    responses={200: {"content": {FHIR_JSON: {}}}},
)
def clinic_fhir(request: Request, actor: ApiActor) -> Response:
    """Every patient of the clinic as one FHIR R4B Bundle (photos by reference; the CLI's
    `follicle export fhir --all --out FILE.zip` writes them too)."""
    return fhir_file(request, actor, None, archive=False, staff_contact=True)


@router.get("/outcomes/responders", **needs(Permission.FOLLOW_UP_READ))
def responders(request: Request, actor: ApiActor) -> list[dict[str, Any]]:
    """Patients measured, responders, non-responders and undetermined, by indication: the
    evidence catalogue's responder rule on each patient's longest-followed site."""
    return outcomes.responders_by_indication(state(request).db, actor)
