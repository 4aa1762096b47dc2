"""Care delivered and measured: appointments, sessions, images, measurements, adverse events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from follicle.records.models.base import (
    Base,
    ClinicOwned,
    Timestamped,
    Versioned,
    Voidable,
    one_of,
)
from follicle.records.models.vocab import (
    ADVERSE_EVENT_CATEGORIES,
    ADVERSE_EVENT_STATUSES,
    APPOINTMENT_KINDS,
    APPOINTMENT_REQUEST_STATUSES,
    APPOINTMENT_STATUSES,
    ENDPOINTS,
    IMAGE_KINDS,
    PHOTO_VIEWS,
    SCALP_REGIONS,
)

USER_FK = "user_account.id"
PATIENT_FK = "patient.id"


class Appointment(ClinicOwned, Timestamped, Versioned, Base):
    __tablename__ = "appointment"
    __table_args__ = (
        one_of("kind", APPOINTMENT_KINDS),
        one_of("status", APPOINTMENT_STATUSES),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_appointment_clinic_starts", "clinic_id", "starts_at"),
        Index("ix_appointment_practitioner_starts", "practitioner_id", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey(PATIENT_FK), index=True)
    practitioner_id: Mapped[str] = mapped_column(String(40), ForeignKey(USER_FK))
    room_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("room.id"))
    plan_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("plan.id"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="booked")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    series_number: Mapped[int | None] = mapped_column(default=None)
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    #: Who cancelled it or marked it a no-show, and when: a patient's own cancellation from
    #: the portal is a slot for the desk to fill and a visit to book again.
    status_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    status_changed_by_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey(USER_FK), default=None
    )


class AppointmentRequest(ClinicOwned, Timestamped, Versioned, Base):
    """A patient asking from the portal for a visit, in their words ("weekday mornings"),
    often instead of one they cancelled: the desk's worklist shows it until it is answered."""

    __tablename__ = "appointment_request"
    __table_args__ = (
        one_of("kind", APPOINTMENT_KINDS),
        one_of("status", APPOINTMENT_REQUEST_STATUSES),
        Index("ix_appointment_request_clinic_status", "clinic_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey(PATIENT_FK), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: When would suit the patient, as they wrote it.
    preferred_times: Mapped[str] = mapped_column(Text)
    #: The visit the patient cancelled when they asked (None: asked on its own).
    instead_of_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("appointment.id"), default=None
    )
    requested_by_id: Mapped[str] = mapped_column(String(40), ForeignKey(USER_FK))
    status: Mapped[str] = mapped_column(String(20), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK), default=None)
    #: Why the desk answered it without booking ("called: she will ring after her holiday").
    closed_reason: Mapped[str | None] = mapped_column(Text, default=None)
    #: The visit booked for it.
    booked_appointment_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("appointment.id"), default=None
    )


class SessionRecord(ClinicOwned, Timestamped, Versioned, Voidable, Base):
    """One microneedling session as performed."""

    __tablename__ = "session_record"
    __table_args__ = (
        one_of("endpoint", ENDPOINTS),
        CheckConstraint("pain_score BETWEEN 0 AND 10", name="pain_score_0_10"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey(PATIENT_FK), index=True)
    plan_id: Mapped[str] = mapped_column(String(40), ForeignKey("plan.id"))
    appointment_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("appointment.id"))
    performed_by_id: Mapped[str] = mapped_column(String(40), ForeignKey(USER_FK))
    performed_at: Mapped[datetime]
    #: The registered lot used; device name, lot number and expiry are copied from the
    #: registry when the session is recorded, so the record reads the same if the registry
    #: changes later.
    lot_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("cartridge_lot.id"), index=True, default=None
    )
    device_name: Mapped[str] = mapped_column(String(200))

    cartridge_lot: Mapped[str] = mapped_column(String(80), index=True)
    cartridge_expiry: Mapped[date]
    depth_mm_by_region: Mapped[dict[str, Any]]
    endpoint: Mapped[str] = mapped_column(String(30))
    pain_score: Mapped[int | None] = mapped_column(default=None)
    pre_session_check: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reactions: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class Image(ClinicOwned, Timestamped, Voidable, Base):
    """A stored image, by content hash, outside the web root."""

    __tablename__ = "image"
    __table_args__ = (
        one_of("kind", IMAGE_KINDS),
        one_of("view", PHOTO_VIEWS),
        one_of("site", SCALP_REGIONS),
        CheckConstraint("kind <> 'trichoscopy' OR um_per_px > 0", name="trichoscopy_has_scale"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey(PATIENT_FK), index=True)
    session_record_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("session_record.id")
    )
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    view: Mapped[str | None] = mapped_column(String(20))
    site: Mapped[str | None] = mapped_column(String(20))
    um_per_px: Mapped[float | None] = mapped_column(default=None)
    # the measured scale um_per_px came from (None: typed at upload)
    dermoscope_scale_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("dermoscope_scale.id"), default=None
    )
    media_type: Mapped[str] = mapped_column(String(40))
    width_px: Mapped[int]
    height_px: Mapped[int]
    taken_at: Mapped[datetime]
    uploaded_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK))
    released_to_patient: Mapped[bool] = mapped_column(default=False)


