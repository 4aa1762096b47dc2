"""What a user asks a service to do, with the shape checks that need no database.

The API parses request bodies into these, and the pages will build them from forms, so both
refuse the same input with the same field names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from follicle.records.models.vocab import (
    ADVERSE_EVENT_CATEGORIES,
    APPOINTMENT_KINDS,
    CONSENT_KINDS,
    CONSENT_REPRESENTATIVES,
    CREDENTIALS,
    ENDPOINTS,
    SCALP_REGIONS,
    SEX_AT_BIRTH,
)

#: The years a time a user gives may fall in: outside them it is a slip of the keyboard (and
#: near the calendar's end, adding a session's interval would overflow it).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def plausible_time(moment: datetime) -> datetime:
    """``moment`` when its year is one a clinic can mean.

    >>> plausible_time(datetime(9999, 12, 29, 10, 0))
    Traceback (most recent call last):
    ...
    ValueError: the year must be between 1900 and 2200
    """
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return moment


Moment = Annotated[datetime, AfterValidator(plausible_time)]

#: A phone number has at most 15 digits (ITU-T E.164) and no number anywhere has fewer than 7.
PHONE_DIGITS = (7, 15)
_PHONE_MARKS = frozenset(" .-()/")


def plausible_phone(number: str) -> str:
    """``number`` when it is written as people write phone numbers: digits, a leading +, and
    spaces, dots, dashes, slashes or brackets between. Text such as "ask at the desk" was
    stored, and the SMS reminders sent to it would fail at the provider.

    >>> plausible_phone("+44 (0)7700 900-123")
    '+44 (0)7700 900-123'
    >>> plausible_phone("ask at the desk")
    Traceback (most recent call last):
    ...
    ValueError: a phone number is 7 to 15 digits, with an optional + before them and spaces, dots, dashes, slashes or brackets between
    """  # noqa: E501
    digits = sum(ch.isdigit() and ch.isascii() for ch in number)
    body = number[1:] if number.startswith("+") else number
    written = all((ch.isdigit() and ch.isascii()) or ch in _PHONE_MARKS for ch in body)
    if number and not (written and PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]):
        raise ValueError(
            f"a phone number is {PHONE_DIGITS[0]} to {PHONE_DIGITS[1]} digits, with an optional"
            " + before them and spaces, dots, dashes, slashes or brackets between"
        )
    return number


Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(plausible_phone)
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
SexAtBirth = Literal[SEX_AT_BIRTH]  # type: ignore[valid-type]
ConsentKind = Literal[CONSENT_KINDS]  # type: ignore[valid-type]
Representative = Literal[CONSENT_REPRESENTATIVES]  # type: ignore[valid-type]


def nul_at(value: Any, pointer: str = "") -> str | None:
    """Where a NUL character hides in a JSON-like value (PostgreSQL cannot store one).

    >>> nul_at({"history": {"medications": [{"name": "a\\x00b"}]}})
    '/history/medications/0/name'
    """
    if isinstance(value, str):
        return pointer if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = nul_at(item, f"{pointer}/{key}")
        if found is not None:
            return found
    return None


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        found = nul_at(data)
        if found is not None:
            raise ValueError(f"{found or 'the body'} contains a NUL character, which is not text")
        return data


class NewPatient(Command):
    given_name: Name
    family_name: Name
    date_of_birth: date
    sex_at_birth: SexAtBirth
    email: EmailStr | None = None
    phone: Phone | None = None
    #: Another person with the name and date of birth of a patient already registered (the
    #: registration is refused without it: patients.PossibleDuplicate).
    not_a_duplicate: bool = False


class ContactDetails(Command):
    """How the patient is reached, as they give it in the portal (left out: cleared)."""

    email: EmailStr | None = None
    phone: Phone | None = None


class PatientDetails(NewPatient):
    """A patient's registration details as they should now read, every field (what is left
    out is cleared: an email or phone the patient no longer has)."""


class IntakeSubmission(Command):
    """A ``follicle.intake/1`` document; with ``amends`` and ``reason`` it replaces an earlier
    intake, which stays readable (contracts §6)."""

    intake: dict[str, Any]
    amends: Annotated[str, StringConstraints(max_length=40)] | None = None
    reason: Reason | None = None


class ConsentSignature(Command):
    kind: ConsentKind
    signed_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)
    ]
    #: The version the signer read; signing an older text than the current one is refused.
    consent_text_id: Annotated[str, StringConstraints(max_length=40)]
    #: An optional drawn signature, as a ``data:image/png;base64,…`` URL (at most ~200 kB).
    signature_png: Annotated[str, StringConstraints(max_length=280_000)] | None = None
    #: How the signer is related to the patient when signing for them (a parent for a minor,
    #: who then types their own name); None when the patient signs.
    representative: Representative | None = None


class ConsentWithdrawal(Command):
    reason: Reason


class NewConsentText(Command):
    kind: ConsentKind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=20000)]


class PlanOverride(Command):
    """New values within the plan's bounds, and why."""

    needle_depth_mm: Annotated[float, Field(gt=0, le=5)] | None = None
    interval_days: Annotated[int, Field(ge=1, le=365)] | None = None
    sessions: Annotated[int, Field(ge=1, le=100)] | None = None
    reason: Reason


