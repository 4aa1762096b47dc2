"""Consent: versioned texts per clinic, signatures, withdrawal.

A consent is valid while it is signed on the current version of its text and not withdrawn;
publishing a new version makes everyone sign again before their next session (DESIGN.md §1.3).
Withdrawal keeps the signed record and stops what it covered from then on.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from follicle.clinic.catalogue import load_catalogue
from follicle.clinic.errors import FieldError, InputInvalid
from follicle.clinic.rules import adult_age_years
from follicle.records.models import Appointment, Consent, ConsentText, Patient, new_id, utcnow
from follicle.records.models.vocab import CONSENT_KINDS
from follicle.records.names import names_someone, signs_as
from follicle.services.actors import Actor
from follicle.services.appointments import cancel_sessions_ahead
from follicle.services.authz import Permission, authorize
from follicle.services.commands import ConsentSignature, ConsentWithdrawal, NewConsentText
from follicle.services.common import (
    audit_read,
    audit_write,
    check_version,
    clinic_today,
    clinic_zone,
    load_patient,
    load_record,
)
from follicle.services.database import Database
from follicle.services.errors import NotNow
from follicle.services.patients import age_on


def text_view(text: ConsentText) -> dict[str, Any]:
    return {
        "id": text.id,
        "kind": text.kind,
        "version_number": text.version_number,
        "title": text.title,
        "body": text.body,
        "published_at": text.published_at.isoformat(),
    }


def consent_view(
    consent: Consent, text: ConsentText, current: ConsentText | None
) -> dict[str, Any]:
    valid = consent.withdrawn_at is None and current is not None and current.id == text.id
    return {
        "id": consent.id,
        "patient_id": consent.patient_id,
        "kind": text.kind,
        "consent_text_id": text.id,
        "version_number": text.version_number,
        "signed_at": consent.signed_at.isoformat(),
        "signed_name": consent.signed_name,
        "representative": consent.representative,
        "witnessed_by": consent.witnessed_by_id,
        "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
        "withdrawn_reason": consent.withdrawn_reason,
        "valid": valid,
        "version": consent.version,
    }


_CLINIC_TEXTS = (
    select(ConsentText)
    .where(ConsentText.clinic_id == bindparam("clinic_id"))
    .order_by(ConsentText.kind, ConsentText.version_number)
)


def current_texts(session: Session, clinic_id: str) -> dict[str, ConsentText]:
    """The newest published version of each kind of consent text."""
    texts = session.scalars(_CLINIC_TEXTS, {"clinic_id": clinic_id})
    return {text.kind: text for text in texts}


def valid_consents(session: Session, clinic_id: str, patient_id: str) -> set[str]:
    """The kinds of consent the patient holds on the current text, not withdrawn."""
    current = current_texts(session, clinic_id)
    signed = session.scalars(
        select(Consent.consent_text_id).where(
            Consent.patient_id == patient_id, Consent.withdrawn_at.is_(None)
        )
    )
    held = set(signed)
    return {kind for kind, text in current.items() if text.id in held}


def list_texts(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Every published version, newest last; the current one is the last of its kind."""
    authorize(actor, Permission.CONSENT_TEXT_READ)
    with db.transaction() as session:
        texts = session.scalars(
            select(ConsentText)
            .where(ConsentText.clinic_id == actor.clinic_id)
            .order_by(ConsentText.kind, ConsentText.version_number)
        )
        return [text_view(t) for t in texts]


def publish_text(db: Database, actor: Actor, new: NewConsentText) -> dict[str, Any]:
    """Publish the next version of a consent text; existing signatures stop being current."""
    authorize(actor, Permission.CONSENT_TEXT_PUBLISH)
    if actor.clinic_id is None:
        raise InputInvalid([FieldError("", "consent texts belong to a clinic")])
    with db.transaction() as session:
        latest = session.scalar(
            select(func.max(ConsentText.version_number)).where(
                ConsentText.clinic_id == actor.clinic_id, ConsentText.kind == new.kind
            )
        )
        text = ConsentText(
            id=new_id("ctx"),
            clinic_id=actor.clinic_id,
            kind=new.kind,
            version_number=(latest or 0) + 1,
            title=new.title,
            body=new.body,
            published_at=utcnow(),
        )
        session.add(text)
        session.flush()
        audit_write(
            session,
            actor,
            "consent_text.publish",
            "consent_text",
            text.id,
            actor.clinic_id,
            {"kind": text.kind, "version_number": text.version_number},
        )
        return text_view(text)


