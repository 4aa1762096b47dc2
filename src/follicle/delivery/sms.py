"""Text messages: one small interface for any provider, and a logging one for development.

A real provider (an HTTP API) implements :class:`SmsProvider`; its credentials come from the
environment of the machine that runs the worker, never from this repository.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("follicle.sms")


class SmsProvider(Protocol):
    def send(self, to: str, text: str, idempotency_key: str) -> str:
        """Send one text; return the provider's reference. Raise DeliveryError on failure."""
        ...


class LoggingSmsProvider:
    """Writes the text to the log instead of sending it (the number is partly masked)."""

    def send(self, to: str, text: str, idempotency_key: str) -> str:
        masked = to[:3] + "…" + to[-2:] if len(to) > 6 else "…"
        log.info("sms to %s (%s): %s", masked, idempotency_key, text)
        return f"logged:{idempotency_key}"


def sms_provider(name: str) -> SmsProvider:
    if name == "log":
        return LoggingSmsProvider()
    raise ValueError(f"unknown SMS provider {name!r} (available: log)")
