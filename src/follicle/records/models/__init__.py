"""SQLAlchemy models for every Follicle record."""

from follicle.records.models.accounts import Clinic, LoginSession, Room, UserAccount
from follicle.records.models.audit import AuditEntry, AuditHead
from follicle.records.models.base import Base, new_id, utcnow
from follicle.records.models.care import (
    AdverseEvent,
    Appointment,
    AppointmentRequest,
    Image,
    Measurement,
    PatientOutcome,
    SessionRecord,
    image_warnings_of,
)
from follicle.records.models.clinical import (
    Consent,
    ConsentText,
    Intake,
    Patient,
    Plan,
    ScreeningResult,
)
from follicle.records.models.operations import (
    AccountToken,
    CartridgeLot,
    DermoscopeScale,
    Device,
    OutboxMessage,
)

__all__ = [
    "AccountToken",
    "AdverseEvent",
    "Appointment",
    "AppointmentRequest",
    "AuditEntry",
    "AuditHead",
    "Base",
    "CartridgeLot",
    "Clinic",
    "Consent",
    "ConsentText",
    "DermoscopeScale",
    "Device",
    "Image",
    "Intake",
    "LoginSession",
    "Measurement",
    "OutboxMessage",
    "Patient",
    "PatientOutcome",
    "Plan",
    "Room",
    "ScreeningResult",
    "SessionRecord",
    "UserAccount",
    "image_warnings_of",
    "new_id",
    "utcnow",
]
