"""Errors as ``application/problem+json`` (RFC 9457); 422s name each field (contracts §6)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.requests import Request
from starlette.responses import Response

from follicle.clinic.errors import InputInvalid
from follicle.services.actors import Actor
from follicle.services.common import record_denial
from follicle.services.errors import Forbidden, NotFound, NotNow, StaleVersion, VersionRequired
from follicle.web.api.deps import Unauthenticated, etag
from follicle.web.deps import state
from follicle.web.ratelimit import RateLimited

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    where, *path = error.get("loc", ()) or ("body",)
    # (a check of ours says what is wrong; pydantic prefixes it with the kind of its error)
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if where == "body":
        # pydantic names the union member or the type it tried: not part of the document
        path = [p for p in path if not (isinstance(p, str) and p.startswith(("function-", "str-")))]
        return {"pointer": "".join("/" + _escape(p) for p in path), "message": message}
    return {"parameter": str(path[0]) if path else str(where), "in": str(where), "message": message}


def _page(request: Request, status: int, title: str, detail: str) -> Response:
    from follicle.web.deps import current_actor
    from follicle.web.views.common import render

    return render(
        request,
        "error.html",
        {"title": title, "detail": detail, "status": status},
        status_code=status,
        actor=current_actor(request),
    )


def _audit_denial(request: Request, status: int) -> None:
    actor = getattr(request.state, "actor", None)
    if isinstance(actor, Actor):
        record_denial(state(request).db, actor, request.method, request.url.path, status)


def install(app: FastAPI) -> None:
    @app.exception_handler(DataError)
    def unstorable(request: Request, exc: DataError) -> Response:
        # The database refused a value the checks let through (PostgreSQL and a NUL character,
        # a number out of range): bad input, nothing was written (the transaction rolled back).
        detail = "a value cannot be stored (a NUL character, or a number out of range)"
        if not request.url.path.startswith("/api/"):
            return _page(request, 422, "Not saved", detail.capitalize() + ".")
        return problem(
            422, "Unprocessable Content", detail, errors=[{"pointer": "", "message": detail}]
        )

    @app.exception_handler(NotFound)
    def not_found(request: Request, exc: NotFound) -> Response:
        _audit_denial(request, 404)
        if not request.url.path.startswith("/api/"):
            return _page(
                request, 404, "Not found", "There is nothing here, or it is not yours to see."
            )
        return problem(404, "Not Found")

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, exc: Forbidden) -> Response:
        _audit_denial(request, 403)
        if not request.url.path.startswith("/api/"):
            return _page(request, 403, "Not allowed", str(exc) or "Your role may not do this.")
        return problem(403, "Forbidden", str(exc) or None)

    @app.exception_handler(Unauthenticated)
    def unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        response = problem(401, "Unauthorized", str(exc) or "log in, or send a valid bearer token")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(InputInvalid)
    def invalid(request: Request, exc: InputInvalid) -> JSONResponse:
        errors = [{"pointer": e.pointer, "message": e.message} for e in exc.errors]
        return problem(
            422, "Unprocessable Content", "the request has invalid fields", errors=errors
        )

    @app.exception_handler(RequestValidationError)
    def malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_error(e) for e in exc.errors()]
        return problem(
            422, "Unprocessable Content", "the request has invalid fields", errors=errors
        )

    @app.exception_handler(StaleVersion)
    def stale(request: Request, exc: StaleVersion) -> JSONResponse:
        response = problem(409, "Conflict", str(exc), current=exc.current)
        if "version" in exc.current:
            response.headers["ETag"] = etag(int(exc.current["version"]))
        return response

    @app.exception_handler(NotNow)
    def not_now(request: Request, exc: NotNow) -> JSONResponse:
        return problem(409, "Conflict", str(exc))

    @app.exception_handler(RateLimited)
    def rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        response = problem(429, "Too Many Requests", str(exc))
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response

    @app.exception_handler(VersionRequired)
    def version_required(request: Request, exc: VersionRequired) -> JSONResponse:
        return problem(428, "Precondition Required", str(exc))
