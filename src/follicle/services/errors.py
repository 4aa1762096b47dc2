"""Errors services raise; the web layer maps each to one HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """Base for errors a user can be told about."""


class NotFound(ServiceError):
    """Absent, or not the caller's to see: both answer the same (404)."""


class Forbidden(ServiceError):
    """Visible to the caller, but not theirs to do (403)."""


class AuthenticationFailed(ServiceError):
    """One message for wrong password, unknown user and locked account."""

    def __init__(self) -> None:
        super().__init__("Email or password is not right, or the account is locked for now.")
