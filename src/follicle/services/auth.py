"""Signing in and out, two-factor sign-in, and resuming a session from its token.

Sessions live in the database, so logout and deactivation end them at once; the cookie holds
a random token and the database only its SHA-256. A wrong password, an unknown address and a
waiting account get the same answer. Failures in a row make the account wait longer and
longer (never a permanent lock an attacker could use to shut a practitioner out).

Staff who set up two-factor sign-in give a code from their authenticator app (or a recovery
code) after the password; admins must have it in production, and a clinic may require it of
all staff. Between the password and the code the browser holds a signed, five-minute token
that opens nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from follicle.records import audit
from follicle.records.models import Clinic, LoginSession, UserAccount, new_id, utcnow
from follicle.services import two_factor
from follicle.services.actors import Actor
from follicle.services.database import Database
from follicle.services.errors import AuthenticationFailed
from follicle.services.messages import clinic_operations
from follicle.services.passwords import hash_password, needs_rehash, verify_password
from follicle.settings import Mode, Settings

PENDING_MINUTES = 5


@dataclass(frozen=True)
class LoginResult:
    token: str
    actor: Actor


class SecondFactorNeeded(Exception):
    """The password was right; a code (``enrol`` False) or setting up two-factor (``enrol``
    True) comes next. ``pending`` is the signed token that carries the sign-in there."""

    def __init__(self, pending: str, enrol: bool) -> None:
        super().__init__("two-factor code needed" if not enrol else "two-factor set-up needed")
        self.pending = pending
        self.enrol = enrol


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


def two_factor_required(session: Session, settings: Settings, user: UserAccount) -> bool:
    if user.role == "patient":
        return False
    if user.role == "admin" and settings.mode is Mode.production:
        return True
    clinic = session.get(Clinic, user.clinic_id)
    return clinic is not None and bool(clinic_operations(clinic)["two_factor_for_staff"])


def pending_token(settings: Settings, user_id: str, purpose: str, now: datetime) -> str:
    expires = int((now + timedelta(minutes=PENDING_MINUTES)).timestamp())
    payload = f"{purpose}.{user_id}.{expires}"
    signature = hmac.new(
        settings.resolved_secret_key().encode(), payload.encode(), hashlib.sha256
    ).hexdigest()
    return f"{payload}.{signature}"


def read_pending(settings: Settings, token: str, purpose: str, now: datetime) -> str | None:
    """The user id a pending token was made for, if it is genuine, unexpired and for this."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != purpose or not parts[2].isdigit():
        return None
    payload = ".".join(parts[:3])
    expected = hmac.new(
        settings.resolved_secret_key().encode(), payload.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, parts[3]) or int(parts[2]) < now.timestamp():
        return None
    return parts[1]


