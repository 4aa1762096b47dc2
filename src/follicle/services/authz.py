"""The one access policy: role × permission × tenancy × ownership (DESIGN.md §4).

Every service calls :func:`authorize` before it reads or writes. Something the actor may not
see raises :class:`NotFound`, exactly like a record that does not exist; something they may
see but not do raises :class:`Forbidden`.
"""

from __future__ import annotations

from enum import StrEnum

from follicle.services.actors import Actor
from follicle.services.errors import Forbidden, NotFound


class Permission(StrEnum):
    PATIENT_LIST = "patient:list"
    PATIENT_READ = "patient:read"
    PATIENT_CREATE = "patient:create"
    #: Correcting a patient's registration details (a misspelt name, a new phone number).
    PATIENT_UPDATE = "patient:update"
    INTAKE_READ = "intake:read"
    INTAKE_WRITE = "intake:write"
    SCREENING_READ = "screening:read"
    SCREENING_RUN = "screening:run"
    CONSENT_TEXT_READ = "consent_text:read"
    CONSENT_TEXT_PUBLISH = "consent_text:publish"
    CONSENT_READ = "consent:read"
    CONSENT_SIGN = "consent:sign"
    CONSENT_WITHDRAW = "consent:withdraw"
    PLAN_READ = "plan:read"
    PLAN_PROPOSE = "plan:propose"
    PLAN_OVERRIDE = "plan:override"
    PLAN_APPROVE = "plan:approve"
    #: Stopping a plan (the patient stops, or it no longer suits them): its booked sessions
    #: are cancelled and another plan may be proposed.
    PLAN_STOP = "plan:stop"
    APPOINTMENT_LIST = "appointment:list"
    APPOINTMENT_READ = "appointment:read"
    APPOINTMENT_BOOK = "appointment:book"
    APPOINTMENT_UPDATE = "appointment:update"
    #: Staff at any time; a patient their own, up to the clinic's notice (DESIGN.md §1.5).
    APPOINTMENT_CANCEL = "appointment:cancel"
    #: Asking for a visit to be booked (a patient from the portal, the desk for one who
    #: phoned); the desk answers it by booking (``appointment:book``) or with a reason.
    APPOINTMENT_REQUEST = "appointment:request"
    SESSION_READ = "session:read"
    SESSION_RECORD = "session:record"
    #: Voiding a session record entered wrongly (the wrong patient, the wrong lot): it stops
    #: counting, kept voided; the right record is then made again.
    SESSION_VOID = "session:void"
    IMAGE_READ = "image:read"
    IMAGE_UPLOAD = "image:upload"
    #: Setting an image aside (wrong patient, unusable): it and its measurement stop counting.
    IMAGE_VOID = "image:void"
    MEASUREMENT_READ = "measurement:read"
    ADVERSE_EVENT_READ = "adverse_event:read"
    ADVERSE_EVENT_REPORT = "adverse_event:report"
    ADVERSE_EVENT_GRADE = "adverse_event:grade"
    ADVERSE_EVENT_CLEAR = "adverse_event:clear"
    ADVERSE_EVENT_VOID = "adverse_event:void"
    #: The patient's own view of the change (the portal, or a practitioner asking at a visit).
    PATIENT_OUTCOME_READ = "patient_outcome:read"
    PATIENT_OUTCOME_REPORT = "patient_outcome:report"
    FOLLOW_UP_READ = "follow_up:read"
    PORTAL_VIEW = "portal:view"
    CLINIC_SETTINGS_READ = "clinic_settings:read"
    CLINIC_SETTINGS_MANAGE = "clinic_settings:manage"
    ROOM_LIST = "room:list"
    USER_LIST = "user:list"
    USER_MANAGE = "user:manage"
    AUDIT_READ = "audit:read"
    DEVICE_LIST = "device:list"
    DEVICE_MANAGE = "device:manage"
    LOT_RECALL = "lot:recall"
    #: Measuring a dermoscope setting's scale (the one who holds the dermoscope may).
    SCALE_MEASURE = "scale:measure"
    SAFETY_REPORT = "safety:report"
    PATIENT_INVITE = "patient:invite"
    MESSAGE_LIST = "message:list"
    #: Sending an update or a piece of education to the patients who opted in to it.
    PATIENT_UPDATE_SEND = "patient_update:send"
    RESEARCH_EXPORT = "research:export"
    RECORD_EXPORT = "record:export"
    CLINIC_EXPORT = "clinic:export"
    #: Only the local operator (CLI) imports: an import creates accounts and records at once.
    RECORD_IMPORT = "record:import"


