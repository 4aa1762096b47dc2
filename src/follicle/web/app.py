"""The FastAPI application: pages, health check and the JSON API under /api/v1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request

from follicle.records.db import check_reachable
from follicle.records.files import ImageStore
from follicle.services.database import Database
from follicle.settings import ConfigError, Settings
from follicle.web import api, views
from follicle.web.api import problems
from follicle.web.deps import AppState, state
from follicle.web.limits import BodyLimit
from follicle.web.logs import RequestLog
from follicle.web.ratelimit import SlidingWindow
from follicle.web.security import SecurityHeaders
from follicle.web.templating import WEB_DIR, make_templates


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """Build the app; refuses (ConfigError) a production start without a proper secret."""
    secret_key = settings.resolved_secret_key()
    database = db or Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Requests run in worker threads; under the GIL a few threads get through more
        # requests than forty that all switch between each other (bench/bench_api_load.py).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Follicle",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI would load scripts from a CDN, which the CSP forbids
        redoc_url=None,
    )
    templates = make_templates()
    app.state.follicle = AppState(
        settings=settings,
        db=database,
        secret_key=secret_key,
        templates=templates,
        images=ImageStore(settings.image_dir),
        login_limit=SlidingWindow(settings.login_attempts_per_address_per_minute),
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestLog)  # outermost: times and ids everything, error pages too
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    for router in views.routers():
        app.include_router(router)
    app.include_router(api.router)
    problems.install(app)
    views.install_error_pages(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> JSONResponse:
        try:
            check_reachable(state(request).db.engine)
        except (ConfigError, SQLAlchemyError):
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app
