"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238) and recovery codes.

A code is accepted once: the last accepted time step is kept, so a code seen over someone's
shoulder cannot be replayed in the same 30 seconds. Recovery codes are random, shown once,
stored as SHA-256 digests (they carry 50 bits each, so a slow hash adds nothing) and each
works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno

ISSUER = "Follicle"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
VALID_WINDOW = 1  # one step either side: a phone clock 30 s off still works


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code for an authenticator app to scan."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff"))


def accepted_step(
    secret: str, code: str, last_step: int | None, now: float | None = None
) -> int | None:
    """The time step a code belongs to, if it is valid and newer than the last one used.

    >>> secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    >>> code = pyotp.TOTP(secret).at(1_800_000_000)
    >>> step = accepted_step(secret, code, None, now=1_800_000_000)
    >>> step == 1_800_000_000 // 30, accepted_step(secret, code, step, now=1_800_000_010)
    (True, None)
    """
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    moment = time.time() if now is None else now
    current = int(moment // totp.interval)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), digits):
            return step if last_step is None or step > last_step else None
    return None


def new_recovery_codes() -> list[str]:
    return [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]


def recovery_digest(code: str) -> str:
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


def use_recovery_code(stored: list[str] | None, code: str) -> list[str] | None:
    """The remaining digests if ``code`` is one of them (it is then spent), else None."""
    digest = recovery_digest(code)
    remaining = list(stored or [])
    for index, candidate in enumerate(remaining):
        if hmac.compare_digest(candidate, digest):
            del remaining[index]
            return remaining
    return None
