"""Server-rendered pages for staff and patients. Each route parses a form, calls the same
service the API calls, and renders or redirects; no clinical logic lives here."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from starlette.requests import Request
from starlette.responses import Response

from follicle.web.views.common import FormExpired, LoginRequired, WrongSide, redirect


def routers() -> list[APIRouter]:
    from follicle.web.views import (
        account,
        admin,
        auth,
        care,
        clinical,
        operations,
        portal,
        staff,
    )

    return [
        auth.router,
        account.router,
        staff.router,
        clinical.router,
        care.router,
        admin.router,
        operations.router,
        portal.router,
    ]


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    @app.exception_handler(WrongSide)
    def wrong_side(request: Request, exc: WrongSide) -> Response:
        return RedirectResponse(exc.home, status_code=303)

    @app.exception_handler(FormExpired)
    def form_expired(request: Request, exc: FormExpired) -> Response:
        back = request.headers.get("referer", "/")
        path = "/" + back.split("://", 1)[-1].split("/", 1)[-1] if "://" in back else "/"
        return redirect(path, "That form had expired; please try again.")
