"""Logging in and out, and resuming a session from its cookie.

Sessions live in the database, so logout and deactivation end them at once; the cookie holds
a random token and the database only its SHA-256. A wrong password, an unknown address and a
locked account get the same answer. After repeated failures an account locks for a while (not
forever, so an attacker cannot shut a practitioner out for good).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from follicle.records import audit
from follicle.records.models import LoginSession, UserAccount, new_id, utcnow
from follicle.services.actors import Actor
from follicle.services.database import Database
from follicle.services.errors import AuthenticationFailed
from follicle.services.passwords import hash_password, needs_rehash, verify_password
from follicle.settings import Settings


@dataclass(frozen=True)
class LoginResult:
    token: str
    actor: Actor


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_for(user: UserAccount, client_address: str | None = None) -> Actor:
    return Actor(
        user_id=user.id,
        clinic_id=user.clinic_id,
        role=user.role,
        credential=user.credential,
        patient_id=user.patient_id,
        display_name=user.display_name,
        client_address=client_address,
    )


def log_in(
    db: Database,
    settings: Settings,
    email: str,
    password: str,
    client_address: str | None,
    kind: str = "cookie",
) -> LoginResult:
    """Check the password and open a session (``cookie``) or issue an API token (``bearer``),
    or raise AuthenticationFailed."""
    normalized = email.strip().lower()
    with db.transaction() as session:
        user = session.scalar(
            select(UserAccount).where(func.lower(UserAccount.email) == normalized)
        )
        now = utcnow()
        password_ok = verify_password(user.password_hash if user else None, password)
        locked = user is not None and user.locked_until is not None and user.locked_until > now
        if user is None or not user.active or locked or not password_ok:
            detail: dict[str, object] = {"reason": "failed"}
            if user is not None and not locked and not password_ok:
                user.failed_login_count += 1
                if user.failed_login_count >= settings.login_failures_before_lock:
                    user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
                    user.failed_login_count = 0
                    detail["locked_minutes"] = settings.login_lock_minutes
            audit.append(
                session,
                actor=f"user:{user.id}" if user else "anonymous",
                action="login.failed",
                resource_type="user_account",
                resource_id=user.id if user else None,
                clinic_id=user.clinic_id if user else None,
                client_address=client_address,
                detail=detail,
            )
            failed = True
        else:
            failed = False
            token = secrets.token_urlsafe(32)
            user.failed_login_count = 0
            user.locked_until = None
            user.last_login_at = now
            if user.password_hash and needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            session.add(
                LoginSession(
                    id=new_id("ses"),
                    token_sha256=_token_digest(token),
                    user_id=user.id,
                    last_seen_at=now,
                    client_address=client_address,
                    kind=kind,
                )
            )
            audit.append(
                session,
                actor=f"user:{user.id}",
                action="login.succeeded" if kind == "cookie" else "token.issued",
                resource_type="user_account",
                resource_id=user.id,
                clinic_id=user.clinic_id,
                client_address=client_address,
            )
            result = LoginResult(token=token, actor=actor_for(user, client_address))
    # Failures are committed (the count and the audit entry must stick) and only then refused.
    if failed:
        raise AuthenticationFailed
    return result


def resume(
    db: Database,
    settings: Settings,
    token: str,
    client_address: str | None,
    kind: str = "cookie",
) -> Actor | None:
    """The actor behind a session token or API token, or None if it ended, idled out,
    expired or is unknown (a cookie token is no bearer token, nor the reverse)."""
    if not token:
        return None
    with db.transaction() as session:
        login = session.scalar(
            select(LoginSession).where(LoginSession.token_sha256 == _token_digest(token))
        )
        if login is None or login.ended_at is not None or login.kind != kind:
            return None
        now = utcnow()
        idle_limit = login.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
        absolute_limit = login.created_at + (
            timedelta(hours=settings.session_absolute_hours)
            if kind == "cookie"
            else timedelta(minutes=settings.api_token_minutes)
        )
        user = session.get(UserAccount, login.user_id)
        if user is None or not user.active:
            reason = "account_inactive"
        elif now > idle_limit:
            reason = "idle"
        elif now > absolute_limit:
            reason = "expired"
        else:
            # Write the heartbeat at most once a minute: reads should not all be writes.
            if now - login.last_seen_at > timedelta(minutes=1):
                login.last_seen_at = now
            return actor_for(user, client_address)
        login.ended_at = now
        login.end_reason = reason
        return None


def log_out(db: Database, token: str, client_address: str | None) -> None:
    with db.transaction() as session:
        login = session.scalar(
            select(LoginSession).where(LoginSession.token_sha256 == _token_digest(token))
        )
        if login is None or login.ended_at is not None:
            return
        login.ended_at = utcnow()
        login.end_reason = "logout"
        user = session.get(UserAccount, login.user_id)
        audit.append(
            session,
            actor=f"user:{login.user_id}",
            action="logout",
            resource_type="user_account",
            resource_id=login.user_id,
            clinic_id=user.clinic_id if user else None,
            client_address=client_address,
        )
