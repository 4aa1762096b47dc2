"""What a clinic runs on besides the clinical record: devices and cartridge lots, dermoscope
scales, the outbox of messages to patients, and one-time account links (invites, password
resets)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from follicle.records.models.base import Base, ClinicOwned, Timestamped, Versioned, one_of
from follicle.records.models.vocab import (
    ACCOUNT_TOKEN_PURPOSES,
    MESSAGE_CHANNELS,
    MESSAGE_KINDS,
    MESSAGE_STATUSES,
)


class Device(ClinicOwned, Timestamped, Versioned, Base):
    """A microneedling device model the clinic uses (pen or roller)."""

    __tablename__ = "device"
    __table_args__ = (UniqueConstraint("clinic_id", "maker", "model"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    maker: Mapped[str] = mapped_column(String(120))
    model: Mapped[str] = mapped_column(String(120))
    needle_configuration: Mapped[str] = mapped_column(String(200))
    regulatory_status: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)


class CartridgeLot(ClinicOwned, Timestamped, Base):
    """A lot of needle cartridges as received: what a recall names."""

    __tablename__ = "cartridge_lot"
    __table_args__ = (UniqueConstraint("device_id", "lot_number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40), ForeignKey("device.id"), index=True)
    lot_number: Mapped[str] = mapped_column(String(80))
    expires_on: Mapped[date]
    received_on: Mapped[date]


class DermoscopeScale(ClinicOwned, Timestamped, Base):
    """A dermoscope setting's scale, measured from a photographed ruling (a stage micrometer
    or a ruler): every trichoscopy length, width and density rests on it. Measured again,
    a setting gets a new row; the newest is the one offered."""

    __tablename__ = "dermoscope_scale"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    setting: Mapped[str] = mapped_column(String(120))
    um_per_px: Mapped[float]
    line_spacing_um: Mapped[float]
    lines: Mapped[int]
    uncertainty_pct: Mapped[float]
    measured_by: Mapped[str | None] = mapped_column(String(40), ForeignKey("user_account.id"))


class OutboxMessage(ClinicOwned, Timestamped, Base):
    """A message written in the same transaction as the change it tells of, sent later by the
    worker; ``idempotency_key`` is unique, so the same reminder cannot be queued twice, and it
    is the message's Message-ID, so a resend after a crash is recognisably the same mail."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        one_of("kind", MESSAGE_KINDS),
        one_of("channel", MESSAGE_CHANNELS),
        one_of("status", MESSAGE_STATUSES),
        Index("ix_outbox_message_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(254))
    patient_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("patient.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("user_account.id"))
    appointment_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("appointment.id"), index=True
    )
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    provider_reference: Mapped[str | None] = mapped_column(String(200))


class AccountToken(Timestamped, Base):
    """A one-time link (portal invitation or password reset), stored only as its SHA-256."""

    __tablename__ = "account_token"
    __table_args__ = (one_of("purpose", ACCOUNT_TOKEN_PURPOSES),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40), ForeignKey("user_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