class Measurement(ClinicOwned, Timestamped, Voidable, Base):
    """Trichoscopy numbers for one image (contracts §4), with the columns we query on."""

    __tablename__ = "measurement"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey(PATIENT_FK), index=True)
    image_id: Mapped[str] = mapped_column(String(40), ForeignKey("image.id"), index=True)
    site: Mapped[str | None] = mapped_column(String(20))
    measured_at: Mapped[datetime]
    hair_count: Mapped[int]
    area_cm2: Mapped[float]
    density_per_cm2: Mapped[float]
    terminal_count: Mapped[int]
    vellus_count: Mapped[int]
    vellus_threshold_um: Mapped[float]
    mean_diameter_um: Mapped[float | None] = mapped_column(default=None)
    diameter_cv: Mapped[float | None] = mapped_column(default=None)
    result: Mapped[dict[str, Any]]
    analyser_version: Mapped[str] = mapped_column(String(40))


def image_warnings_of(result: dict[str, Any]) -> list[str]:
    """What in a measurement's image may cost its count, as read at upload, from its stored
    ``result`` (a model's or a plain row's; none for measurements from before session 13)."""
    return list(result.get("image_warnings") or [])


class AdverseEvent(ClinicOwned, Timestamped, Versioned, Voidable, Base):
    """An adverse event, CTCAE-style grade 1–5; a serious one holds the plan."""

    __tablename__ = "adverse_event"
    __table_args__ = (
        one_of("category", ADVERSE_EVENT_CATEGORIES),
        one_of("status", ADVERSE_EVENT_STATUSES),
        CheckConstraint("grade BETWEEN 1 AND 5", name="grade_1_5"),
        one_of("reported_category", ADVERSE_EVENT_CATEGORIES),
        CheckConstraint("reported_grade BETWEEN 1 AND 5", name="reported_grade_1_5"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey(PATIENT_FK), index=True)
    session_record_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("session_record.id")
    )
    # The category and grade as a practitioner last graded them (as reported until then):
    # what holds the plan and what reports count.
    category: Mapped[str] = mapped_column(String(30))
    grade: Mapped[int]
    serious: Mapped[bool]
    description: Mapped[str] = mapped_column(Text)
    onset_on: Mapped[date]
    reported_by_id: Mapped[str] = mapped_column(String(40), ForeignKey(USER_FK))
    status: Mapped[str] = mapped_column(String(20), default="open")
    cleared_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK))
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)
    clearance_note: Mapped[str | None] = mapped_column(Text)
    # As first reported (a patient grades their own problem in plain words), kept when a
    # practitioner grades the event; None until then.
    reported_category: Mapped[str | None] = mapped_column(String(30), default=None)
    reported_grade: Mapped[int | None] = mapped_column(default=None)
    graded_by_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(USER_FK))
    graded_at: Mapped[datetime | None] = mapped_column(default=None)
    grading_note: Mapped[str | None] = mapped_column(Text)


class PatientOutcome(ClinicOwned, Timestamped, Base):
    """The patient's own view of the change since treatment began, on the catalogue's
    seven-point scale (-3 greatly decreased … +3 greatly increased); kept as answered."""

    __tablename__ = "patient_outcome"
    __table_args__ = (CheckConstraint("change_score BETWEEN -3 AND 3", name="change_score_range"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(40), ForeignKey(PATIENT_FK), index=True)
    answered_at: Mapped[datetime]
    change_score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    #: Who recorded it: the patient's portal account, or the practitioner who asked at a visit.
    recorded_by_id: Mapped[str] = mapped_column(String(40), ForeignKey(USER_FK))
