"""Messages to patients, queued in the same transaction as the change they tell of.

Booking, rescheduling and cancelling write confirmations (with the ICS attached) and the
reminders at the clinic's lead times; a recorded session writes its aftercare messages at the
timeline's points; an approved plan writes the review reminder. The worker
(``follicle worker``) sends them later; each has an idempotency key, unique in the outbox, so
nothing is queued twice. Times are written in the clinic's time zone.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.documents.calendar import CalendarEvent, render_ics
from follicle.records.models import (
    AdverseEvent,
    Appointment,
    Clinic,
    OutboxMessage,
    Patient,
    Plan,
    Room,
    SessionRecord,
    UserAccount,
    new_id,
    utcnow,
)
from follicle.services.commands import plausible_phone

#: What a clinic gets unless it chooses otherwise (admin → clinic operations).
DEFAULT_OPERATIONS: dict[str, Any] = {
    "reminder_lead_hours": [48, 2],
    #: Text the patients who have a mobile number: reminders, and notices when a visit is
    #: booked, moved or cancelled (the name predates the notices).
    "sms_reminders": False,
    "two_factor_for_staff": False,
    #: A patient may cancel a visit from the portal up to this many hours before it; later,
    #: they contact the clinic (0: up to the start).
    "patient_cancellation_notice_hours": 24,
    #: The number patients call: every message and portal page that says "call the clinic"
    #: gives it (None: they are told to contact the clinic, with no number).
    "clinic_phone": None,
}
#: Clinical messages a patient may opt out of; notices of a change to a booking always go.
OPT_OUT_KINDS = ("reminder", "aftercare", "review_due")
#: What a patient receives only while they opt in (portal → Messages I want → Optional).
OPT_IN_KINDS = ("update", "education")
MAX_LEAD_HOURS = 14 * 24
REVIEW_NOTICE_DAYS = 7


def clinic_operations(clinic: Clinic) -> dict[str, Any]:
    return {**DEFAULT_OPERATIONS, **(clinic.operations or {})}


def parse_operations(document: Any) -> dict[str, Any]:
    """Check an operations document; errors name the field."""
    if not isinstance(document, dict):
        raise InputInvalid([FieldError("", "must be a JSON object")])
    errors = [
        FieldError(f"/{key}", "unknown field") for key in document if key not in DEFAULT_OPERATIONS
    ]
    leads = document.get("reminder_lead_hours", DEFAULT_OPERATIONS["reminder_lead_hours"])
    if (
        not isinstance(leads, list)
        or len(leads) > 3
        or not all(isinstance(h, int) and not isinstance(h, bool) for h in leads)
        or not all(1 <= h <= MAX_LEAD_HOURS for h in leads)
        or len(set(leads)) != len(leads)
    ):
        errors.append(
            FieldError(
                "/reminder_lead_hours",
                f"up to three different whole numbers of hours, each 1-{MAX_LEAD_HOURS}",
            )
        )
    notice = document.get(
        "patient_cancellation_notice_hours",
        DEFAULT_OPERATIONS["patient_cancellation_notice_hours"],
    )
    if not isinstance(notice, int) or isinstance(notice, bool) or not 0 <= notice <= MAX_LEAD_HOURS:
        errors.append(
            FieldError(
                "/patient_cancellation_notice_hours",
                f"a whole number of hours, 0-{MAX_LEAD_HOURS}",
            )
        )
    phone = document.get("clinic_phone")
    if phone is not None:
        try:
            if not isinstance(phone, str) or len(phone) > 40:
                raise ValueError("a phone number of at most 40 characters, or null for none")
            phone = plausible_phone(phone.strip()) or None
        except ValueError as exc:
            errors.append(FieldError("/clinic_phone", str(exc)))
    for flag in ("sms_reminders", "two_factor_for_staff"):
        if not isinstance(document.get(flag, False), bool):
            errors.append(FieldError(f"/{flag}", "must be true or false"))
    if errors:
        raise InputInvalid(errors)
    parsed = {**DEFAULT_OPERATIONS, **document, "clinic_phone": phone}
    parsed["reminder_lead_hours"] = sorted(parsed["reminder_lead_hours"], reverse=True)
    return parsed


def clinic_phone(clinic: Clinic) -> str | None:
    phone: str | None = clinic_operations(clinic)["clinic_phone"]
    return phone


def call_the_clinic(phone: str | None) -> str:
    """How a patient is told to reach the clinic, with its number when it gave one.

    >>> call_the_clinic("020 7946 0958"), call_the_clinic(None)
    ('call the clinic on 020 7946 0958', 'contact the clinic')
    """
    return f"call the clinic on {phone}" if phone else "contact the clinic"


def signed(clinic: Clinic) -> str:
    """A letter's sign-off: the clinic's name, and the number to call back on.

    >>> signed(Clinic(name="Demo Hair Clinic", operations={"clinic_phone": "020 7946 0958"}))
    'Demo Hair Clinic · phone 020 7946 0958'
    """
    phone = clinic_phone(clinic)
    return f"{clinic.name} · phone {phone}" if phone else clinic.name


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    html: str


def letter(subject: str, greeting: str, paragraphs: list[str], sign_off: str) -> Letter:
    """Plain text and the same words as HTML (every value escaped).

    >>> mail = letter("Hello", "Dear Ann", ["Line <1>"], "Demo Clinic")
    >>> mail.text.splitlines()[2], "Line &lt;1&gt;" in mail.html
    ('Line <1>', True)
    """
    text = "\n\n".join([greeting + ",", *paragraphs, sign_off]) + "\n"
    body = "".join(f"<p>{html.escape(p)}</p>" for p in [greeting + ",", *paragraphs, sign_off])
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>"
        f'<body style="font-family: sans-serif; line-height: 1.5">{body}</body></html>'
    )
    return Letter(subject, text, page)


def when(moment: datetime, zone: ZoneInfo) -> str:
    """``Tuesday 1 December 2026 at 10:00`` in the clinic's zone.

    >>> when(datetime(2027, 3, 29, 9, 0, tzinfo=UTC), ZoneInfo("Europe/London"))
    'Monday 29 March 2027 at 10:00'
    """
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def appointment_summary(appointment: Appointment, clinic_name: str) -> str:
    label = {
        "session": "Scalp microneedling session",
        "consultation": "Consultation",
        "follow_up": "Follow-up review",
    }[appointment.kind]
    if appointment.series_number:
        label += f" {appointment.series_number}"
    return f"{label} at {clinic_name}"


def appointment_events(
    session: Session, clinic: Clinic, appointments: list[Appointment]
) -> list[CalendarEvent]:
    rooms = {r.id: r.name for r in session.scalars(select(Room).where(Room.clinic_id == clinic.id))}
    operations = clinic_operations(clinic)
    lead = tuple(operations["reminder_lead_hours"])
    description = "Follow the preparation steps in your portal before a session."
    if operations["clinic_phone"]:
        description += f" To change this appointment, call {operations['clinic_phone']}."
    return [
        CalendarEvent(
            uid=f"{a.id}@follicle",
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            summary=appointment_summary(a, clinic.name),
            location=", ".join(filter(None, [clinic.name, rooms.get(a.room_id or "")])),
            description=description,
            cancelled=a.status == "cancelled",
            sequence=a.version - 1,
            reminder_hours_before=lead or (24,),
        )
        for a in appointments
    ]


def recipient_email(session: Session, patient: Patient) -> str | None:
    """The patient's own address, else the one they sign in to the portal with."""
    if patient.email:
        return patient.email
    account = session.scalars(
        select(UserAccount).where(UserAccount.patient_id == patient.id)
    ).first()
    return account.email if account else None


