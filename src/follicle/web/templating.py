"""The Jinja templates the pages and the PDF report share, with their filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).parent


def friendly_time(iso: str) -> str:
    """``2026-12-01T10:00:00+00:00`` as ``Tue 1 Dec 2026, 10:00`` (the time as written)."""
    moment = datetime.fromisoformat(iso)
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M}"


def make_templates() -> Jinja2Templates:
    """The pages' templates with their filters (the PDF report renders from the same)."""
    templates = Jinja2Templates(directory=WEB_DIR / "templates")
    # The templates ship with the package: no need to stat every file on every render
    # (restart the server to see an edited template).
    templates.env.auto_reload = False
    templates.env.filters["urldecode"] = unquote
    templates.env.filters["when"] = friendly_time
    return templates