def _waiting(user: UserAccount, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _count_failure(user: UserAccount, settings: Settings, now: datetime) -> dict[str, object]:
    user.failed_login_count += 1
    extra = user.failed_login_count - settings.login_failures_before_delay
    if extra < 0:
        return {}
    wait = min(settings.login_delay_seconds * 2**extra, settings.login_max_delay_minutes * 60.0)
    user.locked_until = now + timedelta(seconds=wait)
    return {"wait_seconds": wait}


def _fail(
    session: Session,
    user: UserAccount | None,
    client_address: str | None,
    detail: dict[str, object],
) -> None:
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


def _open_session(
    session: Session, user: UserAccount, client_address: str | None, kind: str, now: datetime
) -> LoginResult:
    token = secrets.token_urlsafe(32)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
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
    return LoginResult(token=token, actor=actor_for(user, client_address))


def _check_code(settings: Settings, user: UserAccount, code: str) -> bool:
    """A TOTP code (not replayed) or an unused recovery code; spends what it uses."""
    if user.totp_secret is None or user.totp_enabled_at is None:
        return False
    secret = two_factor.unseal(settings.resolved_secret_key(), user.totp_secret)
    step = two_factor.accepted_step(secret, code, user.totp_last_step) if secret else None
    if step is not None:
        user.totp_last_step = step
        return True
    remaining = two_factor.use_recovery_code(user.recovery_code_hashes, code)
    if remaining is not None:
        user.recovery_code_hashes = remaining
        return True
    return False


def log_in(
    db: Database,
    settings: Settings,
    email: str,
    password: str,
    client_address: str | None,
    kind: str = "cookie",
    code: str | None = None,
) -> LoginResult:
    """Check the password (and the two-factor code, when one is set up) and open a session
    (``cookie``) or issue an API token (``bearer``).

    Raises AuthenticationFailed, or SecondFactorNeeded for a browser that must give a code or
    set up two-factor next. An API client gives its code in the same request."""
    normalized = email.strip().lower()
    failed: AuthenticationFailed | None = None
    needed: SecondFactorNeeded | None = None
    with db.transaction() as session:
        user = session.scalar(
            select(UserAccount).where(func.lower(UserAccount.email) == normalized)
        )
        now = utcnow()
        password_ok = verify_password(user.password_hash if user else None, password)
        if user is None or not user.active or _waiting(user, now) or not password_ok:
            detail: dict[str, object] = {"reason": "password"}
            if user is not None and user.active and not _waiting(user, now):
                detail.update(_count_failure(user, settings, now))
            elif user is not None and _waiting(user, now):
                detail["reason"] = "waiting"
            _fail(session, user, client_address, detail)
            failed = AuthenticationFailed()
        else:
            if user.password_hash and needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            enrolled = user.totp_enabled_at is not None
            if not enrolled and two_factor_required(session, settings, user):
                if kind == "bearer":
                    _fail(session, user, client_address, {"reason": "two_factor_not_set_up"})
                    failed = AuthenticationFailed(
                        "this account must use two-factor sign-in: set it up in the web app "
                        "first, then give the code as totp_code"
                    )
                else:
                    needed = SecondFactorNeeded(
                        pending_token(settings, user.id, "enrol", now), True
                    )
            elif enrolled and code is None and kind == "cookie":
                needed = SecondFactorNeeded(pending_token(settings, user.id, "code", now), False)
            elif enrolled and not _check_code(settings, user, code or ""):
                _fail(
                    session,
                    user,
                    client_address,
                    {"reason": "code", **_count_failure(user, settings, now)},
                )
                failed = AuthenticationFailed(
                    "the two-factor code is missing or wrong (give totp_code)"
                    if kind == "bearer"
                    else None
                )
            else:
                result = _open_session(session, user, client_address, kind, now)
    # Failures are committed (the count and the audit entry must stick) and only then refused.
    if failed is not None:
        raise failed
    if needed is not None:
        raise needed
    return result


def complete_with_code(
    db: Database, settings: Settings, pending: str, code: str, client_address: str | None
) -> LoginResult:
    """Second step of a browser sign-in: the code from the app, or a recovery code."""
    failed = False
    with db.transaction() as session:
        now = utcnow()
        user_id = read_pending(settings, pending, "code", now)
        user = session.get(UserAccount, user_id) if user_id else None
        if (
            user is None
            or not user.active
            or _waiting(user, now)
            or not _check_code(settings, user, code)
        ):
            if user is not None and user.active and not _waiting(user, now):
                _fail(
                    session,
                    user,
                    client_address,
                    {"reason": "code", **_count_failure(user, settings, now)},
                )
            failed = True
        else:
            result = _open_session(session, user, client_address, "cookie", now)
    if failed:
        raise AuthenticationFailed(
            "That code did not work. Check the time on your phone and try again."
        )
    return result


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


def begin_enrolment(db: Database, settings: Settings, user_id: str) -> Enrolment:
    """A new secret for the authenticator app; two-factor is on only once a code confirms it."""
    with db.transaction() as session:
        user = session.get(UserAccount, user_id)
        assert user is not None
        if user.totp_enabled_at is not None:
            raise AuthenticationFailed("two-factor sign-in is already set up")
        secret = two_factor.new_secret()
        user.totp_secret = two_factor.seal(settings.resolved_secret_key(), secret)
        uri = two_factor.provisioning_uri(secret, user.email)
        return Enrolment(secret, uri, two_factor.qr_svg(uri))


def confirm_enrolment(
    db: Database, settings: Settings, user_id: str, code: str, client_address: str | None
) -> list[str]:
    """Turn two-factor on with a first code; returns the recovery codes (shown once)."""
    with db.transaction() as session:
        user = session.get(UserAccount, user_id)
        assert user is not None
        secret = (
            two_factor.unseal(settings.resolved_secret_key(), user.totp_secret)
            if user.totp_secret and user.totp_enabled_at is None
            else None
        )
        step = two_factor.accepted_step(secret, code, None) if secret else None
        if step is None:
            raise AuthenticationFailed(
                "That code did not work. Scan the code again and type the six digits shown."
            )
        codes = two_factor.new_recovery_codes()
        user.totp_enabled_at = utcnow()
        user.totp_last_step = step
        user.recovery_code_hashes = [two_factor.recovery_digest(c) for c in codes]
        audit.append(
            session,
            actor=f"user:{user.id}",
            action="two_factor.enabled",
            resource_type="user_account",
            resource_id=user.id,
            clinic_id=user.clinic_id,
            client_address=client_address,
        )
        return codes


def enrol_and_sign_in(
    db: Database, settings: Settings, pending: str, code: str, client_address: str | None
) -> tuple[LoginResult, list[str]]:
    """The sign-in that had to set up two-factor first: confirm it, then open the session."""
    user_id = read_pending(settings, pending, "enrol", utcnow())
    if user_id is None:
        raise AuthenticationFailed("That sign-in has expired. Please sign in again.")
    codes = confirm_enrolment(db, settings, user_id, code, client_address)
    with db.transaction() as session:
        user = session.get(UserAccount, user_id)
        assert user is not None
        return _open_session(session, user, client_address, "cookie", utcnow()), codes


def pending_user(settings: Settings, pending: str, purpose: str) -> str | None:
    return read_pending(settings, pending, purpose, utcnow())


def end_sessions(session: Session, user_id: str, reason: str) -> int:
    """End every browser session and API token of a user (deactivation, password reset)."""
    now = utcnow()
    open_ = session.scalars(
        select(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    ).all()
    for login in open_:
        login.ended_at = now
        login.end_reason = reason
    return len(open_)


_LOGIN_AND_USER = (
    select(LoginSession, UserAccount)
    .join(UserAccount, UserAccount.id == LoginSession.user_id)
    .where(LoginSession.token_sha256 == bindparam("digest"))
)
# The check on every request reads one narrow row: the session's times and the account's
# identity, no column named twice, so the row stands for both (loading the two as ORM objects
# cost more than the query).
_SIGN_IN_CHECK = (
    select(
        LoginSession.kind,
        LoginSession.ended_at,
        LoginSession.last_seen_at,
        LoginSession.created_at,
        UserAccount.id,
        UserAccount.clinic_id,
        UserAccount.role,
        UserAccount.credential,
        UserAccount.patient_id,
        UserAccount.display_name,
        UserAccount.active,
    )
    .join(UserAccount, UserAccount.id == LoginSession.user_id)
    .where(LoginSession.token_sha256 == bindparam("digest"))
)


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
    digest = _token_digest(token)
    # Nearly every request asks this: read without the write lock, and write only when the
    # heartbeat is due (once a minute) or the session has just run out.
    with db.snapshot() as session:
        seen: Any = session.connection().execute(_SIGN_IN_CHECK, {"digest": digest}).first()
        if seen is None or seen.ended_at is not None or seen.kind != kind:
            return None
        now = utcnow()
        reason = _end_reason(settings, seen, seen, now)
        if reason is None and now - seen.last_seen_at <= timedelta(minutes=1):
            return actor_for(seen, client_address)
    with db.transaction() as session:
        again = session.execute(_LOGIN_AND_USER, {"digest": digest}).first()
        if again is None:
            return None
        current, account = again
        if current.ended_at is not None:
            return None
        reason = _end_reason(settings, current, account, now)
        if reason is None:
            current.last_seen_at = max(current.last_seen_at, now)
            return actor_for(account, client_address)
        current.ended_at = now
        current.end_reason = reason
        return None


def _end_reason(
    settings: Settings, login: LoginSession, user: UserAccount, now: datetime
) -> str | None:
    """Why this session must end now, or None while it is good."""
    idle_limit = login.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    absolute_limit = login.created_at + (
        timedelta(hours=settings.session_absolute_hours)
        if login.kind == "cookie"
        else timedelta(minutes=settings.api_token_minutes)
    )
    if not user.active:
        return "account_inactive"
    if now > idle_limit:
        return "idle"
    if now > absolute_limit:
        return "expired"
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
