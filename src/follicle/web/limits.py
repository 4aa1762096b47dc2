"""Request bodies are bounded before anything reads them: an image upload may be as large as
the largest accepted image (plus the form around it), anything else is small. A body that
claims more, or streams more than it claimed, is refused with 413 and never buffered. A path or
query with a NUL character names nothing (404) before it can reach the database."""

from __future__ import annotations

import json

from starlette.types import Message, Receive, Scope, Send

from follicle.web.asgi import HttpMiddleware

UPLOAD_LIMIT_BYTES = 32 * 1024 * 1024  # images.MAX_UPLOAD_BYTES (30 MB) and the form
OTHER_LIMIT_BYTES = 2 * 1024 * 1024


class BodyTooLarge(Exception):
    pass


def _limit(scope: Scope) -> int:
    headers = dict(scope.get("headers", []))
    content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
    return UPLOAD_LIMIT_BYTES if content_type.startswith("multipart/") else OTHER_LIMIT_BYTES


async def _refuse(
    send: Send,
    limit: int,
    status: int = 413,
    title: str = "Content Too Large",
    detail: str | None = None,
) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail or f"the request body is larger than {limit // (1024 * 1024)} MB",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit(HttpMiddleware):
    """Pure ASGI middleware: 413 for a declared or streamed body over the limit."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_query = scope.get("query_string", b"").lower()
        if "\x00" in scope.get("path", "") or b"%00" in raw_query or b"\x00" in raw_query:
            await _refuse(send, 0, status=404, title="Not Found", detail="no such page or record")
            return
        limit = _limit(scope)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            # The framework may turn the interrupted read into its own error response
            # (FastAPI answers 400); the client is told the real reason instead.
            nonlocal started
            if exceeded:
                if not started:
                    started = True
                    await _refuse(send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await _refuse(send, limit)