def list_consents(db: Database, actor: Actor, patient_id: str) -> dict[str, Any]:
    """The patient's signatures (withdrawn ones too) and which kinds are valid now."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.CONSENT_READ)
        current = current_texts(session, patient.clinic_id)
        rows = session.execute(
            select(Consent, ConsentText)
            .join(ConsentText, Consent.consent_text_id == ConsentText.id)
            .where(Consent.patient_id == patient.id)
            .order_by(Consent.signed_at, Consent.id)
        ).all()
        views = [consent_view(c, t, current.get(t.kind)) for c, t in rows]
        audit_read(
            session,
            actor,
            "consent.list",
            "consent",
            patient.clinic_id,
            [v["id"] for v in views],
            patient.id,
        )
        return {
            "consents": views,
            "valid": sorted({v["kind"] for v in views if v["valid"]}),
            "needed": sorted(set(CONSENT_KINDS) - {v["kind"] for v in views if v["valid"]}),
            "current_texts": {k: text_view(t) for k, t in current.items()},
            "time_zone": clinic_zone(session, patient.clinic_id).key,
            "signs_as": patient.full_name,
            # (a parent or guardian signs for a patient under this age; None for an adult)
            "minor_until": _minor_until(session, patient),
        }


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _signature_png(data_url: str | None) -> bytes | None:
    """The drawn signature's PNG bytes; anything that is not a PNG data URL is refused."""
    if not data_url:
        return None
    prefix = "data:image/png;base64,"
    try:
        if not data_url.startswith(prefix):
            raise ValueError
        content = base64.b64decode(data_url[len(prefix) :], validate=True)
    except ValueError:
        content = b""
    if not content.startswith(PNG_MAGIC):
        raise InputInvalid([FieldError("/signature_png", "must be a PNG drawing")])
    return content


def sign(
    db: Database, actor: Actor, patient_id: str, signature: ConsentSignature
) -> dict[str, Any]:
    """Record a signature on the current text of its kind (the one the signer read)."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.CONSENT_SIGN)
        current = current_texts(session, patient.clinic_id).get(signature.kind)
        if current is None:
            raise NotNow(f"the clinic has not published a {signature.kind} consent text yet")
        if signature.consent_text_id != current.id:
            raise InputInvalid(
                [
                    FieldError(
                        "/consent_text_id",
                        f"is not the current {signature.kind} text ({current.id}, version "
                        f"{current.version_number}); read the current version and sign that",
                    )
                ]
            )
        _check_signer(session, patient, signature)
        drawn = _signature_png(signature.signature_png)
        consent = Consent(
            id=new_id("cns"),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            consent_text_id=current.id,
            signed_at=utcnow(),
            signed_name=signature.signed_name,
            representative=signature.representative,
            signature_png=drawn,
            witnessed_by_id=actor.user_id if actor.role != "patient" else None,
        )
        session.add(consent)
        session.flush()
        audit_write(
            session,
            actor,
            "consent.sign",
            "consent",
            consent.id,
            patient.clinic_id,
            {
                "patient_id": patient.id,
                "kind": current.kind,
                "version": current.version_number,
                "representative": signature.representative,
            },
        )
        return consent_view(consent, current, current)


def _minor_until(session: Session, patient: Patient) -> int | None:
    """The age of consent when the patient is younger than it today, else None."""
    adult = adult_age_years(load_catalogue())
    today = clinic_today(session, patient.clinic_id)
    return adult if age_on(patient.date_of_birth, today) < adult else None


def _check_signer(session: Session, patient: Patient, signature: ConsentSignature) -> None:
    """The patient signs in their registered name; a minor's parent or guardian (or an
    adult's healthcare proxy) signs in their own, saying how they are related."""
    if signature.representative is not None:
        if not names_someone(signature.signed_name):
            raise InputInvalid(
                [FieldError("/signed_name", "must be the full name of the person signing")]
            )
        return
    minor_until = _minor_until(session, patient)
    if minor_until is not None:
        raise InputInvalid(
            [
                FieldError(
                    "/representative",
                    f"is needed: the patient is under {minor_until}, so a parent or legal "
                    "guardian signs for them, in their own name",
                )
            ]
        )
    if not signs_as(signature.signed_name, patient.given_name, patient.family_name):
        raise InputInvalid(
            [
                FieldError(
                    "/signed_name",
                    f"must be the patient's name as registered ({patient.full_name}), "
                    "in full; if that is wrong, correct the patient's details first",
                )
            ]
        )


def withdraw(
    db: Database,
    actor: Actor,
    patient_id: str,
    consent_id: str,
    withdrawal: ConsentWithdrawal,
    expected_version: int | None,
) -> dict[str, Any]:
    """Withdraw a consent from now on; the signed record stays."""
    with db.transaction() as session:
        consent = load_record(
            session, actor, Consent, consent_id, patient_id, Permission.CONSENT_WITHDRAW
        )
        text = session.get(ConsentText, consent.consent_text_id)
        assert text is not None
        current = current_texts(session, consent.clinic_id).get(text.kind)
        check_version(consent, expected_version, lambda c: consent_view(c, text, current))
        if consent.withdrawn_at is not None:
            raise NotNow("this consent was already withdrawn")
        now = utcnow()
        consent.withdrawn_at = now
        consent.withdrawn_reason = withdrawal.reason
        cancelled = []
        if text.kind == "treatment":  # no more sessions: free their slots
            cancelled = cancel_sessions_ahead(
                session, Appointment.patient_id == patient_id, "treatment consent withdrawn"
            )
        session.flush()
        audit_write(
            session,
            actor,
            "consent.withdraw",
            "consent",
            consent.id,
            consent.clinic_id,
            {"patient_id": patient_id, "kind": text.kind, "cancelled": cancelled},
        )
        return consent_view(consent, text, current)
