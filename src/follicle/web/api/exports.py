"""Downloads for research: pseudonymised CSV files and their data dictionary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from follicle.services import exports
from follicle.services.actors import Actor
from follicle.services.authz import Permission
from follicle.web.api.deps import ApiActor, needs
from follicle.web.deps import state

router = APIRouter(tags=["exports"])
ResearchFile = Annotated[str, Path(pattern="^(measurements|sessions|data-dictionary)\\.csv$")]


def research_file(request: Request, actor: Actor, name: str) -> Response:
    """One file of the research export (the export is audited each time)."""
    if name == "data-dictionary.csv":
        text = exports.dictionary_csv()
    else:
        app_state = state(request)
        found = exports.research_export(
            app_state.db, actor, app_state.settings.resolved_secret_key()
        )
        if name == "measurements.csv":
            text = exports.to_csv(found["measurements"], exports.MEASUREMENT_COLUMNS)
        else:
            text = exports.to_csv(found["sessions"], exports.SESSION_COLUMNS)
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
    """measurements.csv (one row per measurement), sessions.csv (one per session) or
    data-dictionary.csv; patients under a pseudonym, no names, birth dates or contacts."""
    return research_file(request, actor, name)
