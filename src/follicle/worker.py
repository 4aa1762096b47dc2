"""``follicle worker``: send due messages from the outbox, then wait and look again."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType

from follicle.delivery.email import FolderMailer, Mailer, SmtpMailer
from follicle.delivery.sms import sms_provider
from follicle.services import outbox
from follicle.services.database import Database
from follicle.settings import ConfigError, Mode, Settings


def mailer_for(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url)
    if settings.mode is Mode.demo:
        return FolderMailer(settings.mail_dir)
    raise ConfigError(
        "FOLLICLE_SMTP_URL is not set: the worker needs an SMTP relay to send mail "
        "(for example smtp+starttls://USER:PASSWORD@smtp.example.org:587)"
    )


def run(
    settings: Settings, db: Database, once: bool, report: Callable[[str], None]
) -> outbox.Outcome:
    mailer = mailer_for(settings)
    sms = sms_provider(settings.sms_provider)
    stopping: list[int] = []  # a flag a signal handler may set (Event.set is not signal-safe)

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, _stop)
    total = outbox.Outcome()
    while True:
        outcome = outbox.run_once(
            db,
            mailer,
            sms,
            mail_from=settings.mail_from,
            retry_seconds=settings.worker_retry_seconds,
            lease_seconds=settings.worker_lease_seconds,
        )
        total.add(outcome)
        if (
            outcome.sent
            or outcome.retrying
            or outcome.failed
            or outcome.skipped
            or outcome.too_late
            or outcome.held
        ):
            report(str(outcome))
        for error in outcome.errors:
            report(f"  not sent: {error}")
        if once or _sleep(settings.worker_poll_seconds, stopping):
            return total


def _sleep(seconds: float, stopping: list[int]) -> bool:
    """Wait for the next look at the outbox; True as soon as a stop was asked for."""
    deadline = time.monotonic() + seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))
    return bool(stopping)
