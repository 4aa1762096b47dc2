"""Cookies, CSRF and response headers for the server-rendered pages.

CSRF uses a signed double-submit token: the cookie holds a random nonce, each form carries the
HMAC of that nonce under the server's secret, and a POST must present both.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from follicle.web.asgi import HttpMiddleware

SESSION_COOKIE = "follicle_session"
CSRF_COOKIE = "follicle_csrf"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


class CsrfFailed(Exception):
    pass


def csrf_token_for(secret_key: str, nonce: str) -> str:
    return hmac.new(secret_key.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def new_csrf_nonce() -> str:
    return secrets.token_urlsafe(24)


def check_csrf(secret_key: str, nonce: str | None, submitted: str | None) -> None:
    if not nonce or not submitted:
        raise CsrfFailed
    if not hmac.compare_digest(csrf_token_for(secret_key, nonce), submitted):
        raise CsrfFailed


def set_cookie(
    response: Response, name: str, value: str, *, secure: bool, max_age: int | None = None
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, secure=secure, samesite="lax", path="/"
    )


_ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
_NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders(HttpMiddleware):
    """Adds the security headers a response did not set itself.

    Plain ASGI rather than BaseHTTPMiddleware: that one runs every request through an extra
    task and memory stream, a measurable share of a chart view's time (bench/)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        static = scope["path"].startswith("/static/")
        defaults = _ALWAYS if static else (*_ALWAYS, _NO_STORE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                headers += [(n, v) for n, v in defaults if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
