"""Passwords: Argon2id hashing (OWASP's current first choice) and the rules for a new one.

The rules follow NIST SP 800-63B (revision 4, 2025): at least 15 characters when a password
is the only factor, at least 64 allowed, every character allowed, no composition rules, and
no password that is on a list of passwords known from breaches or that is built from the
account's own context (the address, the clinic, the service's name).
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps the timing the same.
_DUMMY_HASH = _hasher.hash("follicle-no-such-account")

MIN_PASSWORD_LENGTH = 15
MAX_PASSWORD_LENGTH = 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def breached_passwords() -> frozenset[str]:
    """The bundled list: the 30,000 most common passwords from breach corpora that ship with
    zxcvbn (Dropbox's strength estimator, MIT licence), compared without case."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def _squashed(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def password_problems(password: str, context: tuple[str, ...] = ()) -> list[str]:
    """Why a new password is refused (empty when it is fine).

    >>> password_problems("short")
    ['use at least 15 characters (a few words make a good one)']
    >>> password_problems("passwordpassword")
    ['this password appears in lists of breached passwords; choose another']
    >>> password_problems("ann@example.org clinic", ("ann@example.org",))
    ['do not build the password from your email address, name or the clinic']
    >>> password_problems("Password123456789!")
    ['this is a password from lists of breached passwords with digits added; choose another']
    >>> password_problems("aaaaaaaaaaaaaaaa")
    ['avoid a password made of one repeated character or a simple sequence']
    >>> password_problems("violet kettle under nine bridges")
    []
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"use at least {MIN_PASSWORD_LENGTH} characters (a few words make a good one)"]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"use at most {MAX_PASSWORD_LENGTH} characters"]
    squashed = _squashed(password)
    lowered = password.lower()
    known = breached_passwords()
    if lowered in known or squashed in known or _repeats_a_breached_one(squashed, known):
        return ["this password appears in lists of breached passwords; choose another"]
    stem = squashed.strip("0123456789")
    if len(stem) >= 4 and (stem in known or _repeats_a_breached_one(stem, known)):
        return [
            "this is a password from lists of breached passwords with digits added; choose another"
        ]
    if (
        len(set(squashed)) <= 2
        or squashed in "0123456789" * 3
        or squashed in ("abcdefghijklmnopqrstuvwxyz" * 2)
    ):
        return ["avoid a password made of one repeated character or a simple sequence"]
    words = {"follicle"}
    for item in context:
        words.update(w for w in _squashed_parts(item) if len(w) >= 4)
    if (
        any(word in squashed for word in words)
        and len(squashed) - max((len(w) for w in words if w in squashed), default=0)
        < MIN_PASSWORD_LENGTH - 4
    ):
        return ["do not build the password from your email address, name or the clinic"]
    return []


def _squashed_parts(text: str) -> set[str]:
    """``ann.lee@example.org`` → {"annleeexampleorg", "ann", "lee", "example", "org", …}."""
    parts = {_squashed(text)}
    token = ""
    for ch in text.lower():
        if ch.isalnum():
            token += ch
        else:
            parts.add(token)
            token = ""
    parts.add(token)
    return {p for p in parts if p}


def _repeats_a_breached_one(squashed: str, known: frozenset[str]) -> bool:
    """``passwordpassword`` or ``qwerty123qwerty123``: a listed password said twice or more."""
    for size in range(1, len(squashed) // 2 + 1):
        if len(squashed) % size == 0 and squashed[:size] * (len(squashed) // size) == squashed:
            return squashed[:size] in known
    return False
