"""SQLAlchemy models for every Follicle record."""

from follicle.records.models.accounts import Clinic, LoginSession, Room, UserAccount
from follicle.records.models.audit import AuditEntry, AuditHead
from follicle.records.models.base import Base, new_id, utcnow
from follicle.records.models.care import (
    AdverseEvent,
    Appointment,
    Image,
    Measurement,
    SessionRecord,
)
from follicle.records.models.clinical import (
    Consent,
    ConsentText,
    Intake,
    Patient,
    Plan,
    ScreeningResult,
)

__all__ = [
    "AdverseEvent",
    "Appointment",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Clinic",
    "Consent",
    "ConsentText",
    "Image",
    "Intake",
    "LoginSession",
    "Measurement",
    "Patient",
    "Plan",
    "Room",
    "ScreeningResult",
    "SessionRecord",
    "UserAccount",
    "new_id",
    "utcnow",
]
