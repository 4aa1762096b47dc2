"""Structured logs: one JSON object per line, a request id on every request, no patient data.

The access line names the route's template (``/api/v1/patients/{patient_id}``), never the
path as requested (it holds record ids) nor the query string (it may hold a search for a
name). Errors log their type and where they happened, not their message: a database error's
message can quote the row it failed on.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from follicle.web.asgi import HttpMiddleware

request_id_var: ContextVar[str | None] = ContextVar("follicle_request_id", default=None)
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
#: Fields an access or event line may carry besides the message.
FIELDS = ("request_id", "method", "route", "status", "duration_ms", "role", "error_type", "where")

access_log = logging.getLogger("follicle.access")
error_log = logging.getLogger("follicle.error")


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", …FIELDS}``; an exception as type and place only."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id_var.get()
        if current:
            line["request_id"] = current
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line["error_type"] = type(error).__name__
            frames = traceback.extract_tb(error.__traceback__)
            line["where"] = [
                f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames[-5:]
            ]
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for Follicle's and the server's loggers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("follicle", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    # Uvicorn's own access log prints the raw path; ours (RequestLog) prints the template.
    logging.getLogger("uvicorn.access").disabled = True


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    return str(path) if path else "(no route)"


class RequestLog(HttpMiddleware):
    """Pure ASGI middleware: request id in, ``X-Request-ID`` out, one access line each."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _INCOMING_ID.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("request failed", extra={"route": _route_template(scope)})
            raise
        finally:
            access_log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "route": _route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)
