"""Closed vocabularies stored in the records (contracts §6–7 and the intake schema)."""

from __future__ import annotations

from follicle.clinic.vocabulary import (
    CREDENTIALS,
    ENDPOINTS,
    PHOTO_VIEWS,
    SCALP_REGIONS,
    SCREENING_DECISIONS,
    SEX_AT_BIRTH,
)

__all__ = [
    "ADVERSE_EVENT_CATEGORIES",
    "ADVERSE_EVENT_STATUSES",
    "APPOINTMENT_KINDS",
    "APPOINTMENT_REQUEST_STATUSES",
    "APPOINTMENT_STATUSES",
    "CONSENT_KINDS",
    "CONSENT_REPRESENTATIVES",
    "CREDENTIALS",
    "ENDPOINTS",
    "IMAGE_KINDS",
    "LOGIN_KINDS",
    "PHOTO_VIEWS",
    "PLAN_STATUSES",
    "ROLES",
    "SCALP_REGIONS",
    "SCREENING_DECISIONS",
    "SEX_AT_BIRTH",
]

LOGIN_KINDS = ("cookie", "bearer")
ROLES = ("admin", "practitioner", "front_desk", "patient")
CONSENT_KINDS = ("treatment", "photo_use")
#: Who may sign a consent for the patient: a parent or legal guardian for a minor, a
#: healthcare proxy (power of attorney for health) for an adult who cannot consent.
CONSENT_REPRESENTATIVES = ("parent", "legal_guardian", "healthcare_proxy")
PLAN_STATUSES = ("proposed", "approved", "on_hold", "completed", "stopped")
APPOINTMENT_KINDS = ("consultation", "session", "follow_up")
APPOINTMENT_STATUSES = ("booked", "completed", "cancelled", "no_show")
#: A patient's request for a visit: open until the desk books one of the kind (booked), the
#: patient takes it back (withdrawn) or the desk answers it otherwise (closed, with why).
APPOINTMENT_REQUEST_STATUSES = ("open", "booked", "withdrawn", "closed")
IMAGE_KINDS = ("photo", "trichoscopy")
ADVERSE_EVENT_CATEGORIES = (
    "erythema_prolonged",
    "edema",
    "pain",
    "bleeding",
    "infection",
    "hyperpigmentation",
    "hypopigmentation",
    "scarring",
    "contact_dermatitis",
    "granuloma",
    "headache",
    "hair_shedding",
    "other",
)
ADVERSE_EVENT_STATUSES = ("open", "cleared")
MESSAGE_KINDS = (
    "reminder",
    "confirmation",
    "rescheduled",
    "cancelled",
    "aftercare",
    "review_due",
    "invite",
    "password_reset",
    "problem_reviewed",
    # sent by the clinic to the patients who opted in to them (portal → Messages I want)
    "update",
    "education",
)
MESSAGE_CHANNELS = ("email", "sms")
MESSAGE_STATUSES = ("pending", "sending", "sent", "failed", "cancelled", "skipped")
ACCOUNT_TOKEN_PURPOSES = ("invite", "password_reset")