_FRONT_DESK = frozenset(
    {
        Permission.PATIENT_LIST,
        Permission.PATIENT_READ,
        Permission.PATIENT_CREATE,
        Permission.PATIENT_UPDATE,
        Permission.APPOINTMENT_LIST,
        Permission.APPOINTMENT_READ,
        Permission.APPOINTMENT_BOOK,
        Permission.APPOINTMENT_UPDATE,
        Permission.APPOINTMENT_CANCEL,
        Permission.APPOINTMENT_REQUEST,
        Permission.CONSENT_TEXT_READ,
        Permission.CONSENT_READ,
        Permission.ADVERSE_EVENT_REPORT,
        Permission.CLINIC_SETTINGS_READ,
        Permission.ROOM_LIST,
        Permission.USER_LIST,
        Permission.PATIENT_INVITE,
        Permission.MESSAGE_LIST,
    }
)

_CLINICAL_READ = frozenset(
    {
        Permission.INTAKE_READ,
        Permission.SCREENING_READ,
        Permission.PLAN_READ,
        Permission.SESSION_READ,
        Permission.IMAGE_READ,
        Permission.MEASUREMENT_READ,
        Permission.ADVERSE_EVENT_READ,
        Permission.PATIENT_OUTCOME_READ,
        Permission.FOLLOW_UP_READ,
        Permission.DEVICE_LIST,
        Permission.SAFETY_REPORT,
    }
)

_CLINICAL_WRITE = frozenset(
    {
        Permission.INTAKE_WRITE,
        Permission.SCREENING_RUN,
        Permission.CONSENT_SIGN,
        Permission.CONSENT_WITHDRAW,
        Permission.PLAN_PROPOSE,
        Permission.PLAN_OVERRIDE,
        Permission.PLAN_APPROVE,
        Permission.PLAN_STOP,
        Permission.SESSION_RECORD,
        Permission.SESSION_VOID,
        Permission.IMAGE_UPLOAD,
        Permission.IMAGE_VOID,
        Permission.ADVERSE_EVENT_GRADE,
        Permission.ADVERSE_EVENT_CLEAR,
        Permission.ADVERSE_EVENT_VOID,
        Permission.PATIENT_OUTCOME_REPORT,
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    # Admins run the clinic: settings, users, consent texts, audit; they may read the chart
    # (audited) but do not author clinical records.
    "admin": _FRONT_DESK
    | _CLINICAL_READ
    | {
        Permission.CLINIC_SETTINGS_MANAGE,
        Permission.PATIENT_UPDATE_SEND,
        Permission.USER_MANAGE,
        Permission.AUDIT_READ,
        Permission.CONSENT_TEXT_PUBLISH,
        Permission.DEVICE_MANAGE,
        Permission.SCALE_MEASURE,
        Permission.LOT_RECALL,
        Permission.RESEARCH_EXPORT,
        Permission.RECORD_EXPORT,
        Permission.CLINIC_EXPORT,
    },
    # Practitioners author the clinical record and may run a recall lookup for safety.
    "practitioner": _FRONT_DESK
    | _CLINICAL_READ
    | _CLINICAL_WRITE
    | {Permission.LOT_RECALL, Permission.SCALE_MEASURE, Permission.RECORD_EXPORT},
    # Front desk: scheduling and registration, no clinical notes (DESIGN.md §4).
    "front_desk": _FRONT_DESK,
    # Patients: their own record only (tenancy and ownership are checked in authorize).
    "patient": frozenset(
        {
            Permission.PORTAL_VIEW,
            Permission.PATIENT_READ,
            Permission.INTAKE_READ,
            Permission.SCREENING_READ,
            Permission.CONSENT_TEXT_READ,
            Permission.CONSENT_READ,
            Permission.CONSENT_SIGN,
            Permission.CONSENT_WITHDRAW,
            Permission.PLAN_READ,
            Permission.APPOINTMENT_READ,
            Permission.APPOINTMENT_CANCEL,
            Permission.APPOINTMENT_REQUEST,
            Permission.ADVERSE_EVENT_READ,
            Permission.ADVERSE_EVENT_REPORT,
            Permission.PATIENT_OUTCOME_READ,
            Permission.PATIENT_OUTCOME_REPORT,
            # A patient may download their whole record (the right of access).
            Permission.RECORD_EXPORT,
        }
    ),
    "cli": frozenset(Permission),
}

STAFF_ROLES = frozenset({"admin", "practitioner", "front_desk"})


def authorize(
    actor: Actor,
    permission: Permission,
    *,
    clinic_id: str | None = None,
    patient_id: str | None = None,
) -> None:
    """Allow, or raise NotFound / Forbidden. Deny by default."""
    if actor.role != "cli":
        if clinic_id is not None and actor.clinic_id != clinic_id:
            raise NotFound
        if actor.role == "patient" and patient_id is not None and actor.patient_id != patient_id:
            raise NotFound
    if permission not in ROLE_PERMISSIONS.get(actor.role, frozenset()):
        raise Forbidden(f"{actor.role} may not {permission}")


def is_staff(actor: Actor) -> bool:
    return actor.role in STAFF_ROLES
