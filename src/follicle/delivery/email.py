"""Email: build the MIME message, then hand it to an SMTP relay or (demo) a mail folder.

The Message-ID is derived from the outbox's idempotency key, so a message sent again after a
crash between the relay's "250 OK" and our record of it is the same message to every mail
store that de-duplicates by Message-ID.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from follicle.records.models import OutboxMessage, utcnow

# CRLF line ends; header lines up to RFC 5322's hard limit, so a subject is never folded
# (some mail clients show a folded subject with a leading space).
_POLICY = SMTP.clone(max_line_length=998)


class DeliveryError(Exception):
    """A send failed; ``permanent`` means retrying will not help (e.g. 550 no such user)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Outgoing:
    """What the worker took from the outbox to send (a copy, free of the database session)."""

    id: str
    kind: str
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    ics: str | None
    idempotency_key: str
    attempts: int  # counting this one

    @classmethod
    def of(cls, row: OutboxMessage) -> Outgoing:
        return cls(
            row.id,
            row.kind,
            row.channel,
            row.recipient,
            row.subject,
            row.body_text,
            row.body_html,
            row.ics,
            row.idempotency_key,
            row.attempts,
        )


def message_id(idempotency_key: str, mail_from: str) -> str:
    """A stable Message-ID for one outbox message.

    >>> message_id("reminder:apt_1:48h", "Clinic <no-reply@clinic.example>")
    '<1007383562b3440be58cab7f4f90f352@clinic.example>'
    """
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "follicle.invalid"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def build_email(row: Outgoing, mail_from: str) -> EmailMessage:
    mail = EmailMessage(policy=_POLICY)
    mail["From"] = mail_from
    mail["To"] = row.recipient
    mail["Subject"] = row.subject
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = message_id(row.idempotency_key, mail_from)
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Follicle-Kind"] = row.kind
    mail.set_content(row.body_text)
    if row.body_html:
        mail.add_alternative(row.body_html, subtype="html")
    if row.ics:
        mail.add_attachment(
            row.ics.encode(),
            maintype="text",
            subtype="calendar",
            filename="appointment.ics",
            params={"method": "PUBLISH"},
        )
    return mail


@dataclass
class SmtpMailer:
    """One connection per batch; the URL comes from FOLLICLE_SMTP_URL, never from the repo."""

    url: str
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        parts = urlsplit(self.url)
        host, port = parts.hostname or "localhost", parts.port
        if parts.scheme == "smtps":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                host,
                port or 465,
                timeout=self.timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            connection = smtplib.SMTP(host, port or 25, timeout=self.timeout_seconds)
            if parts.scheme == "smtp+starttls":
                connection.starttls(context=ssl.create_default_context())
        if parts.username:
            connection.login(unquote(parts.username), unquote(parts.password or ""))
        return connection

    def send(self, message: EmailMessage) -> str:
        try:
            if self._connection is None:
                self._connection = self._connect()
            refused = self._connection.send_message(message)
        except smtplib.SMTPResponseException as exc:
            self.close()
            detail = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise DeliveryError(
                f"{exc.smtp_code} {detail}", permanent=500 <= exc.smtp_code < 600
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            raise DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        if refused:
            raise DeliveryError(f"recipient refused: {refused}", permanent=True)
        return str(message["Message-ID"])

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.quit()
            self._connection = None


@dataclass
class FolderMailer:
    """Demo mode without an SMTP server: each message becomes an .eml file to open."""

    folder: Path

    def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:20] + ".eml"
        temporary = self.folder / (name + ".part")
        temporary.write_bytes(message.as_bytes())
        temporary.replace(self.folder / name)
        return str(message["Message-ID"])

    def close(self) -> None:
        return None
