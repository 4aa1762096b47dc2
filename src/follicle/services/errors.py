"""Errors services raise; the web layer maps each to one HTTP status."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base for errors a user can be told about."""


class NotFound(ServiceError):
    """Absent, or not the caller's to see: both answer the same (404)."""


class Forbidden(ServiceError):
    """Visible to the caller, but not theirs to do (403)."""


class AuthenticationFailed(ServiceError):
    """One message for wrong password, unknown user and an account that must wait; a more
    specific one only once the password was right (a wrong two-factor code)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "Email or password is not right, or too many attempts: wait a little and retry."
        )


class StaleVersion(ServiceError):
    """Someone changed the record since the caller read it (409, with the record as it is)."""

    def __init__(self, current: dict[str, Any]) -> None:
        self.current = current
        super().__init__(
            f"the record changed since you read it (it is now version {current.get('version')}); "
            "review the current record and try again"
        )


class VersionRequired(ServiceError):
    """An update that does not say which version it changes (428)."""

    def __init__(self) -> None:
        super().__init__("send If-Match with the ETag of the version you are changing")


class NotNow(ServiceError):
    """Allowed in general, but not in the record's present state (409), e.g. approving a plan
    that is on hold. The message says what stands in the way."""


class ConcurrentChange(NotNow):
    """Two requests changed the same record at the same moment; this one lost (409)."""

    def __init__(self) -> None:
        super().__init__("someone changed this record at the same moment; read it again and retry")