def queue(
    session: Session,
    *,
    clinic_id: str,
    kind: str,
    key: str,
    recipient: str,
    due_at: datetime,
    message: Letter,
    channel: str = "email",
    patient_id: str | None = None,
    user_id: str | None = None,
    appointment_id: str | None = None,
    ics: bytes | None = None,
) -> OutboxMessage | None:
    """Add a message unless one with the same key exists (then it is the same message)."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        return None
    row = OutboxMessage(
        id=new_id("msg"),
        clinic_id=clinic_id,
        idempotency_key=key,
        kind=kind,
        channel=channel,
        recipient=recipient,
        patient_id=patient_id,
        user_id=user_id,
        appointment_id=appointment_id,
        subject=message.subject,
        body_text=message.text,
        body_html=message.html if channel == "email" else None,
        ics=ics.decode() if ics else None,
        due_at=due_at,
        next_attempt_at=due_at,
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class _Context:
    clinic: Clinic
    patient: Patient
    zone: ZoneInfo
    email: str | None

    @property
    def greeting(self) -> str:
        return f"Dear {self.patient.full_name}"

    @property
    def sign_off(self) -> str:
        return signed(self.clinic)

    @property
    def call(self) -> str:
        return call_the_clinic(clinic_phone(self.clinic))


def _context(session: Session, patient_id: str) -> _Context:
    patient = session.get(Patient, patient_id)
    assert patient is not None
    clinic = session.get(Clinic, patient.clinic_id)
    assert clinic is not None
    return _Context(clinic, patient, ZoneInfo(clinic.time_zone), recipient_email(session, patient))


#: Messages about the patient's care, addressed from their details; an invitation or a
#: password reset goes to the address the portal account signs in with, whatever they say.
_ACCOUNT_KINDS = ("invite", "password_reset")
_ADDRESS_NAMES = {"email": "email address", "sms": "phone number"}


def readdress_pending(
    session: Session, patient_id: str, channel: str, old: str | None, new: str | None
) -> tuple[int, int]:
    """Send the patient's messages not sent yet to their new address on ``channel``, or
    cancel them when they have none: (re-addressed, cancelled). A reminder queued a week
    ahead would otherwise go to the address the patient has just said they no longer use."""
    if old is None or old == new:
        return 0, 0
    pending = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.patient_id == patient_id,
            OutboxMessage.status == "pending",
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == old,
            OutboxMessage.kind.not_in(_ACCOUNT_KINDS),
        )
    ).all()
    if new is None:
        reason = f"the patient's {_ADDRESS_NAMES[channel]} was taken off their details"
        return 0, _cancelled(pending, reason)
    for row in pending:
        row.recipient = new
    return len(pending), 0


def regreet_pending(session: Session, patient_id: str, old_name: str, new_name: str) -> int:
    """Greet the patient by their corrected name in the messages not sent yet (each opens
    with "Dear <full name>,"): a name corrected at the desk must not be misspelt again in
    next week's reminder. The number of messages changed."""
    old_text, new_text = f"Dear {old_name},", f"Dear {new_name},"
    old_html = f"<p>{html.escape(old_text)}</p>"
    new_html = f"<p>{html.escape(new_text)}</p>"
    changed = 0
    for row in session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.patient_id == patient_id, OutboxMessage.status == "pending"
        )
    ):
        if not row.body_text.startswith(old_text):
            continue  # (an SMS names nobody; an invitation greets no one by name)
        row.body_text = new_text + row.body_text[len(old_text) :]
        if row.body_html:
            row.body_html = row.body_html.replace(old_html, new_html, 1)
        changed += 1
    return changed