class PlanStop(Command):
    """Why a plan is stopped (kept in the record; the patient is told only that it stopped)."""

    reason: Reason


AppointmentKind = Literal[APPOINTMENT_KINDS]  # type: ignore[valid-type]
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Minutes = Annotated[int, Field(ge=10, le=240)]


class NewAppointment(Command):
    """``starts_at`` without an offset is the clinic's local time; with one, it is converted."""

    kind: AppointmentKind
    starts_at: Moment
    duration_minutes: Minutes | None = None
    practitioner_id: RecordId
    room_id: RecordId | None = None
    plan_id: RecordId | None = None


class SeriesBooking(Command):
    """Book every session of an approved plan at its interval, same local time each day."""

    plan_id: RecordId
    first_starts_at: Moment
    duration_minutes: Minutes | None = None
    practitioner_id: RecordId
    room_id: RecordId | None = None


class Reschedule(Command):
    starts_at: Moment
    practitioner_id: RecordId | None = None
    room_id: RecordId | None = None


PreferredTimes = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)
]


class Cancellation(Command):
    reason: Reason
    #: The patient would like another time, and says when suits them ("weekday mornings"):
    #: the desk's worklist shows it as a request to book (None: no other time wanted now).
    another_time: PreferredTimes | None = None


class PatientUpdate(Command):
    """A message from the clinic to the patients who opted in to its kind."""

    #: ``updates``: news from the clinic; ``education``: a guide about hair loss or scalp care.
    audience: Literal["updates", "education"]
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=150)]
    #: Plain text; a blank line starts a new paragraph.
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000)]


class AppointmentAsk(Command):
    """A patient asks for a visit from the portal; the desk books it or answers."""

    kind: AppointmentKind
    preferred_times: PreferredTimes


class RequestAnswer(Command):
    """The desk answers a request without booking ("called: she will ring in January")."""

    reason: Reason


Region = Literal[SCALP_REGIONS]  # type: ignore[valid-type]
Endpoint = Literal[ENDPOINTS]  # type: ignore[valid-type]
FreeText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class PreSessionCheck(Command):
    """What changed since the intake, asked before every session (DESIGN.md §1.6). Items use
    the intake's vocabulary; the session is refused if the re-screen says not today."""

    new_medications: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    new_conditions: list[str] = Field(default_factory=list, max_length=50)
    active_scalp_conditions: list[str] = Field(default_factory=list, max_length=20)
    pregnant: bool | None = None
    confirmed_with_patient: bool


class NewSessionRecord(Command):
    plan_id: RecordId
    appointment_id: RecordId | None = None
    performed_at: Moment | None = None
    lot_id: RecordId  # a registered, unexpired cartridge lot (the device comes with it)
    depth_mm_by_region: Annotated[
        dict[Region, Annotated[float, Field(gt=0, le=3)]], Field(min_length=1)
    ]
    endpoint: Endpoint
    pain_score: Annotated[int, Field(ge=0, le=10)] | None = None
    reactions: FreeText | None = None
    notes: FreeText | None = None
    pre_session_check: PreSessionCheck


AdverseCategory = Literal[ADVERSE_EVENT_CATEGORIES]  # type: ignore[valid-type]


class AdverseEventReport(Command):
    category: AdverseCategory
    grade: Annotated[int, Field(ge=1, le=5)]
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=4000)
    ]
    onset_on: date
    session_record_id: RecordId | None = None


class AdverseEventGrading(Command):
    """A practitioner's grading of a reported event (a patient grades their own problem in
    plain words): the category and CTCAE grade that then hold the plan or not, and why."""

    category: AdverseCategory
    grade: Annotated[int, Field(ge=1, le=5)]
    note: Reason


class PatientOutcomeReport(Command):
    """The patient's answer to the catalogue's outcome question: -3 (greatly decreased) to +3
    (greatly increased), with what they want to say."""

    change_score: Annotated[int, Field(ge=-3, le=3)]
    comment: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
        | None
    ) = None


class AdverseEventVoid(Command):
    """Why an adverse event is voided (entered for the wrong patient, or twice): it then stops
    counting and holding the plan, kept voided. An event that happened is cleared instead."""

    reason: Reason


class AdverseEventClearance(Command):
    note: Reason


class CompareAgain(Command):
    """Which site's latest images to compare with its first visit's again."""

    site: Region


class ImageVoid(Command):
    """Why an image is set aside: it and its measurement then stop counting (kept, voided)."""

    reason: Reason


class SessionVoid(Command):
    """Why a session record is voided (the wrong patient, the wrong lot or depths): it then
    stops counting, kept voided, and the session can be recorded again as it was."""

    reason: Reason


StaffRole = Literal["admin", "practitioner", "front_desk"]
Credential = Literal[CREDENTIALS]  # type: ignore[valid-type]


class NewStaff(Command):
    """A staff account: without a password, they get an email link to choose their own."""

    email: EmailStr
    display_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)
    ]
    role: StaffRole
    credential: Credential | None = None
    password: Annotated[str, StringConstraints(max_length=1024)] | None = None


Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class NewDevice(Command):
    maker: Label
    model: Label
    needle_configuration: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    regulatory_status: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)
    ]


class NewLot(Command):
    lot_number: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            min_length=1,
            max_length=80,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]*$",
        ),
    ]
    expires_on: date
    received_on: date
