"""Runtime settings, read from ``FOLLICLE_*`` environment variables (contracts §6).

Production is the default mode: there the server refuses to start without a real secret key,
the way FastAPI's full-stack template refuses its "changethis" defaults outside development.
Demo mode (``make run``) generates a per-installation key and keeps it in the data directory.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from follicle.errors import OperatorError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

#: Values that look like secrets but are not; refused in production.
KNOWN_BAD_SECRETS = frozenset({"", "changethis", "secret", "change-me", "follicle", "demo"})
MIN_SECRET_LENGTH = 32
SUPPORTED_DRIVERS = ("sqlite", "postgresql")


class ConfigError(OperatorError):
    """A setting is wrong; the message is one line a person can act on."""


class Mode(StrEnum):
    production = "production"
    demo = "demo"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FOLLICLE_", extra="ignore")

    mode: Mode = Mode.production
    data_dir: Path = Path("var")
    database_url: str | None = None
    secret_key: str | None = None
    session_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    session_absolute_hours: Annotated[int, Field(ge=1, le=72)] = 12
    api_token_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    #: After this many failed sign-ins in a row, each further one makes the account wait
    #: ``login_delay_seconds`` × 2^(extra failures), up to ``login_max_delay_minutes``: slow
    #: for a guesser, never a permanent lock an attacker could use to shut someone out.
    login_failures_before_delay: Annotated[int, Field(ge=3, le=100)] = 5
    login_delay_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    login_max_delay_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    login_attempts_per_address_per_minute: Annotated[int, Field(ge=1, le=10_000)] = 30
    cookie_secure: bool = False
    smtp_url: str | None = None
    #: The sender of every message; the domain also ends each Message-ID.
    mail_from: str = "Follicle <no-reply@follicle.invalid>"
    #: Where links in messages (portal invitations, password resets) point.
    public_url: str = "http://127.0.0.1:8000"
    #: First retry after a failed send; each further retry waits twice as long (max 1 hour).
    worker_retry_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    worker_poll_seconds: Annotated[float, Field(gt=0, le=3600)] = 15.0
    #: How long a claimed message is left to its worker before another may take it over.
    worker_lease_seconds: Annotated[float, Field(gt=0, le=3600)] = 300.0
    #: ``log`` writes text messages to the log (development); real providers plug in here.
    sms_provider: str = "log"
    #: Addresses of the reverse proxies whose X-Forwarded-For is believed (comma-separated,
    #: e.g. ``127.0.0.1``). Empty: the connecting address is the client, as without a proxy.
    trusted_proxies: str = ""
    #: Requests handled at once by one server process (the rest wait their turn). Python runs
    #: one thread at a time: more threads add switching, not speed (docs/deploy.md).
    worker_threads: int = Field(default=4, ge=1, le=200)

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
            raise ValueError(
                "must look like smtp://HOST:PORT, smtp+starttls://USER:PASSWORD@HOST:587 "
                "or smtps://USER:PASSWORD@HOST:465"
            )
        return value

    @property
    def mail_dir(self) -> Path:
        """Demo mode without FOLLICLE_SMTP_URL: mail is written here as .eml files."""
        return self.data_dir / "mail"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        from sqlalchemy.engine import make_url  # SQLAlchemy loads only when a URL is given
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "is not a database URL (expected sqlite:///PATH or postgresql://USER@HOST/DB)"
            ) from None
        if url.get_backend_name() not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"uses {url.get_backend_name()!r}; Follicle supports sqlite and postgresql"
            )
        return value

    @cached_property
    def sqlalchemy_url(self) -> URL:
        """The database URL with the driver Follicle uses (psycopg 3 for PostgreSQL)."""
        from sqlalchemy.engine import URL, make_url

        if self.database_url is None:
            return URL.create("sqlite", database=str(self.data_dir / "follicle.db"))
        url = make_url(self.database_url)
        if url.get_backend_name() == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.get_backend_name() == "sqlite"

    @property
    def image_dir(self) -> Path:
        return self.data_dir / "images"

    def prepare_data_dir(self) -> None:
        """Create the data directory and check that it is writable, or say why not."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"FOLLICLE_DATA_DIR {str(self.data_dir)!r} cannot be created: {exc.strerror}"
            ) from None
        if not self.data_dir.is_dir() or not os.access(self.data_dir, os.W_OK | os.X_OK):
            raise ConfigError(f"FOLLICLE_DATA_DIR {str(self.data_dir)!r} is not a writable folder")

    def resolved_secret_key(self) -> str:
        """The secret key to sign with; refuses a missing or default one in production."""
        key = self.secret_key or ""
        if self.mode is Mode.production:
            if key.strip().lower() in KNOWN_BAD_SECRETS or len(key) < MIN_SECRET_LENGTH:
                raise ConfigError(
                    "FOLLICLE_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters in production mode "
                    "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            return key
        if key:
            return key
        return self._demo_secret_key()

    def _demo_secret_key(self) -> str:
        """Demo mode keeps a generated key beside its data, so restarts keep sessions."""
        self.prepare_data_dir()
        path = self.data_dir / "demo-secret-key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings() -> Settings:
    """Read the settings from the environment, turning validation errors into one line."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"FOLLICLE_{field.upper()} {message}") from None
