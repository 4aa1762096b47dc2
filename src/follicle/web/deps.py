"""Request-scoped helpers: the app's state, the client's address, the logged-in actor."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from follicle.records.files import ImageStore
from follicle.services import auth
from follicle.services.actors import Actor
from follicle.services.database import Database
from follicle.settings import Settings
from follicle.web.ratelimit import SlidingWindow
from follicle.web.security import SESSION_COOKIE


@dataclass
class AppState:
    settings: Settings
    db: Database
    secret_key: str
    templates: Jinja2Templates
    images: ImageStore
    login_limit: SlidingWindow


def state(request: Request) -> AppState:
    app_state: AppState = request.app.state.follicle
    return app_state


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def current_actor(request: Request) -> Actor | None:
    app_state = state(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    return auth.resume(app_state.db, app_state.settings, token, client_address(request))