def cancel_review_reminder(session: Session, plan_id: str, reason: str) -> int:
    """Stop the plan's review reminder if not sent yet (the plan was stopped)."""
    return _cancel_keyed(session, f"review_due:{plan_id}:", reason)


def _cancel_keyed(session: Session, key_prefix: str, reason: str) -> int:
    pending = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.idempotency_key.startswith(key_prefix, autoescape=True),
            OutboxMessage.status == "pending",
        )
    ).all()
    return _cancelled(pending, reason)


def _cancelled(rows: Sequence[OutboxMessage], reason: str) -> int:
    """Mark messages not sent yet as cancelled, saying why (the messages page shows it)."""
    for row in rows:
        row.status = "cancelled"
        row.last_error = reason
    return len(rows)


def cancel_aftercare(session: Session, session_record_id: str, reason: str) -> int:
    """Stop the aftercare messages of a session record not sent yet (it was voided)."""
    return _cancel_keyed(session, f"aftercare:{session_record_id}:", reason)


def cancel_pending(session: Session, appointment_id: str, reason: str) -> int:
    """Stop reminders that no longer apply (the booking moved or ended)."""
    pending = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.appointment_id == appointment_id,
            OutboxMessage.status == "pending",
            OutboxMessage.kind == "reminder",
        )
    ).all()
    return _cancelled(pending, reason)


