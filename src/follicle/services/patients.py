"""Finding, registering and correcting patients."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, select
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.records import audit
from follicle.records.models import Patient, ScreeningResult, UserAccount, new_id
from follicle.records.names import folded, search_name
from follicle.services.accounts import account_status
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.commands import NewPatient, PatientDetails
from follicle.services.common import (
    audit_read,
    audit_write,
    check_version,
    clinic_today,
    load_patient,
)
from follicle.services.database import Database
from follicle.services.errors import NotFound
from follicle.services.messages import readdress_pending, recipient_email, regreet_pending

OLDEST_AGE_YEARS = 130  # a date of birth further back is a typing error, not a patient

MAX_LIST = 200


@dataclass(frozen=True)
class PatientSummary:
    id: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex_at_birth: str
    screening_decision: str | None = None
    #: The patient's portal account: none, invited, active or deactivated.
    portal: str = "none"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def age_on(born: date, on: date) -> int:
    """Whole years of age on a day.

    >>> age_on(date(1986, 6, 23), date(2026, 6, 22)), age_on(date(1986, 6, 23), date(2026, 6, 23))
    (39, 40)
    """
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _summary(patient: Patient, screening_decision: str | None = None) -> PatientSummary:
    return PatientSummary(
        id=patient.id,
        given_name=patient.given_name,
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth,
        sex_at_birth=patient.sex_at_birth,
        screening_decision=screening_decision,
    )


@cache
def _search(by_name: bool, by_birth: bool) -> Select[Any]:
    """The search, built once per kind of search (see chart._rows_statement): one statement
    for the page of patients, each with their latest screening decision and portal account."""
    page = (
        select(
            Patient.id,
            Patient.given_name,
            Patient.family_name,
            Patient.date_of_birth,
            Patient.sex_at_birth,
            Patient.search_name,
        )
        .where(Patient.clinic_id == bindparam("clinic_id"), Patient.voided_at.is_(None))
        .order_by(Patient.search_name, Patient.id)  # (by family name, as read: names.py)
        .limit(MAX_LIST)
    )
    if by_name:  # (without case or accents, either name first: records/names.py)
        pattern: BindParameter[str] = bindparam("pattern")
        page = page.where(Patient.search_name.like(pattern, escape="\\"))
    if by_birth:
        page = page.where(Patient.date_of_birth == bindparam("date_of_birth"))
    # The page is cut first, so the decision is looked up for the patients shown only.
    found = page.subquery("found")
    decision = (
        select(ScreeningResult.decision)
        .where(ScreeningResult.patient_id == found.c.id, ScreeningResult.voided_at.is_(None))
        .order_by(ScreeningResult.created_at.desc(), ScreeningResult.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            found,
            decision.label("screening_decision"),
            UserAccount.id.label("account_id"),
            UserAccount.active,
            UserAccount.password_hash,
        )
        .outerjoin(UserAccount, UserAccount.patient_id == found.c.id)  # one account at most
        .order_by(found.c.search_name, found.c.id)
    )


def list_patients(
    db: Database, actor: Actor, name_contains: str = "", date_of_birth: date | None = None
) -> list[PatientSummary]:
    """The actor's clinic's patients, by family name; the read is audited with the ids shown."""
    authorize(actor, Permission.PATIENT_LIST)
    needle = folded(name_contains)
    # The search is for the text as typed: % and _ are letters here, not wildcards.
    literal = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    values = {
        "clinic_id": actor.clinic_id,
        "pattern": f"%{literal}%",
        "date_of_birth": date_of_birth,
    }
    with db.transaction() as session:
        rows: Any = session.connection().execute(  # rows, read by attribute as models are
            _search(bool(needle), date_of_birth is not None), values
        )
        patients = [
            replace(
                _summary(row, row.screening_decision),
                portal=account_status(row) if row.account_id else "none",
            )
            for row in rows
        ]
        audit.append(
            session,
            actor=actor.audit_name,
            action="patient.list",
            resource_type="patient",
            clinic_id=actor.clinic_id,
            client_address=actor.client_address,
            detail={"ids": [p.id for p in patients]},
        )
    return patients


def get_patient(db: Database, actor: Actor, patient_id: str) -> PatientSummary:
    """One patient, if the actor may see them; otherwise NotFound, as if absent."""
    with db.transaction() as session:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.voided_at is not None:
            raise NotFound
        authorize(
            actor, Permission.PATIENT_READ, clinic_id=patient.clinic_id, patient_id=patient.id
        )
        audit.append(
            session,
            actor=actor.audit_name,
            action="patient.read",
            resource_type="patient",
            resource_id=patient.id,
            clinic_id=patient.clinic_id,
            client_address=actor.client_address,
        )
        return _summary(patient)


def patient_view(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.id,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex_at_birth": patient.sex_at_birth,
        "email": patient.email,
        "phone": patient.phone,
        "version": patient.version,
        "created_at": patient.created_at.isoformat(),
    }


def create_patient(
    db: Database, actor: Actor, new: NewPatient, today: date | None = None
) -> dict[str, Any]:
    """Register a patient in the actor's clinic."""
    authorize(actor, Permission.PATIENT_CREATE)
    if actor.clinic_id is None:
        raise InputInvalid([FieldError("", "patients are registered by a clinic's staff")])
    with db.transaction() as session:
        _check_birth(new.date_of_birth, today or clinic_today(session, actor.clinic_id))
        same = None if new.not_a_duplicate else _registered_already(session, actor.clinic_id, new)
        if same is None:
            patient = Patient(id=new_id("pat"), clinic_id=actor.clinic_id, **_details_of(new))
            session.add(patient)
            session.flush()
            audit_write(session, actor, "patient.create", "patient", patient.id, patient.clinic_id)
            return patient_view(patient)
        refusal = _shown_duplicate(session, actor, same)
    raise refusal


