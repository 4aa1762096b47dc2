"""Sending what the outbox holds: claim due messages, send, record the outcome.

A message is claimed (status ``sending``, a lease, one more attempt) in its own committed
transaction before it is sent, and marked ``sent`` right after the relay accepts it. A worker
killed in between leaves the claim to expire; the message is then sent again with the same
Message-ID. Failures wait ``retry_seconds × 2^(attempt-1)`` (at most an hour) before the next
try; a permanent refusal (5xx) or the last attempt marks it ``failed``. A patient who opted out
of a kind of message has it ``skipped`` at send time. A reminder of a session whose plan is
on hold (a serious adverse event is open) waits, looked at again every ``HOLD_RECHECK``: it
goes if the plan resumes before the visit and is cancelled once the visit's time has come.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from follicle.delivery.email import DeliveryError, Mailer, Outgoing, build_email
from follicle.delivery.sms import SmsProvider
from follicle.records.models import Appointment, OutboxMessage, Patient, Plan, utcnow
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.common import audit_read, clinic_zone
from follicle.services.database import Database
from follicle.services.messages import OPT_IN_KINDS, OPT_OUT_KINDS

MAX_ATTEMPTS = 8
MAX_RETRY_SECONDS = 3600.0
BATCH = 20


@dataclass
class Outcome:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    too_late: int = 0
    held: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.skipped += other.skipped
        self.too_late += other.too_late
        self.held += other.held
        self.errors += other.errors

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, retrying later {self.retrying}, failed {self.failed}, "
            f"skipped (opted out) {self.skipped}, not sent (the appointment had begun) "
            f"{self.too_late}, waiting (the plan is on hold) {self.held}"
        )


def retry_delay_seconds(attempt: int, base_seconds: float) -> float:
    """Back-off after the ``attempt``-th failure.

    >>> [retry_delay_seconds(n, 60) for n in (1, 2, 3, 8)]
    [60.0, 120.0, 240.0, 3600.0]
    """
    return float(min(base_seconds * 2 ** (attempt - 1), MAX_RETRY_SECONDS))


TOO_LATE = "not sent: the appointment had begun (the worker was stopped or behind)"
ON_HOLD = "waiting: the plan is on hold (a serious adverse event is open)"
#: How often a reminder held back for a plan on hold is looked at again.
HOLD_RECHECK = timedelta(hours=1)


def claim(
    db: Database, lease_seconds: float, limit: int = BATCH, now: datetime | None = None
) -> tuple[list[Outgoing], Outcome]:
    """Take due messages (and those whose claim expired); returns them, with how many were
    skipped because the patient opted out and how many reminders came too late to send (a
    worker that was stopped, or retrying, past the appointment would remind the patient of
    a visit already begun: "your appointment tomorrow", sent the day after)."""
    now = now or utcnow()
    with db.transaction() as session:
        query = (
            select(OutboxMessage)
            .where(
                or_(
                    and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                    and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
                )
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = session.scalars(query).all()
        opted_out: dict[str, list[str]] = {}
        patient_ids = {r.patient_id for r in rows if r.patient_id and r.kind in OPT_OUT_KINDS}
        if patient_ids:
            opted_out = dict(
                session.execute(
                    select(Patient.id, Patient.message_opt_outs).where(Patient.id.in_(patient_ids))
                ).all()
            )
        # (updates and education go only to a patient still opted in when it is sent)
        wanted = {r.patient_id for r in rows if r.patient_id and r.kind in OPT_IN_KINDS}
        opted_in: dict[str, set[str]] = {}
        if wanted:
            for patient_id, updates, education in session.execute(
                select(Patient.id, Patient.updates_opt_in, Patient.education_opt_in).where(
                    Patient.id.in_(wanted)
                )
            ).all():
                opted_in[patient_id] = {
                    kind for kind, chose in (("update", updates), ("education", education)) if chose
                }
        reminded = {r.appointment_id for r in rows if r.kind == "reminder" and r.appointment_id}
        starts: dict[str, datetime] = {}
        held: set[str] = set()
        if reminded:
            for appointment_id, starts_at, plan_status in session.execute(
                select(Appointment.id, Appointment.starts_at, Plan.status)
                .outerjoin(Plan, Plan.id == Appointment.plan_id)
                .where(Appointment.id.in_(reminded))
            ).all():
                starts[appointment_id] = starts_at
                if plan_status == "on_hold":
                    held.add(appointment_id)
        claimed, passed = [], Outcome()
        for row in rows:
            if row.kind in opted_out.get(row.patient_id or "", []) or (
                row.kind in OPT_IN_KINDS and row.kind not in opted_in.get(row.patient_id or "", ())
            ):
                row.status = "skipped"
                row.last_error = "the patient opted out of this kind of message"
                passed.skipped += 1
                continue
            begun = starts.get(row.appointment_id or "")
            if row.kind == "reminder" and begun is not None and begun <= now:
                row.status = "cancelled"
                row.last_error = TOO_LATE
                passed.too_late += 1
                continue
            if row.kind == "reminder" and row.appointment_id in held:
                row.status = "pending"  # (a claim that expired is taken back, not sent)
                row.claimed_until = None
                row.last_error = ON_HOLD
                row.next_attempt_at = now + HOLD_RECHECK
                passed.held += 1
                continue
            if row.last_error == ON_HOLD:  # (the plan resumed)
                row.last_error = None
            row.status = "sending"
            row.claimed_until = now + timedelta(seconds=lease_seconds)
            row.attempts += 1
            claimed.append(Outgoing.of(row))
        return claimed, passed


def _record(db: Database, message_id: str, outcome: str, **values: Any) -> None:
    with db.transaction() as session:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.status in ("sent", "cancelled"):
            return
        row.status = outcome
        row.claimed_until = None
        for name, value in values.items():
            setattr(row, name, value)


def send_one(
    db: Database,
    message: Outgoing,
    mailer: Mailer,
    sms: SmsProvider,
    mail_from: str,
    retry_seconds: float,
) -> Outcome:
    outcome = Outcome()
    try:
        if message.channel == "sms":
            reference = sms.send(message.recipient, message.body_text, message.idempotency_key)
        else:
            reference = mailer.send(build_email(message, mail_from))
    except DeliveryError as exc:
        attempts = message.attempts
        if exc.permanent or attempts >= MAX_ATTEMPTS:
            _record(db, message.id, "failed", last_error=str(exc)[:1000])
            outcome.failed += 1
        else:
            delay = timedelta(seconds=retry_delay_seconds(attempts, retry_seconds))
            _record(
                db,
                message.id,
                "pending",
                last_error=str(exc)[:1000],
                next_attempt_at=utcnow() + delay,
            )
            outcome.retrying += 1
        outcome.errors.append(f"{message.id}: {exc}")
        return outcome
    _record(db, message.id, "sent", sent_at=utcnow(), provider_reference=reference[:200])
    outcome.sent += 1
    return outcome


def run_once(
    db: Database,
    mailer: Mailer,
    sms: SmsProvider,
    *,
    mail_from: str,
    retry_seconds: float,
    lease_seconds: float,
) -> Outcome:
    """Send everything due now, batch by batch, until nothing due is left."""
    total = Outcome()
    while True:
        batch, passed = claim(db, lease_seconds)
        total.add(passed)
        if not batch and not (passed.skipped or passed.too_late):
            return total
        for message in batch:
            total.add(send_one(db, message, mailer, sms, mail_from, retry_seconds))
        mailer.close()


def message_view(row: OutboxMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "channel": row.channel,
        "recipient": row.recipient,
        "patient_id": row.patient_id,
        "appointment_id": row.appointment_id,
        "subject": row.subject,
        "due_at": row.due_at.isoformat(),
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }


def list_messages(
    db: Database,
    actor: Actor,
    status: str | None = None,
    patient_id: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """The clinic's outgoing messages, newest due first, with counts by status."""
    authorize(actor, Permission.MESSAGE_LIST)
    with db.transaction() as session:
        mine = OutboxMessage.clinic_id == actor.clinic_id
        query = select(OutboxMessage).where(mine)
        if status:
            query = query.where(OutboxMessage.status == status)
        if patient_id:
            query = query.where(OutboxMessage.patient_id == patient_id)
        rows = session.scalars(
            query.order_by(OutboxMessage.due_at.desc(), OutboxMessage.id).limit(min(limit, 500))
        ).all()
        counts = dict(
            session.execute(
                select(OutboxMessage.status, func.count(OutboxMessage.id))
                .where(mine)
                .group_by(OutboxMessage.status)
            ).all()
        )
        audit_read(
            session,
            actor,
            "message.list",
            "outbox_message",
            actor.clinic_id or "",
            [r.id for r in rows],
        )
        return {
            "counts": counts,
            "messages": [message_view(r) for r in rows],
            "time_zone": clinic_zone(session, actor.clinic_id).key,
        }
