"""Updates and education the clinic sends to the patients who asked for them.

A patient opts in from the portal (Messages I want: "Education", "Updates from the clinic");
only they receive these, by email, each with a line saying why they get it and how to stop.
The worker checks the choice again when it sends, so opting out also stops a message queued
a minute ago. The admin sees past sends (how many were sent, skipped or still waiting).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from follicle.records.models import Clinic, OutboxMessage, Patient, UserAccount, new_id, utcnow
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.commands import PatientUpdate
from follicle.services.common import audit_write
from follicle.services.database import Database
from follicle.services.errors import NotFound
from follicle.services.messages import OPT_IN_KINDS, letter, queue, signed

#: The portal's choice each audience answers to, and the message kind it is sent as.
AUDIENCES = {
    "updates": (Patient.updates_opt_in, "update", "Updates from the clinic"),
    "education": (Patient.education_opt_in, "education", "Education"),
}
KINDS = tuple(kind for _, kind, _ in AUDIENCES.values())
assert set(KINDS) == set(OPT_IN_KINDS)


def why_line(audience: str) -> str:
    """Why the patient gets it, and how to stop.

    >>> why_line("education")[:59]
    'You get this because you chose "Education" under Messages I'
    """
    choice = AUDIENCES[audience][2]
    return (
        f'You get this because you chose "{choice}" under Messages I want in your portal; '
        "untick it there to stop them."
    )


def _recipients(session: Session, clinic_id: str, audience: str) -> list[tuple[Patient, str]]:
    """Opted-in patients of the clinic with an address: their own, else their sign-in."""
    opted_in = AUDIENCES[audience][0]
    rows = session.execute(
        select(Patient, UserAccount.email)
        .outerjoin(UserAccount, UserAccount.patient_id == Patient.id)
        .where(Patient.clinic_id == clinic_id, Patient.voided_at.is_(None), opted_in.is_(True))
        .order_by(Patient.id)
    ).all()
    addressed = ((patient, patient.email or account) for patient, account in rows)
    return [(patient, address) for patient, address in addressed if address]


def _clinic(session: Session, actor: Actor) -> Clinic:
    clinic = session.get(Clinic, actor.clinic_id) if actor.clinic_id else None
    if clinic is None:
        raise NotFound
    authorize(actor, Permission.PATIENT_UPDATE_SEND, clinic_id=clinic.id)
    return clinic


def audience_sizes(db: Database, actor: Actor) -> dict[str, int]:
    """How many patients each audience reaches today (shown before sending)."""
    with db.transaction() as session:
        clinic = _clinic(session, actor)
        return {name: len(_recipients(session, clinic.id, name)) for name in AUDIENCES}


def send(db: Database, actor: Actor, update: PatientUpdate) -> dict[str, Any]:
    """Queue the message for every opted-in patient, in one transaction."""
    with db.transaction() as session:
        clinic = _clinic(session, actor)
        kind = AUDIENCES[update.audience][1]
        batch = new_id("upd")
        now = utcnow()
        paragraphs = [p.strip() for p in update.body.split("\n\n") if p.strip()]
        recipients = _recipients(session, clinic.id, update.audience)
        for patient, address in recipients:
            queue(
                session,
                clinic_id=clinic.id,
                kind=kind,
                key=f"{kind}:{batch}:{patient.id}",
                recipient=address,
                due_at=now,
                message=letter(
                    update.subject,
                    f"Dear {patient.full_name}",
                    [*paragraphs, why_line(update.audience)],
                    signed(clinic),
                ),
                patient_id=patient.id,
            )
        audit_write(
            session,
            actor,
            "patient_update.send",
            "clinic",
            clinic.id,
            clinic.id,
            {
                "batch": batch,
                "audience": update.audience,
                "subject": update.subject,
                "patients": [p.id for p, _ in recipients],
            },
        )
        return {"batch": batch, "audience": update.audience, "sent_to": len(recipients)}


def history(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Past sends, newest first: when, to whom, the subject, and how many went out."""
    with db.transaction() as session:
        clinic = _clinic(session, actor)
        rows = session.execute(
            select(
                OutboxMessage.kind,
                OutboxMessage.subject,
                OutboxMessage.due_at,
                OutboxMessage.status,
                func.count(),
            )
            .where(OutboxMessage.clinic_id == clinic.id, OutboxMessage.kind.in_(KINDS))
            .group_by(
                OutboxMessage.kind,
                OutboxMessage.subject,
                OutboxMessage.due_at,
                OutboxMessage.status,
            )
        ).all()
    sends: dict[tuple[str, str, datetime], dict[str, Any]] = {}
    for kind, subject, due_at, status, count in rows:
        one = sends.setdefault(
            (kind, subject, due_at),
            {"kind": kind, "subject": subject, "sent_at": due_at, "by_status": {}},
        )
        one["by_status"][status] = count
    newest_first = sorted(sends.values(), key=lambda s: s["sent_at"], reverse=True)
    return [s | {"sent_at": s["sent_at"].isoformat()} for s in newest_first]
