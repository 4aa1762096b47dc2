"""Cookies, CSRF and response headers for the server-rendered pages.

CSRF uses a signed double-submit token: the cookie holds a random nonce, each form carries the
HMAC of that nonce under the server's secret, and a POST must present both.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

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


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response
