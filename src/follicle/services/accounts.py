"""Accounts over their life: portal invitations, password resets, deactivation.

Links carry a random token; the database keeps only its SHA-256, the link works once and
expires (an invitation after 7 days, a reset after 1 hour). Asking for a reset answers the
same whether or not the address has an account. Setting a password follows NIST SP 800-63B
(see passwords.py) and ends every other session of the account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.records import audit
from follicle.records.models import (
    AccountToken,
    Clinic,
    UserAccount,
    new_id,
    utcnow,
)
from follicle.services import messages
from follicle.services.actors import Actor
from follicle.services.auth import end_sessions
from follicle.services.authz import STAFF_ROLES, Permission, authorize
from follicle.services.common import audit_write, load_patient
from follicle.services.database import Database
from follicle.services.errors import NotFound, NotNow
from follicle.services.passwords import hash_password, password_problems

INVITE_DAYS = 7
RESET_MINUTES = 60


def _user_by_email(session: Session, email: str) -> UserAccount | None:
    return session.scalar(
        select(UserAccount).where(func.lower(UserAccount.email) == email.strip().lower())
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_link(session: Session, user: UserAccount, purpose: str, lifetime: timedelta) -> str:
    """A fresh one-time token; earlier unused ones of the same purpose stop working."""
    now = utcnow()
    for old in session.scalars(
        select(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
    ):
        old.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            id=new_id("tok"),
            user_id=user.id,
            purpose=purpose,
            token_sha256=_digest(token),
            expires_at=now + lifetime,
        )
    )
    return token


def account_status(user: UserAccount | None) -> str:
    """``none``, ``invited`` (no password yet), ``active`` or ``deactivated``."""
    if user is None:
        return "none"
    if not user.active:
        return "deactivated"
    return "invited" if user.password_hash is None else "active"


def queue_invite(session: Session, account: UserAccount, clinic: Clinic, public_url: str) -> None:
    """Email a one-time link to choose a password (a patient's portal, or a new colleague)."""
    token = _new_link(session, account, "invite", timedelta(days=INVITE_DAYS))
    link = f"{public_url.rstrip('/')}/activate/{token}"
    what = (
        f"{clinic.name} invites you to its patient portal: your plan, aftercare after each "
        "session, appointments and progress, and a way to tell the clinic about a problem."
        if account.role == "patient"
        else f"{clinic.name} has made you a Follicle account ({account.role.replace('_', ' ')})."
    )
    messages.queue(
        session,
        clinic_id=clinic.id,
        kind="invite",
        key=f"invite:{account.id}:{_digest(token)[:16]}",
        recipient=account.email,
        due_at=utcnow(),
        message=messages.letter(
            f"Your account at {clinic.name}"
            if account.role != "patient"
            else (f"Your patient portal at {clinic.name}"),
            f"Dear {account.display_name}",
            [
                what,
                f"Choose your password here (the link works once, for {INVITE_DAYS} days): {link}",
                "If you did not expect this, you can ignore this message.",
            ],
            clinic.name,
        ),
        patient_id=account.patient_id,
        user_id=account.id,
    )


def invite_patient(db: Database, actor: Actor, patient_id: str, public_url: str) -> dict[str, Any]:
    """Invite the patient to the portal by email (again, if an earlier link expired)."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.PATIENT_INVITE)
        account = session.scalars(
            select(UserAccount).where(UserAccount.patient_id == patient.id)
        ).first()
        email = (account.email if account else patient.email or "").lower()
        if not email:
            raise InputInvalid([FieldError("/email", "record the patient's email address first")])
        if account is None:
            if _user_by_email(session, email) is not None:
                raise InputInvalid([FieldError("/email", "another account uses this address")])
            account = UserAccount(
                id=new_id("usr"),
                clinic_id=patient.clinic_id,
                email=email,
                display_name=patient.full_name,
                role="patient",
                patient_id=patient.id,
                password_hash=None,
            )
            session.add(account)
            session.flush()
        elif account_status(account) != "invited":
            raise NotNow(f"the patient's portal account is {account_status(account)}")
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None
        queue_invite(session, account, clinic, public_url)
        audit_write(
            session,
            actor,
            "patient.invite",
            "user_account",
            account.id,
            clinic.id,
            {"patient_id": patient.id},
        )
        return {"patient_id": patient.id, "status": "invited", "email": email}


def _link_user(session: Session, token: str, purpose: str) -> tuple[AccountToken, UserAccount]:
    link = session.scalar(select(AccountToken).where(AccountToken.token_sha256 == _digest(token)))
    if link is None or link.purpose != purpose or link.used_at is not None:
        raise NotFound
    if link.expires_at < utcnow():
        raise NotFound
    user = session.get(UserAccount, link.user_id)
    if user is None or not user.active:
        raise NotFound
    return link, user


def link_email(db: Database, token: str, purpose: str) -> str:
    """The address a still-valid link is for (to show on its page); NotFound otherwise."""
    with db.transaction() as session:
        return _link_user(session, token, purpose)[1].email


def _context_words(session: Session, user: UserAccount) -> tuple[str, ...]:
    clinic = session.get(Clinic, user.clinic_id)
    return (user.email, user.display_name, clinic.name if clinic else "")


def set_password_with_link(
    db: Database, token: str, purpose: str, password: str, client_address: str | None
) -> str:
    """Activate an invitation or finish a reset: check the new password, set it, spend the
    link, end every session the account had. Returns the account's email."""
    with db.transaction() as session:
        link, user = _link_user(session, token, purpose)
        problems = password_problems(password, _context_words(session, user))
        if problems:
            raise InputInvalid([FieldError("/password", p) for p in problems])
        user.password_hash = hash_password(password)
        user.failed_login_count = 0
        user.locked_until = None
        link.used_at = utcnow()
        ended = end_sessions(session, user.id, "password_changed")
        audit.append(
            session,
            actor=f"user:{user.id}",
            action="account.activated" if purpose == "invite" else "password.reset",
            resource_type="user_account",
            resource_id=user.id,
            clinic_id=user.clinic_id,
            client_address=client_address,
            detail={"sessions_ended": ended},
        )
        return user.email


def request_password_reset(
    db: Database, email: str, public_url: str, client_address: str | None
) -> None:
    """Send a reset link if an active account has this address; answer the same either way."""
    with db.transaction() as session:
        user = _user_by_email(session, email)
        audit.append(
            session,
            actor=f"user:{user.id}" if user else "anonymous",
            action="password.reset_requested",
            resource_type="user_account",
            resource_id=user.id if user else None,
            clinic_id=user.clinic_id if user else None,
            client_address=client_address,
            detail={"sent": bool(user and user.active)},
        )
        if user is None or not user.active:
            return
        token = _new_link(session, user, "password_reset", timedelta(minutes=RESET_MINUTES))
        clinic = session.get(Clinic, user.clinic_id)
        name = clinic.name if clinic else "Follicle"
        link = f"{public_url.rstrip('/')}/password-reset/{token}"
        messages.queue(
            session,
            clinic_id=user.clinic_id,
            kind="password_reset",
            key=f"password_reset:{user.id}:{_digest(token)[:16]}",
            recipient=user.email,
            due_at=utcnow(),
            message=messages.letter(
                f"Reset your password for {name}",
                f"Dear {user.display_name}",
                [
                    f"Someone (we hope you) asked to reset the password of this account. "
                    f"Choose a new one here within {RESET_MINUTES} minutes: {link}",
                    "If it was not you, ignore this message: your password stays as it is.",
                ],
                name,
            ),
            patient_id=user.patient_id,
            user_id=user.id,
        )


def _staff_user(session: Session, actor: Actor, user_id: str) -> UserAccount:
    user = session.get(UserAccount, user_id)
    if user is None or user.role not in STAFF_ROLES:
        raise NotFound
    authorize(actor, Permission.USER_MANAGE, clinic_id=user.clinic_id)
    return user


def set_staff_active(
    db: Database, actor: Actor, user_id: str, active: bool, reason: str
) -> dict[str, Any]:
    """Deactivate a staff account (its sessions and tokens end at once; its records and audit
    entries stay) or reactivate it."""
    with db.transaction() as session:
        user = _staff_user(session, actor, user_id)
        if user.id == actor.user_id and not active:
            raise NotNow("you cannot deactivate your own account")
        ended = 0
        if active:
            user.active, user.deactivated_at = True, None
        else:
            user.active, user.deactivated_at = False, utcnow()
            ended = end_sessions(session, user.id, "deactivated")
        audit_write(
            session,
            actor,
            "user.reactivate" if active else "user.deactivate",
            "user_account",
            user.id,
            user.clinic_id,
            {"reason": reason, "sessions_ended": ended},
        )
        return {"id": user.id, "active": user.active, "sessions_ended": ended}


def reset_two_factor(db: Database, actor: Actor, user_id: str, reason: str) -> None:
    """An admin clears a colleague's two-factor (lost phone, no recovery codes left); they
    set it up again at their next sign-in."""
    with db.transaction() as session:
        user = _staff_user(session, actor, user_id)
        user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
        user.recovery_code_hashes = None
        ended = end_sessions(session, user.id, "two_factor_reset")
        audit_write(
            session,
            actor,
            "user.two_factor_reset",
            "user_account",
            user.id,
            user.clinic_id,
            {"reason": reason, "sessions_ended": ended},
        )


def check_new_password(session: Session, user: UserAccount, password: str) -> None:
    problems = password_problems(password, _context_words(session, user))
    if problems:
        raise InputInvalid([FieldError("/password", p) for p in problems])
