"""Closed vocabularies shared by the clinical engine and the records (contracts §6-7)."""

from __future__ import annotations

CREDENTIALS = (
    "dermatologist",
    "physician",
    "nurse_practitioner",
    "registered_nurse",
    "licensed_aesthetician",
    "unlicensed",
)
SEX_AT_BIRTH = ("female", "male", "intersex")
SCREENING_DECISIONS = ("eligible", "eligible_with_cautions", "defer", "refer", "contraindicated")
ENDPOINTS = ("mild_erythema", "pinpoint_bleeding")
PHOTO_VIEWS = ("frontal", "vertex", "midline_part", "left_temporal", "right_temporal", "occipital")
SCALP_REGIONS = ("frontal", "midscalp", "vertex", "left_temporal", "right_temporal", "occipital")
