"""The Jinja templates the pages and the PDF report share, with their filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from follicle.services.appointment_requests import KIND_WORDS

WEB_DIR = Path(__file__).parent


def friendly_time(iso: str) -> str:
    """``2026-12-01T10:00:00+00:00`` as ``Tue 1 Dec 2026, 10:00`` (the time as written)."""
    moment = datetime.fromisoformat(iso)
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M}"


def local_day(iso: str | None, zone: str) -> str:
    """A stored moment (UTC) as the date it was at the clinic: an evening session in Los
    Angeles is past midnight UTC, and its record must not read the next day.

    >>> local_day("2025-11-13T00:10:00+00:00", "America/Los_Angeles")
    '2025-11-12'
    """
    return _on_clock(iso, zone, "%Y-%m-%d")


def local_minute(iso: str | None, zone: str) -> str:
    """A stored moment (UTC) on the clinic's clock, to the minute.

    >>> local_minute("2025-11-13T00:10:00+00:00", "America/Los_Angeles")
    '2025-11-12 16:10'
    """
    return _on_clock(iso, zone, "%Y-%m-%d %H:%M")


def local_second(iso: str | None, zone: str) -> str:
    """A stored moment (UTC) on the clinic's clock, to the second (the audit log).

    >>> local_second("2025-11-13T00:10:09.5+00:00", "America/Los_Angeles")
    '2025-11-12 16:10:09'
    """
    return _on_clock(iso, zone, "%Y-%m-%d %H:%M:%S")


def _on_clock(iso: str | None, zone: str, shown: str) -> str:
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is not None:  # (a date, or a wall-clock time: already the clinic's)
        moment = moment.astimezone(ZoneInfo(zone))
    return moment.strftime(shown)


def css_string(value: object) -> Markup:
    r"""``value`` as a quoted CSS string, for text inside a ``<style>`` element (the PDF's page
    footer): HTML escaping does not apply there, and a clinic named "St John's" printed as
    ``St John&#39;s``. Quotes, backslashes, angle brackets and control characters are escaped
    the CSS way, so the text cannot end the string or the element either.

    >>> print(css_string('Smith & Jones "Hair" </style>'))
    "Smith & Jones \22 Hair\22  \3c /style\3e "
    """
    escaped = "".join(
        f"\\{ord(ch):x} " if ch in '"\\<>' or ord(ch) < 0x20 or ord(ch) == 0x7F else ch
        for ch in str(value)
    )
    return Markup(f'"{escaped}"')  # noqa: S704  (no < or > is left to end the element)


def tel_uri(phone: str) -> str:
    """A ``tel:`` link's target for a number as the clinic wrote it, so a patient on a phone
    calls with one tap. The "(0)" written after a country code is not dialled.

    >>> tel_uri("+44 (0)20 7946-0958"), tel_uri("020 7946 0958")
    ('tel:+442079460958', 'tel:02079460958')
    """
    if phone.startswith("+"):
        phone = phone.replace("(0)", "")
    digits = "".join(ch for ch in phone if ch.isascii() and ch.isdigit())
    return "tel:" + ("+" if phone.startswith("+") else "") + digits


def make_templates() -> Jinja2Templates:
    """The pages' templates with their filters (the PDF report renders from the same)."""
    templates = Jinja2Templates(directory=WEB_DIR / "templates")
    # The templates ship with the package: no need to stat every file on every render
    # (restart the server to see an edited template).
    templates.env.auto_reload = False
    templates.env.filters["urldecode"] = unquote
    templates.env.filters["when"] = friendly_time
    templates.env.filters["day"] = local_day
    templates.env.filters["minute"] = local_minute
    templates.env.filters["second"] = local_second
    templates.env.filters["css_string"] = css_string
    templates.env.filters["tel"] = tel_uri
    templates.env.globals["kind_words"] = KIND_WORDS
    return templates