def _reminders(session: Session, ctx: _Context, appointment: Appointment, now: datetime) -> None:
    operations = clinic_operations(ctx.clinic)
    summary = appointment_summary(appointment, ctx.clinic.name)
    stamp = appointment.starts_at.strftime("%Y%m%dT%H%M")
    for lead in operations["reminder_lead_hours"]:
        # Elapsed hours, in UTC: aware local arithmetic would ignore a clock change between.
        due = appointment.starts_at.astimezone(UTC) - timedelta(hours=int(lead))
        if due <= now:
            continue  # booked inside the lead time: the confirmation says it all
        body = letter(
            f"Reminder: {summary}, {when(appointment.starts_at, ctx.zone)}",
            ctx.greeting,
            [
                f"This is a reminder of your {summary.lower()} on "
                f"{when(appointment.starts_at, ctx.zone)}.",
                "Before a session, follow the preparation steps in your portal. If you have "
                "a scalp infection, sunburn or a new medicine, tell the clinic before you come.",
                f"If you cannot come, please {ctx.call} as soon as you can.",
            ],
            ctx.sign_off,
        )
        if ctx.email:
            queue(
                session,
                clinic_id=ctx.clinic.id,
                kind="reminder",
                key=f"reminder:{appointment.id}:{stamp}:{lead}h:email",
                recipient=ctx.email,
                due_at=due,
                message=body,
                patient_id=ctx.patient.id,
                appointment_id=appointment.id,
            )
        if operations["sms_reminders"] and ctx.patient.phone:
            text = (
                f"{ctx.clinic.name}: reminder of your {summary.split(' at ')[0].lower()} on "
                f"{when(appointment.starts_at, ctx.zone)}."
            )
            if phone := clinic_phone(ctx.clinic):
                text += f" Can't come? Call {phone}."
            queue(
                session,
                clinic_id=ctx.clinic.id,
                kind="reminder",
                key=f"reminder:{appointment.id}:{stamp}:{lead}h:sms",
                recipient=ctx.patient.phone,
                due_at=due,
                message=Letter(body.subject, text, ""),
                channel="sms",
                patient_id=ctx.patient.id,
                appointment_id=appointment.id,
            )


def on_booked(session: Session, appointments: list[Appointment]) -> None:
    """A confirmation (one for a whole series, with every date and the ICS) and reminders."""
    if not appointments:
        return
    ctx = _context(session, appointments[0].patient_id)
    now = utcnow()
    for appointment in appointments:
        _reminders(session, ctx, appointment, now)
    first = appointments[0]
    booked = (
        f"your {_short(first, ctx.clinic.name)} on {when(first.starts_at, ctx.zone)}"
        if len(appointments) == 1
        else f"your {len(appointments)} sessions, the first on {when(first.starts_at, ctx.zone)}"
    )
    _texted(
        session,
        ctx,
        first,
        "confirmation",
        "confirmation:" + ",".join(a.id for a in appointments)[:170],
        f"{ctx.clinic.name}: booked {booked}."
        + (f" To change it, call {phone}." if (phone := clinic_phone(ctx.clinic)) else ""),
    )
    if not ctx.email:
        return
    lines = [
        f"{when(a.starts_at, ctx.zone)}: {appointment_summary(a, ctx.clinic.name)}"
        for a in appointments
    ]
    subject = (
        f"Booked: {appointment_summary(first, ctx.clinic.name)}"
        if len(appointments) == 1
        else f"Booked: your {len(appointments)} sessions at {ctx.clinic.name}"
    )
    body = letter(
        subject,
        ctx.greeting,
        [
            "Your booking is confirmed:",
            *lines,
            "The calendar file attached adds it to your calendar.",
        ],
        ctx.sign_off,
    )
    queue(
        session,
        clinic_id=ctx.clinic.id,
        kind="confirmation",
        key="confirmation:" + ",".join(a.id for a in appointments)[:180],
        recipient=ctx.email,
        due_at=now,
        message=body,
        patient_id=ctx.patient.id,
        appointment_id=first.id,
        ics=render_ics(
            appointment_events(session, ctx.clinic, appointments),
            ctx.clinic.time_zone,
            ctx.clinic.name,
        ),
    )


