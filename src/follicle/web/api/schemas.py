"""Response shapes for the OpenAPI description, so clients (and the API fuzzing) know exactly
what each endpoint returns. They mirror the service views; documents defined elsewhere (the
intake, the screening and plan objects of contracts §1-3) stay free-form objects here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

Document = dict[str, Any]


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Token(Shape):
    access_token: str
    token_type: str
    expires_in: int


class PatientSummary(Shape):
    id: str
    given_name: str
    family_name: str
    date_of_birth: str
    sex_at_birth: str
    screening_decision: str | None
    portal: str


class Patient(Shape):
    id: str
    given_name: str
    family_name: str
    date_of_birth: str
    sex_at_birth: str
    email: str | None
    phone: str | None
    version: int
    created_at: str


class Screening(Shape):
    id: str
    patient_id: str
    intake_id: str
    decision: str
    rules_version: str
    screening: Document
    screened_by: str | None
    created_at: str


class Intake(Shape):
    id: str
    patient_id: str
    recorded_on: str
    working_diagnosis: str
    intake: Document
    amends: str | None
    reason: str | None
    superseded_by: str | None
    recorded_by: str | None
    created_at: str


class IntakeWithScreening(Intake):
    screening: Screening


class ConsentText(Shape):
    id: str
    kind: str
    version_number: int
    title: str
    body: str
    published_at: str


class Consent(Shape):
    id: str
    patient_id: str
    kind: str
    consent_text_id: str
    version_number: int
    signed_at: str
    signed_name: str
    #: How the signer is related to the patient when they signed for them (parent,
    #: legal_guardian, healthcare_proxy); None when the patient signed.
    representative: str | None
    witnessed_by: str | None
    withdrawn_at: str | None
    withdrawn_reason: str | None
    valid: bool
    version: int


class ConsentStatus(Shape):
    consents: list[Consent]
    valid: list[str]
    needed: list[str]
    current_texts: dict[str, ConsentText]
    time_zone: str  # the clinic's (the times are UTC; pages show their dates in this zone)
    #: The patient's registered name: a signature must name them (any order, a middle name
    #: may be added).
    signs_as: str
    #: The age of consent when the patient is younger than it: a parent or legal guardian
    #: then signs for them (representative), in their own name. None for an adult.
    minor_until: int | None


class Plan(Shape):
    id: str
    patient_id: str
    screening_id: str
    status: str
    plan: Document
    override_reason: str | None
    proposed_by: str | None
    approved_by: str | None
    approved_at: str | None
    review_on: str | None
    hold_reason: str | None
    stopped_at: str | None
    stopped_by: str | None
    stop_reason: str | None
    version: int
    created_at: str


class Appointment(Shape):
    id: str
    patient_id: str
    practitioner_id: str
    room_id: str | None
    plan_id: str | None
    kind: str
    status: str
    status_reason: str | None
    #: who cancelled it or marked it a no-show (a user id: staff, or the patient's account)
    status_changed_at: str | None
    status_changed_by: str | None
    series_number: int | None
    starts_at: str
    ends_at: str
    starts_local: str
    ends_local: str
    time_zone: str
    version: int
    #: set when a cancellation asked for another time: the request it made
    another_time_request_id: str | None = None


class AppointmentRequest(Shape):
    id: str
    patient_id: str
    kind: str
    preferred_times: str
    #: the visit cancelled when it was asked for
    instead_of_id: str | None
    #: open, booked (answered by the booking named), withdrawn (by the patient) or closed
    status: str
    requested_at: str
    requested_by_id: str | None
    closed_at: str | None
    closed_by_id: str | None
    closed_reason: str | None
    booked_appointment_id: str | None
    version: int


class SessionRecord(Shape):
    id: str
    patient_id: str
    plan_id: str
    appointment_id: str | None
    performed_by: str
    performed_at: str
    lot_id: str | None
    device_name: str

    cartridge_lot: str
    cartridge_expiry: str
    depth_mm_by_region: dict[str, float]
    endpoint: str
    pain_score: int | None
    reactions: str | None
    notes: str | None
    pre_session_check: Document
    version: int


class Measurement(Shape):
    id: str
    patient_id: str
    image_id: str
    site: str | None
    measured_at: str
    hair_count: int
    area_cm2: float
    density_per_cm2: float
    terminal_count: int
    vellus_count: int
    vellus_threshold_um: float
    mean_diameter_um: float | None
    diameter_cv: float | None
    analyser_version: str
    follicular_units: dict[str, int] | None
    has_overlay: bool
    image_warnings: list[str]


class SessionVoided(Shape):
    session_id: str
    voided_at: str
    void_reason: str
    #: Its appointment was completed by it and is booked again.
    appointment_reopened: bool
    #: The plan it completed is approved again.
    plan_reopened: bool
    #: Aftercare messages of the session not sent yet, cancelled.
    messages_cancelled: int


class ImageVoided(Shape):
    image_id: str
    measurement_ids: list[str]
    voided_at: str
    void_reason: str


class Image(Shape):
    id: str
    patient_id: str
    kind: str
    view: str | None
    site: str | None
    um_per_px: float | None
    dermoscope_scale_id: str | None
    media_type: str
    width_px: int
    height_px: int
    taken_at: str
    session_record_id: str | None
    content_sha256: str
    released_to_patient: bool
    measurement: Measurement | None = None


class MetricChange(Shape):
    metric: str
    baseline_mean: float
    latest_mean: float
    change: float
    change_pct: float | None
    low: float | None
    high: float | None
    noise_sd: float | None
    images: list[int]
    verdict: str


class ScaleUsed(Shape):
    um_per_px: float
    measured: bool
    setting: str | None
    measured_on: str | None
    images: int


class HairByHair(Shape):
    pairs: int
    not_compared: list[str]
    said: str
    baseline_hairs: float | None = None
    lost: float | None = None
    new: float | None = None
    change_in_count: float | None = None
    change_pct: float | None = None
    lowest: int | None = None
    highest: int | None = None
    thickened: float | None = None
    thinned: float | None = None


class SiteChange(Shape):
    baseline: Measurement
    latest: Measurement
    measurements: int
    readings: list[Measurement]
    visits: int
    change: dict[str, float | None] | None
    statistics: dict[str, MetricChange]
    responder: bool | None
    responder_reason: str
    scales: list[ScaleUsed]
    scale_notes: list[str]
    image_notes: list[str]
    hair_by_hair: HairByHair | None


class ResponderRule(Shape):
    metric: str
    min_gain_pct: float
    confidence: float
    evidence: list[str]


class ReviewSuggestion(Shape):
    site: str
    action: str
    reasons: list[str]


class ComparedAgain(Shape):
    site: str
    compared: int
    baseline_images: int


class SetAsideImage(Shape):
    image_id: str
    kind: str
    site: str | None
    view: str | None
    taken_at: str
    voided_at: str
    void_reason: str


class FollowUp(Shape):
    patient_id: str
    plan_id: str | None
    plan_status: str | None
    review_on: str | None
    review_due: bool
    method: str
    responder_rule: ResponderRule
    suggestion: ReviewSuggestion | None
    sites: dict[str, SiteChange]
    set_aside: list[SetAsideImage]


class AdverseEvent(Shape):
    id: str
    patient_id: str
    session_record_id: str | None
    category: str
    grade: int
    serious: bool
    description: str
    onset_on: str
    reported_by: str
    status: str
    cleared_by: str | None
    cleared_at: str | None
    clearance_note: str | None
    reported_category: str
    reported_grade: int
    graded_by: str | None
    graded_at: str | None
    grading_note: str | None
    version: int
    created_at: str


class AdverseEventReported(AdverseEvent):
    plans_held: list[str]
    advice: str
    evidence: list[str]


class AdverseEventCleared(AdverseEvent):
    plans_resumed: list[str]


class PatientOutcome(Shape):
    id: str
    patient_id: str
    answered_at: str
    #: -3 greatly decreased … 0 no change … +3 greatly increased (the catalogue's scale).
    change_score: int
    answer: str
    comment: str | None
    recorded_by: str


class AdverseEventVoided(Shape):
    event_id: str
    voided_at: str
    void_reason: str
    #: Plans it held, resumed (no other serious event is open).
    plans_resumed: list[str]


class AdverseEventGraded(AdverseEvent):
    plans_held: list[str]
    plans_resumed: list[str]


class ClinicSettings(Shape):
    clinic_id: str
    name: str
    time_zone: str
    settings: Document
    version: int


class Room(Shape):
    id: str
    name: str
    active: bool


class StaffUser(Shape):
    id: str
    email: str
    display_name: str
    role: str
    credential: str | None
    active: bool
    status: str
    two_factor: bool
    working_hours: dict[str, list[list[str]]] | None
    version: int


class AuditEntry(Shape):
    seq: int
    at: str
    actor: str
    action: str
    resource_type: str
    resource_id: str | None
    client_address: str | None
    detail: Document


class AuditPage(Shape):
    entries: list[AuditEntry]
    next_before_seq: int | None
    time_zone: str  # the clinic's: a since or until without an offset is its wall clock


class Lot(Shape):
    id: str
    device_id: str
    lot_number: str
    expires_on: str
    received_on: str
    expired: bool
    sessions: int


class Device(Shape):
    id: str
    maker: str
    model: str
    needle_configuration: str
    regulatory_status: str
    active: bool
    label: str
    lots: list[Lot]
    version: int


class RecallSession(Shape):
    session_id: str
    performed_at: str
    patient_id: str
    family_name: str
    given_name: str
    date_of_birth: str
    email: str
    phone: str
    performed_by: str
    device: str
    lot_number: str


class Recall(Shape):
    lot: Lot
    device: str
    patients: int
    sessions: list[RecallSession]
    time_zone: str  # the clinic's (the times are UTC; pages show their dates in this zone)


class LotSafety(Shape):
    device_id: str
    device: str
    lot_id: str
    lot_number: str
    sessions: int
    adverse_events: int
    serious: int
    per_100_sessions: float | None


class Operations(Shape):
    reminder_lead_hours: list[int]
    sms_reminders: bool
    two_factor_for_staff: bool
    patient_cancellation_notice_hours: int
    clinic_phone: str | None


class ClinicOperations(Shape):
    operations: Operations
    version: int


class OutboxMessage(Shape):
    id: str
    kind: str
    channel: str
    recipient: str
    patient_id: str | None
    appointment_id: str | None
    subject: str
    due_at: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: str | None


class Outbox(Shape):
    counts: dict[str, int]
    messages: list[OutboxMessage]
    time_zone: str  # the clinic's (the times are UTC; pages show them in this zone)


class AccountChange(Shape):
    id: str
    active: bool
    sessions_ended: int


class Invitation(Shape):
    patient_id: str
    status: str
    email: str


class Accepted(Shape):
    status: str


class PatientUpdateSent(Shape):
    batch: str
    #: updates or education
    audience: str
    #: how many opted-in patients it was queued for
    sent_to: int


class PatientUpdatePast(Shape):
    #: the message kind: update or education
    kind: str
    subject: str
    sent_at: str
    #: how many of its messages are pending, sent, skipped (opted out since) or failed
    by_status: dict[str, int]


class PatientUpdates(Shape):
    #: how many patients each audience reaches now
    audience_sizes: dict[str, int]
    sent: list[PatientUpdatePast]
