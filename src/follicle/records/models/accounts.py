"""Clinics, rooms, user accounts and login sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from follicle.records.models.base import (
    Base,
    ClinicOwned,
    JSONDocument,
    Timestamped,
    Versioned,
    one_of,
)
from follicle.records.models.vocab import CREDENTIALS, LOGIN_KINDS, ROLES


class Clinic(Timestamped, Versioned, Base):
    __tablename__ = "clinic"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    #: Plan bounds, depth limits per credential, wash-outs, reminder timing (validated by the
    #: clinical engine against the cited bounds before it is saved).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Day-to-day operation: reminder lead times, message channels, two-factor for staff.
    operations: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


class Room(ClinicOwned, Timestamped, Base):
    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("clinic_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)


class UserAccount(ClinicOwned, Timestamped, Versioned, Base):
    """A person who logs in: staff, or a patient using the portal."""

    __tablename__ = "user_account"
    __table_args__ = (
        one_of("role", ROLES),
        one_of("credential", CREDENTIALS),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    credential: Mapped[str | None] = mapped_column(String(40))
    patient_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("patient.id", use_alter=True), unique=True
    )
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Weekly hours in the clinic's time zone, ``{"mon": [["09:00", "17:00"]], …}``;
    #: None means the clinic's usual hours.
    working_hours: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    #: Two-factor login (RFC 6238 TOTP). The last accepted time step stops a code being used
    #: twice; recovery codes are stored as SHA-256 digests and each works once.
    totp_secret: Mapped[str | None] = mapped_column(String(200), default=None)  # sealed
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    recovery_code_hashes: Mapped[list[str] | None] = mapped_column(JSONDocument, default=None)
    deactivated_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginSession(Timestamped, Base):
    """A server-side session: revocable at logout, expiring on idle.

    ``kind`` is ``cookie`` for a browser session or ``bearer`` for an API token; both are
    stored only as the token's SHA-256 and both end at logout or deactivation.
    """

    __tablename__ = "login_session"
    __table_args__ = (one_of("kind", LOGIN_KINDS),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(40), ForeignKey("user_account.id"), index=True)
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    client_address: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10), default="cookie", server_default="cookie")