def _notice(
    session: Session,
    ctx: _Context,
    appointment: Appointment,
    kind: str,
    key: str,
    subject: str,
    paragraphs: list[str],
) -> None:
    """A notice that a booking changed, sent now, with the booking's calendar file."""
    if not ctx.email:
        return
    queue(
        session,
        clinic_id=ctx.clinic.id,
        kind=kind,
        key=key,
        recipient=ctx.email,
        due_at=utcnow(),
        message=letter(subject, ctx.greeting, paragraphs, ctx.sign_off),
        patient_id=ctx.patient.id,
        appointment_id=appointment.id,
        ics=render_ics(
            appointment_events(session, ctx.clinic, [appointment]),
            ctx.clinic.time_zone,
            ctx.clinic.name,
        ),
    )


def _texted(
    session: Session,
    ctx: _Context,
    appointment: Appointment,
    kind: str,
    key: str,
    text: str,
) -> None:
    """The notice by text message too, when the clinic texts its patients and this one has a
    mobile number: a patient with no email address heard nothing of a visit cancelled (by a
    stopped plan, say) and came to the clinic for it."""
    if not (clinic_operations(ctx.clinic)["sms_reminders"] and ctx.patient.phone):
        return
    queue(
        session,
        clinic_id=ctx.clinic.id,
        kind=kind,
        key=key + ":sms",
        recipient=ctx.patient.phone,
        due_at=utcnow(),
        message=Letter(text, text, ""),
        channel="sms",
        patient_id=ctx.patient.id,
        appointment_id=appointment.id,
    )


def _short(appointment: Appointment, clinic_name: str) -> str:
    """``consultation``, ``scalp microneedling session 3``: the visit in a text message."""
    return appointment_summary(appointment, clinic_name).split(" at ")[0].lower()


def on_rescheduled(session: Session, appointment: Appointment, before: datetime) -> None:
    cancel_pending(session, appointment.id, "rescheduled")
    ctx = _context(session, appointment.patient_id)
    _reminders(session, ctx, appointment, utcnow())
    summary = appointment_summary(appointment, ctx.clinic.name)
    now_at = when(appointment.starts_at, ctx.zone)
    _notice(
        session,
        ctx,
        appointment,
        "rescheduled",
        f"rescheduled:{appointment.id}:{appointment.starts_at:%Y%m%dT%H%M}",
        f"Moved: {summary}, now {now_at}",
        [
            f"Your {summary.lower()} has moved from {when(before, ctx.zone)} to {now_at}.",
            "The calendar file attached updates your calendar.",
        ],
    )
    _texted(
        session,
        ctx,
        appointment,
        "rescheduled",
        f"rescheduled:{appointment.id}:{appointment.starts_at:%Y%m%dT%H%M}",
        f"{ctx.clinic.name}: your {_short(appointment, ctx.clinic.name)} has moved from "
        f"{when(before, ctx.zone)} to {now_at}.",
    )


def on_cancelled(session: Session, appointment: Appointment) -> None:
    cancel_pending(session, appointment.id, appointment.status)
    if appointment.status != "cancelled" or appointment.starts_at <= utcnow():
        return
    ctx = _context(session, appointment.patient_id)
    summary = appointment_summary(appointment, ctx.clinic.name)
    at = when(appointment.starts_at, ctx.zone)
    reason = f" Reason: {appointment.status_reason}." if appointment.status_reason else ""
    _notice(
        session,
        ctx,
        appointment,
        "cancelled",
        f"cancelled:{appointment.id}",
        f"Cancelled: {summary}, {at}",
        [
            f"Your {summary.lower()} on {at} is cancelled.{reason}",
            "The calendar file attached removes it from your calendar. To book another time, "
            f"{ctx.call}.",
        ],
    )
    _texted(
        session,
        ctx,
        appointment,
        "cancelled",
        f"cancelled:{appointment.id}",
        f"{ctx.clinic.name}: your {_short(appointment, ctx.clinic.name)} on {at} is cancelled. "
        f"To book another time, {ctx.call}.",
    )


