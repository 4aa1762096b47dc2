"""Logging in, locking out, idling out and logging out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from follicle.records.models import AuditEntry, LoginSession, UserAccount, utcnow
from follicle.services import auth
from follicle.services.database import Database
from follicle.services.errors import AuthenticationFailed
from follicle.settings import Settings
from tests.support.factories import make_clinic, make_user

PASSWORD = "correct horse battery"


@pytest.fixture
def user_email(db: Database) -> str:
    email = "Someone@Test.Follicle"
    make_user(
        db, make_clinic(db), email=email.lower(), password=PASSWORD, credential="dermatologist"
    )
    return email


def _failure_message(db: Database, settings: Settings, email: str, password: str) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        auth.log_in(db, settings, email, password, "127.0.0.1")
    return str(caught.value)


def test_login_opens_a_session_that_resumes(
    db: Database, settings: Settings, user_email: str
) -> None:
    result = auth.log_in(db, settings, user_email, PASSWORD, "127.0.0.1")
    assert result.actor.role == "practitioner"
    assert result.actor.credential == "dermatologist"
    resumed = auth.resume(db, settings, result.token, "127.0.0.1")
    assert resumed is not None
    assert resumed.user_id == result.actor.user_id
    with db.transaction() as session:
        stored = session.scalars(select(LoginSession.token_sha256)).all()
    assert result.token not in stored  # only the digest is kept


def test_wrong_password_unknown_user_and_locked_account_answer_alike(
    db: Database, settings: Settings, user_email: str
) -> None:
    wrong_password = _failure_message(db, settings, user_email, "not the password")
    unknown_user = _failure_message(db, settings, "nobody@test.follicle", PASSWORD)
    for _ in range(settings.login_failures_before_delay):
        _failure_message(db, settings, user_email, "guessing")
    waiting = _failure_message(db, settings, user_email, PASSWORD)  # right password, must wait
    assert wrong_password == unknown_user == waiting


def _wait_seconds(db: Database) -> float:
    with db.transaction() as session:
        user = session.scalars(select(UserAccount)).one()
        assert user.locked_until is not None
        wait = (user.locked_until - utcnow()).total_seconds()
        user.locked_until = utcnow() - timedelta(seconds=1)  # the wait runs out
    return wait


def test_delays_grow_with_each_failure_up_to_a_ceiling_never_a_permanent_lock(
    db: Database, settings: Settings, user_email: str
) -> None:
    for _ in range(settings.login_failures_before_delay - 1):
        _failure_message(db, settings, user_email, "guessing")
    with db.transaction() as session:
        assert session.scalars(select(UserAccount)).one().locked_until is None  # no delay yet
    waits = []
    for _ in range(8):
        _failure_message(db, settings, user_email, "guessing")
        waits.append(_wait_seconds(db))
    base, ceiling = settings.login_delay_seconds, settings.login_max_delay_minutes * 60
    for number, wait in enumerate(waits):
        assert min(base * 2**number, ceiling) - 2 <= wait <= min(base * 2**number, ceiling)
    assert waits[-1] == pytest.approx(ceiling, abs=2)
    # Once the wait is over the right password works, and the count starts again.
    assert auth.log_in(db, settings, user_email, PASSWORD, None).token
    with db.transaction() as session:
        user = session.scalars(select(UserAccount)).one()
        assert (user.failed_login_count, user.locked_until) == (0, None)


def test_failures_are_audited_without_the_password(
    db: Database, settings: Settings, user_email: str
) -> None:
    _failure_message(db, settings, user_email, "s3cret-guess")
    _failure_message(db, settings, "nobody@test.follicle", "s3cret-guess")
    with db.transaction() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["login.failed", "login.failed"]
    assert entries[1].actor == "anonymous"
    assert all("s3cret" not in str(e.detail) for e in entries)


def test_session_ends_after_idle_time(db: Database, settings: Settings, user_email: str) -> None:
    token = auth.log_in(db, settings, user_email, PASSWORD, None).token
    with db.transaction() as session:
        login = session.scalars(select(LoginSession)).one()
        login.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    assert auth.resume(db, settings, token, None) is None
    with db.transaction() as session:
        assert session.scalars(select(LoginSession.end_reason)).one() == "idle"


def test_logout_ends_the_session(db: Database, settings: Settings, user_email: str) -> None:
    token = auth.log_in(db, settings, user_email, PASSWORD, None).token
    auth.log_out(db, token, None)
    assert auth.resume(db, settings, token, None) is None


def test_deactivated_account_loses_its_sessions(
    db: Database, settings: Settings, user_email: str
) -> None:
    token = auth.log_in(db, settings, user_email, PASSWORD, None).token
    with db.transaction() as session:
        session.scalars(select(UserAccount)).one().active = False
    assert auth.resume(db, settings, token, None) is None
    _failure_message(db, settings, user_email, PASSWORD)


def test_unknown_token_is_no_one(db: Database, settings: Settings) -> None:
    assert auth.resume(db, settings, "made-up-token", None) is None
    assert auth.resume(db, settings, "", None) is None
