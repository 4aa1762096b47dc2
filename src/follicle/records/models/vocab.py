"""Closed vocabularies stored in the records (contracts §6–7 and the intake schema)."""

from __future__ import annotations

ROLES = ("admin", "practitioner", "front_desk", "patient")
CREDENTIALS = (
    "dermatologist",
    "physician",
    "nurse_practitioner",
    "registered_nurse",
    "licensed_aesthetician",
    "unlicensed",
)
SEX_AT_BIRTH = ("female", "male", "intersex")
SCREENING_DECISIONS = (
    "eligible",
    "eligible_with_cautions",
    "defer",
    "refer",
    "contraindicated",
)
CONSENT_KINDS = ("treatment", "photo_use")
PLAN_STATUSES = ("proposed", "approved", "on_hold", "completed", "stopped")
APPOINTMENT_KINDS = ("consultation", "session", "follow_up")
APPOINTMENT_STATUSES = ("booked", "completed", "cancelled", "no_show")
ENDPOINTS = ("mild_erythema", "pinpoint_bleeding")
IMAGE_KINDS = ("photo", "trichoscopy")
PHOTO_VIEWS = ("frontal", "vertex", "midline_part", "left_temporal", "right_temporal", "occipital")
SCALP_REGIONS = ("frontal", "midscalp", "vertex", "left_temporal", "right_temporal", "occipital")
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
