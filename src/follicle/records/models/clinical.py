"""The patient's clinical record: identity, intake, screening, consent and plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from follicle.records.models.base import (
    Base,
    ClinicOwned,
    JSONDocument,
    Timestamped,
    Versioned,
    Voidable,
    one_of,
)
from follicle.records.models.vocab import (
    CONSENT_KINDS,
    CONSENT_REPRESENTATIVES,
    PLAN_STATUSES,
    SCREENING_DECISIONS,
    SEX_AT_BIRTH,
)
from follicle.records.names import search_name

USER_FK = "user_account.id"
LIVE_AMENDMENT = "amends_id IS NOT NULL AND voided_at IS NULL"


class Patient(ClinicOwned, Timestamped, Versioned, Voidable, Base):
    __tablename__ = "patient"
    __table_args__ = (
        one_of("sex_at_birth", SEX_AT_BIRTH),
        Index("ix_patient_clinic_name", "clinic_id", "family_name", "given_name"),
        Index("ix_patient_clinic_search_name", "clinic_id", "search_name"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    sex_at_birth: Mapped[str] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    #: Opt-ins from the portal; clinical reminders are not marketing and need neither.
    education_opt_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    updates_opt_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Clinical messages the patient asked not to get (reminder, aftercare, review_due).
    message_opt_outs: Mapped[list[str]] = mapped_column(
        JSONDocument, default=list, server_default="[]"
    )
    #: The name as the search compares it (records/names.py), kept by the hook below.
    search_name: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def full_name(self) -> str:
        """Given name first, as letters, the portal and a consent's signature use it."""
        return f"{self.given_name} {self.family_name}"


@event.listens_for(Patient, "before_insert")
@event.listens_for(Patient, "before_update")
def _keep_search_name(_mapper: Any, _connection: Any, patient: Patient) -> None:
    patient.search_name = search_name(patient.given_name, patient.family_name)


class Intake(ClinicOwned, Timestamped, Voidable, Base):
    """A validated ``follicle.intake/1`` document; amendments are new rows that point back."""

    __tablename__ = "intake"
    __table_args__ = (
        # One live amendment per intake, so concurrent amendments cannot fork the history.
        Index(
            "uq_intake_amends_live",
            "amends_id",
            unique=True,
            sqlite_where=text(LIVE_AMENDMENT),
            postgresql_where=text(LIVE_AMENDMENT),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey("patient.id"), index=True)
    document: Mapped[dict[str, Any]]
    working_diagnosis: Mapped[str] = mapped_column(String(40))
    recorded_on: Mapped[date]
    amends_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("intake.id"))
    amend_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK))


class ScreeningResult(ClinicOwned, Timestamped, Voidable, Base):
    __tablename__ = "screening_result"
    __table_args__ = (one_of("decision", SCREENING_DECISIONS),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey("patient.id"), index=True)
    intake_id: Mapped[str] = mapped_column(String(40), ForeignKey("intake.id"), index=True)
    decision: Mapped[str] = mapped_column(String(30))
    result: Mapped[dict[str, Any]]
    rules_version: Mapped[str] = mapped_column(String(40))
    screened_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK))


class ConsentText(ClinicOwned, Timestamped, Base):
    """A published version of a consent text; a new version requires signing again."""

    __tablename__ = "consent_text"
    __table_args__ = (
        one_of("kind", CONSENT_KINDS),
        UniqueConstraint("clinic_id", "kind", "version_number"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    version_number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]


class Consent(ClinicOwned, Timestamped, Versioned, Base):
    """A signature on one consent text version; withdrawal keeps the record."""

    __tablename__ = "consent"
    __table_args__ = (one_of("representative", CONSENT_REPRESENTATIVES),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey("patient.id"), index=True)
    consent_text_id: Mapped[str] = mapped_column(String(40), ForeignKey("consent_text.id"))
    signed_at: Mapped[datetime]
    signed_name: Mapped[str] = mapped_column(String(200))
    #: How the signer is related to the patient when they signed for them (a parent for a
    #: minor); None when the patient signed.
    representative: Mapped[str | None] = mapped_column(String(20), default=None)
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    witnessed_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK))
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class Plan(ClinicOwned, Timestamped, Versioned, Voidable, Base):
    """A treatment plan (contracts §3 ``plan`` object) and where it stands."""

    __tablename__ = "plan"
    __table_args__ = (
        one_of("status", PLAN_STATUSES),
        Index("ix_plan_clinic_status_review", "clinic_id", "status", "review_on"),  # worklist
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey("patient.id"), index=True)
    screening_id: Mapped[str] = mapped_column(String(40), ForeignKey("screening_result.id"))
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    document: Mapped[dict[str, Any]]
    indication: Mapped[str] = mapped_column(String(40))
    needle_depth_mm: Mapped[float]
    interval_days: Mapped[int]
    sessions_planned: Mapped[int]
    review_on: Mapped[date | None] = mapped_column(default=None)
    override_reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK))
    approved_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK))
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    #: Stopped by a practitioner's decision (the patient stops, a new contraindication): the
    #: sessions still booked for it are cancelled, and another plan may be proposed.
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
    stopped_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK))
    stop_reason: Mapped[str | None] = mapped_column(Text)
