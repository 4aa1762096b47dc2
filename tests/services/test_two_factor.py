"""Two-factor rules that need no server: who must use it, and the pending token between the
password and the code (issue: clinic operations, "TOTP two-factor login for staff")."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from follicle.records.models import utcnow
from follicle.services import auth
from follicle.services.database import Database
from follicle.services.errors import AuthenticationFailed
from follicle.settings import Mode, Settings
from tests.support.factories import make_clinic, make_user

PASSWORD = "violet kettle under nine bridges"


def test_admins_must_set_it_up_in_production_not_in_the_demo(
    db: Database, settings: Settings
) -> None:
    clinic_id = make_clinic(db)
    make_user(db, clinic_id, "admin", PASSWORD, "boss@test.follicle")
    make_user(db, clinic_id, "front_desk", PASSWORD, "desk@test.follicle")
    production = settings.model_copy(update={"mode": Mode.production})
    with pytest.raises(auth.SecondFactorNeeded) as needed:
        auth.log_in(db, production, "boss@test.follicle", PASSWORD, None)
    assert needed.value.enrol
    assert auth.pending_user(production, needed.value.pending, "enrol") is not None
    assert auth.pending_user(production, needed.value.pending, "code") is None
    with pytest.raises(AuthenticationFailed, match="two-factor"):
        auth.log_in(db, production, "boss@test.follicle", PASSWORD, None, kind="bearer")
    # Other staff only when the clinic asks for it; the demo keeps its password-only logins.
    assert auth.log_in(db, production, "desk@test.follicle", PASSWORD, None).token
    assert auth.log_in(db, settings, "boss@test.follicle", PASSWORD, None).token


def test_enrolled_accounts_need_a_fresh_code_every_time(db: Database, settings: Settings) -> None:
    clinic_id = make_clinic(db)
    user_id = make_user(db, clinic_id, "practitioner", PASSWORD, "nurse@test.follicle")
    enrolment = auth.begin_enrolment(db, settings, user_id)
    # One code, used twice: asking for "the current code" again could land in the next
    # 30-second step and be a new, unspent code (this test failed so once on CI).
    first_code = pyotp.TOTP(enrolment.secret).now()
    codes = auth.confirm_enrolment(db, settings, user_id, first_code, None)
    assert len(codes) == 10
    with pytest.raises(auth.SecondFactorNeeded) as needed:
        auth.log_in(db, settings, "nurse@test.follicle", PASSWORD, None)
    assert not needed.value.enrol
    with pytest.raises(AuthenticationFailed):  # the code that turned it on is spent
        auth.complete_with_code(db, settings, needed.value.pending, first_code, None)
    assert auth.complete_with_code(db, settings, needed.value.pending, codes[3], None).token
    with pytest.raises(AuthenticationFailed):
        auth.complete_with_code(db, settings, needed.value.pending, codes[3], None)


def test_pending_tokens_cannot_be_forged_or_kept(settings: Settings) -> None:
    now = utcnow()
    token = auth.pending_token(settings, "usr_1", "code", now)
    assert auth.read_pending(settings, token, "code", now) == "usr_1"
    purpose, _user, expires, signature = token.split(".")
    forged = ".".join([purpose, "usr_2", expires, signature])
    assert auth.read_pending(settings, forged, "code", now) is None
    later = now + timedelta(minutes=auth.PENDING_MINUTES, seconds=1)
    assert auth.read_pending(settings, token, "code", later) is None
    other_key = settings.model_copy(update={"secret_key": "another-secret-" + "y" * 40})
    assert auth.read_pending(other_key, token, "code", now) is None


def test_the_totp_secret_is_stored_sealed_and_useless_under_another_key(
    db: Database, settings: Settings
) -> None:
    from sqlalchemy import select

    from follicle.records.models import UserAccount
    from follicle.services import two_factor

    clinic_id = make_clinic(db)
    user_id = make_user(db, clinic_id, "practitioner", PASSWORD, "sealed@test.follicle")
    enrolment = auth.begin_enrolment(db, settings, user_id)
    with db.transaction() as session:
        stored = session.scalars(select(UserAccount.totp_secret)).one()
    assert stored is not None
    assert enrolment.secret not in stored
    assert two_factor.unseal(settings.resolved_secret_key(), stored) == enrolment.secret
    assert two_factor.unseal("another-secret-" + "z" * 40, stored) is None
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    assert two_factor.unseal(settings.resolved_secret_key(), tampered) is None
