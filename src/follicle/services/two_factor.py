"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238) and recovery codes.

A code is accepted once: the last accepted time step is kept, so a code seen over someone's
shoulder cannot be replayed in the same 30 seconds. Recovery codes are random, shown once,
stored as SHA-256 digests (they carry 50 bits each, so a slow hash adds nothing) and each
works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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


def _box(secret_key: str) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"follicle totp secret v1"
    ).derive(secret_key.encode())
    return AESGCM(key)


def seal(secret_key: str, totp_secret: str) -> str:
    """The TOTP secret encrypted (AES-GCM, key derived from FOLLICLE_SECRET_KEY) for storage:
    a copy of the database alone does not give anyone the codes.

    >>> sealed = seal("k" * 40, "JBSWY3DPEHPK3PXP")
    >>> sealed.startswith("v1:"), unseal("k" * 40, sealed)
    (True, 'JBSWY3DPEHPK3PXP')
    """
    nonce = secrets.token_bytes(12)
    sealed = _box(secret_key).encrypt(nonce, totp_secret.encode(), b"totp")
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(secret_key: str, stored: str) -> str | None:
    """The secret back, or None if it was sealed with another key or altered."""
    if not stored.startswith("v1:"):
        return None
    try:
        raw = base64.urlsafe_b64decode(stored[3:].encode())
        return _box(secret_key).decrypt(raw[:12], raw[12:], b"totp").decode()
    except (InvalidTag, ValueError):  # another key, altered, or not base64 at all
        return None