def _details_of(new: NewPatient) -> dict[str, Any]:
    """The registration details as the record holds them."""
    return {
        "given_name": new.given_name,
        "family_name": new.family_name,
        "date_of_birth": new.date_of_birth,
        "sex_at_birth": new.sex_at_birth,
        **contact_of(new.email, new.phone),
    }


def contact_of(email: object, phone: str | None) -> dict[str, str | None]:
    """An email address and phone number as the record holds them (none: None)."""
    return {"email": str(email) if email else None, "phone": phone or None}


def _shown_duplicate(session: Session, actor: Actor, same: Patient) -> PossibleDuplicate:
    """The refusal, which shows who is registered already: a read, audited (raised after the
    transaction, so nothing else is written)."""
    audit_read(
        session, actor, "patient.duplicate_shown", "patient", same.clinic_id, [same.id], same.id
    )
    return PossibleDuplicate(same)


def _check_birth(born: date, today: date) -> None:
    if born > today:
        raise InputInvalid([FieldError("/date_of_birth", "is in the future")])
    if today.year - born.year > OLDEST_AGE_YEARS:
        raise InputInvalid(
            [FieldError("/date_of_birth", f"is more than {OLDEST_AGE_YEARS} years ago")]
        )


def update_patient(
    db: Database,
    actor: Actor,
    patient_id: str,
    details: PatientDetails,
    expected_version: int | None,
    today: date | None = None,
) -> dict[str, Any]:
    """Correct a patient's registration details (a misspelt name, a new phone number).

    The audit entry keeps what each changed field read before, so nothing is lost; messages
    not sent yet go to the new address. A correction that makes the patient match another
    registered patient is refused as a registration would be (:class:`PossibleDuplicate`)."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.PATIENT_UPDATE)
        check_version(patient, expected_version, patient_view)
        _check_birth(details.date_of_birth, today or clinic_today(session, patient.clinic_id))
        wanted = _details_of(details)
        changed = {k: v for k, v in wanted.items() if getattr(patient, k) != v}
        if not changed:
            return patient_view(patient)
        same = None
        identity = {"given_name", "family_name", "date_of_birth"} & changed.keys()
        if identity and not details.not_a_duplicate:
            same = _registered_already(session, patient.clinic_id, details, patient.id)
        if same is None:
            apply_changes(session, actor, patient, changed)
            return patient_view(patient)
        refusal = _shown_duplicate(session, actor, same)
    raise refusal


def apply_changes(
    session: Session, actor: Actor, patient: Patient, changed: dict[str, Any]
) -> None:
    """Write the changed details, re-address what is waiting to be sent, and audit it all
    (``patient.update``, with what each field read before)."""
    was = {k: getattr(patient, k) for k in changed}
    old_email = recipient_email(session, patient)
    for field, value in changed.items():
        setattr(patient, field, value)
    session.flush()
    emails = readdress_pending(
        session, patient.id, "email", old_email, recipient_email(session, patient)
    )
    texts = readdress_pending(session, patient.id, "sms", was.get("phone"), patient.phone)
    regreeted = 0
    if {"given_name", "family_name"} & changed.keys():
        old_name = f"{was.get('given_name', patient.given_name)} "
        old_name += str(was.get("family_name", patient.family_name))
        regreeted = regreet_pending(session, patient.id, old_name, patient.full_name)
        account = session.scalars(
            select(UserAccount).where(UserAccount.patient_id == patient.id)
        ).first()
        if account is not None:  # (the portal greets them by name; it signs in by email)
            account.display_name = patient.full_name
    audit_write(
        session,
        actor,
        "patient.update",
        "patient",
        patient.id,
        patient.clinic_id,
        {
            "changed": {
                k: {"from": _plain(was[k]), "to": _plain(changed[k])} for k in sorted(changed)
            },
            "messages_readdressed": emails[0] + texts[0],
            "messages_cancelled": emails[1] + texts[1],
            "messages_regreeted": regreeted,
        },
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


class PossibleDuplicate(InputInvalid):
    """A patient with this name and date of birth is registered already: a second chart for
    one person splits their record (a contraindication on one, the sessions on the other)."""

    def __init__(self, patient: Patient) -> None:
        self.patient_id = patient.id
        super().__init__(
            [
                FieldError(
                    "/not_a_duplicate",
                    f"{patient.given_name} {patient.family_name}, born "
                    f"{patient.date_of_birth.isoformat()}, is registered already "
                    f"({patient.id}): open that chart, or confirm this is another person",
                )
            ]
        )


def _registered_already(
    session: Session, clinic_id: str, new: NewPatient, other_than: str = ""
) -> Patient | None:
    """A live patient of the clinic (other than ``other_than``) with the same date of birth
    and name, without case or accents, either name first (a given and family name entered
    the other way round)."""
    keys = {
        search_name(new.given_name, new.family_name),
        search_name(new.family_name, new.given_name),
    }
    return session.scalars(
        select(Patient)
        .where(
            Patient.clinic_id == clinic_id,
            Patient.date_of_birth == new.date_of_birth,
            Patient.search_name.in_(sorted(keys)),
            Patient.voided_at.is_(None),
            Patient.id != other_than,
        )
        .order_by(Patient.created_at, Patient.id)
    ).first()


def read_patient(db: Database, actor: Actor, patient_id: str) -> dict[str, Any]:
    """One patient's registration details (audited)."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.PATIENT_READ)
        audit_read(session, actor, "patient.read", "patient", patient.clinic_id, [patient.id])
        return patient_view(patient)
