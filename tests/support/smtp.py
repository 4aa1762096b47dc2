"""A real SMTP server for the tests (aiosmtpd on a loopback port), that can refuse for a while.

It records every message it accepts, as an SMTP relay would; ``mailbox`` is what a mail store
that de-duplicates by Message-ID would show.
"""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from follicle.settings import Settings
from tests.support.postgres import free_port
from tests.support.server import follicle_env


@dataclass
class SmtpSink:
    """``refuse_next`` deliveries answer 451 (try again later); ``delay_seconds`` slows each
    accepted delivery, to widen the window in which a test can kill the sender."""

    refuse_next: int = 0
    delay_seconds: float = 0.0
    received: list[Message] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 Mail server temporarily unavailable"
        if self.delay_seconds:
            time.sleep(self.delay_seconds)  # blocks the server's loop, as a slow relay would
        with self.lock:
            self.received.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 2.0.0 OK"

    @property
    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.received]

    @property
    def mailbox(self) -> dict[str, Message]:
        with self.lock:
            return {str(m["Message-ID"]): m for m in self.received}


@contextmanager
def smtp_sink(**options: Any) -> Iterator[tuple[SmtpSink, str]]:
    sink = SmtpSink(**options)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def attachments(message: Message) -> dict[str, str]:
    """Content type → decoded text of each attached part."""
    found = {}
    for part in message.walk():
        if part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode()
    return found


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and part.get_content_disposition() is None:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def worker_env(settings: Settings, smtp_url: str) -> dict[str, str]:
    """`follicle worker` on the test's database, sending to ``smtp_url``, with short waits."""
    return follicle_env(
        FOLLICLE_MODE="demo",
        FOLLICLE_DATA_DIR=str(settings.data_dir),
        FOLLICLE_DATABASE_URL=settings.database_url or "",
        FOLLICLE_SECRET_KEY=settings.secret_key or "",
        FOLLICLE_SMTP_URL=smtp_url,
        FOLLICLE_WORKER_RETRY_SECONDS="0.2",
        FOLLICLE_WORKER_POLL_SECONDS="0.1",
        FOLLICLE_WORKER_LEASE_SECONDS="1",
        FOLLICLE_MAIL_FROM="Test Clinic <reminders@clinic.example>",
    )