def on_problem_reviewed(session: Session, event: AdverseEvent, plan_status: str | None) -> None:
    """Tell a patient who reported a problem from the portal that the clinic has reviewed it
    (graded or cleared it), and what it means for their treatment. The email says no more
    than that: the details are in the portal, behind their sign-in."""
    reporter = session.get(UserAccount, event.reported_by_id)
    if reporter is None or reporter.role != "patient":
        return  # (the clinic recorded it: the clinician tells the patient)
    ctx = _context(session, event.patient_id)
    if not ctx.email:
        return
    reported_on = event.created_at.astimezone(ctx.zone)
    treatment = {
        "on_hold": "Your treatment stays paused for now; the clinic will contact you about "
        "what happens next.",
        "approved": "Your treatment can go on as planned.",
    }.get(plan_status or "", "")
    queue(
        session,
        clinic_id=ctx.clinic.id,
        kind="problem_reviewed",
        key=f"problem_reviewed:{event.id}:{event.version}",
        recipient=ctx.email,
        due_at=utcnow(),
        message=letter(
            "Your clinic has reviewed the problem you reported",
            ctx.greeting,
            [
                p
                for p in (
                    f"Your clinic has looked at the problem you reported on {reported_on:%-d %B}.",
                    treatment,
                    "You can see where it stands in your portal, under Problems on my record. "
                    f"If it gets worse, {ctx.call}.",
                )
                if p
            ],
            ctx.sign_off,
        ),
        patient_id=ctx.patient.id,
    )


def on_session_recorded(session: Session, record: SessionRecord, plan: Plan) -> None:
    """One message per point of the aftercare timeline still ahead, with what starts then."""
    ctx = _context(session, record.patient_id)
    if not ctx.email:
        return
    points: dict[int, list[str]] = {}
    for item in plan.document.get("aftercare", []):
        points.setdefault(int(item["from_hours"]), []).append(str(item["instruction"]))
    now = utcnow()
    for hours, instructions in sorted(points.items()):
        due = record.performed_at.astimezone(UTC) + timedelta(hours=hours)
        if due < now - timedelta(hours=1):
            continue  # a session entered afterwards: its past advice is no use now
        label = (
            "today" if hours == 0 else (f"{hours} hours on" if hours < 48 else f"day {hours // 24}")
        )
        queue(
            session,
            clinic_id=ctx.clinic.id,
            kind="aftercare",
            key=f"aftercare:{record.id}:{hours}h",
            recipient=ctx.email,
            due_at=max(due, now),
            message=letter(
                f"Aftercare after your session ({label})",
                ctx.greeting,
                [
                    f"Aftercare from {when(due, ctx.zone)}:",
                    *instructions,
                    "If you have spreading redness, pus, fever or pain that gets worse, "
                    f"{ctx.call} the same day (or report it in your portal).",
                ],
                ctx.sign_off,
            ),
            patient_id=ctx.patient.id,
        )


def on_plan_approved(session: Session, plan: Plan) -> None:
    """The follow-up review reminder, a week before the review date."""
    if plan.review_on is None:
        return
    ctx = _context(session, plan.patient_id)
    if not ctx.email:
        return
    due = datetime.combine(
        plan.review_on - timedelta(days=REVIEW_NOTICE_DAYS), time(9, 0), ctx.zone
    ).astimezone(UTC)
    queue(
        session,
        clinic_id=ctx.clinic.id,
        kind="review_due",
        key=f"review_due:{plan.id}:{plan.review_on.isoformat()}",
        recipient=ctx.email,
        due_at=max(due, utcnow()),
        message=letter(
            f"Time to book your follow-up review at {ctx.clinic.name}",
            ctx.greeting,
            [
                f"Your plan's review is due on {plan.review_on:%A} {plan.review_on.day} "
                f"{plan.review_on:%B %Y}. At the review the clinic measures the same scalp "
                "area as at the start, so you can see the change.",
                f"If you have not booked it yet, please {ctx.call} to book it.",
            ],
            ctx.sign_off,
        ),
        patient_id=ctx.patient.id,
    )
