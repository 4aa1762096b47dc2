"""Follicle records as FHIR R4B resources (plain JSON dicts, validated by the caller).

Standard elements carry everything another system needs to read the record; Follicle's own
extensions (``EXTENSION`` + name, listed in docs/documents.md) carry the rest, so that importing
our own export restores the same record: who recorded it and when, voids, the exact plan and
screening documents and the per-hair measurements.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from follicle.documents import fhir_codes as codes
from follicle.documents.fhir_intake import intake_items
from follicle.records.files import EXTENSIONS
from follicle.records.models import (
    AdverseEvent,
    Appointment,
    AppointmentRequest,
    CartridgeLot,
    Clinic,
    Consent,
    ConsentText,
    DermoscopeScale,
    Device,
    Image,
    Intake,
    Measurement,
    Patient,
    PatientOutcome,
    Plan,
    ScreeningResult,
    SessionRecord,
    UserAccount,
    image_warnings_of,
)

#: Who did something: a user id → a reference to their Practitioner (or Patient) resource.
Who = Callable[[str], dict[str, str]]

TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"


def fhir_id(follicle_id: str) -> str:
    """FHIR ids allow ``[A-Za-z0-9\\-.]``; ours are ``prefix_hex``.

    >>> fhir_id("pat_3f9c")
    'pat-3f9c'
    """
    return follicle_id.replace("_", "-")


def reference(resource_type: str, follicle_id: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{fhir_id(follicle_id)}"}


def full_url(resource: dict[str, Any]) -> str:
    return f"{codes.BASE}/{resource['resourceType']}/{resource['id']}"


def instant(moment: datetime) -> str:
    return moment.isoformat()


def ext(name: str, **value: Any) -> dict[str, Any]:
    """One of Follicle's extensions: ``ext("series-number", valueInteger=3)``."""
    return {"url": codes.EXTENSION + name, **value}


def json_attachment(document: Any, title: str) -> dict[str, Any]:
    content = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return {
        "contentType": "application/json",
        "title": title,
        "data": base64.b64encode(content).decode(),
    }


def _base(resource_type: str, follicle_id: str, created_at: datetime | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": resource_type,
        "id": fhir_id(follicle_id),
        "identifier": [{"system": codes.IDENTIFIER + "id", "value": follicle_id}],
        "extension": [],
    }
    if created_at is not None:
        resource["extension"].append(ext("recorded-at", valueInstant=instant(created_at)))
    return resource


def _void(resource: dict[str, Any], record: Any, who: Who) -> bool:
    """Mark a voided record (the void stays visible, as in the chart)."""
    if record.voided_at is None:
        return False
    parts: list[dict[str, Any]] = [{"url": "at", "valueInstant": instant(record.voided_at)}]
    if record.void_reason:
        parts.append({"url": "reason", "valueString": record.void_reason})
    if record.voided_by_id:
        parts.append({"url": "by", "valueReference": who(record.voided_by_id)})
    resource["extension"].append(ext("voided", extension=parts))
    return True


def _tidy(resource: dict[str, Any]) -> dict[str, Any]:
    if not resource["extension"]:
        del resource["extension"]
    return resource


def _region(site: str) -> dict[str, Any]:
    return {"coding": [codes.local_coding("scalp-region", site), codes.SCALP_STRUCTURE]}


def organization(clinic: Clinic) -> dict[str, Any]:
    resource = _base("Organization", clinic.id, clinic.created_at)
    resource["identifier"].append(
        {"system": codes.IDENTIFIER + "clinic-slug", "value": clinic.slug}
    )
    resource["extension"].append({"url": TIMEZONE_EXTENSION, "valueCode": clinic.time_zone})
    resource |= {"active": True, "name": clinic.name}
    if phone := (clinic.operations or {}).get("clinic_phone"):
        resource["telecom"] = [{"system": "phone", "value": phone, "use": "work"}]
    return _tidy(resource)


def practitioner(user: UserAccount, with_contact: bool) -> dict[str, Any]:
    resource = _base("Practitioner", user.id, user.created_at)
    resource["extension"].append(
        ext("staff-role", valueCoding=codes.local_coding("staff-role", user.role))
    )
    resource |= {
        "active": user.active and user.deactivated_at is None,
        "name": [{"text": user.display_name}],
    }
    if with_contact:
        resource["telecom"] = [{"system": "email", "value": user.email, "use": "work"}]
    if user.credential:
        resource["qualification"] = [
            {"code": {"coding": [codes.local_coding("credential", user.credential)]}}
        ]
    return _tidy(resource)


def practitioner_role(user: UserAccount) -> dict[str, Any]:
    """Where a member of staff works and as what (the clinic of a Practitioner)."""
    return {
        "resourceType": "PractitionerRole",
        "id": fhir_id("role_" + user.id),
        "active": user.active and user.deactivated_at is None,
        "practitioner": reference("Practitioner", user.id),
        "organization": reference("Organization", user.clinic_id),
        "code": [{"coding": [codes.local_coding("staff-role", user.role)]}],
    }


def patient(record: Patient, portal_account_id: str | None, who: Who) -> dict[str, Any]:
    resource = _base("Patient", record.id, record.created_at)
    if portal_account_id:
        resource["identifier"].append(
            {"system": codes.IDENTIFIER + "portal-account", "value": portal_account_id}
        )
    gender = record.sex_at_birth if record.sex_at_birth in ("female", "male") else "other"
    resource["extension"].append(
        ext("sex-at-birth", valueCoding=codes.local_coding("sex-at-birth", record.sex_at_birth))
    )
    voided = _void(resource, record, who)
    resource |= {
        "active": not voided,
        "name": [{"use": "official", "family": record.family_name, "given": [record.given_name]}],
        "gender": gender,
        "birthDate": record.date_of_birth.isoformat(),
        "managingOrganization": reference("Organization", record.clinic_id),
    }
    telecom = []
    if record.email:
        telecom.append({"system": "email", "value": record.email})
    if record.phone:
        telecom.append({"system": "phone", "value": record.phone})
    if telecom:
        resource["telecom"] = telecom
    return _tidy(resource)


def questionnaire_response(intake: Intake, who: Who) -> dict[str, Any]:
    resource = _base("QuestionnaireResponse", intake.id, intake.created_at)
    if intake.amends_id:
        resource["extension"].append(
            ext(
                "amends",
                extension=[
                    {
                        "url": "intake",
                        "valueReference": reference("QuestionnaireResponse", intake.amends_id),
                    },
                    {"url": "reason", "valueString": intake.amend_reason or ""},
                ],
            )
        )
    voided = _void(resource, intake, who)
    resource["identifier"] = resource["identifier"][0]  # 0..1 on QuestionnaireResponse
    resource |= {
        "questionnaire": codes.INTAKE_QUESTIONNAIRE,
        "status": "entered-in-error" if voided else "completed",
        "subject": reference("Patient", intake.patient_id),
        "authored": intake.recorded_on.isoformat(),
        "item": intake_items(intake.document),
    }
    if intake.recorded_by_id:
        resource["author"] = who(intake.recorded_by_id)
    return _tidy(resource)


STAGING = (
    ("norwood", "Norwood-Hamilton"),
    ("ludwig", "Ludwig"),
    ("sinclair", "Sinclair"),
    ("salt_score", "SALT"),
)


def condition(intake: Intake, who: Who) -> dict[str, Any]:
    """The working diagnosis of the current intake: provisional, the clinician's to confirm."""
    hair_loss = intake.document["hair_loss"]
    diagnosis = str(hair_loss["working_diagnosis"])
    resource = _base("Condition", "cond_" + intake.id, intake.created_at)
    resource["identifier"] = [{"system": codes.IDENTIFIER + "intake", "value": intake.id}]
    resource |= {
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "provisional",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": {
            "coding": [codes.local_coding("working-diagnosis", diagnosis)]
            + codes.DIAGNOSIS_CODES[diagnosis],
            "text": diagnosis.replace("_", " "),
        },
        "bodySite": [{"coding": [codes.SCALP_STRUCTURE]}],
        "subject": reference("Patient", intake.patient_id),
        "recordedDate": intake.recorded_on.isoformat(),
        "evidence": [{"detail": [reference("QuestionnaireResponse", intake.id)]}],
    }
    stages = [
        {"summary": {"text": f"{label} {hair_loss[key]}"}, "type": {"text": label}}
        for key, label in STAGING
        if key in hair_loss
    ]
    if stages:
        resource["stage"] = stages
    if intake.recorded_by_id:
        resource["recorder"] = who(intake.recorded_by_id)
    return _tidy(resource)


def risk_assessment(screening: ScreeningResult, who: Who) -> dict[str, Any]:
    """The contraindication screening: decision, each finding with its reason."""
    resource = _base("RiskAssessment", screening.id, screening.created_at)
    resource["extension"] += [
        ext(
            "screening-decision",
            valueCoding=codes.local_coding("screening-decision", screening.decision),
        ),
        ext("source-document", valueAttachment=json_attachment(screening.result, "screening")),
    ]
    voided = _void(resource, screening, who)
    predictions: list[dict[str, Any]] = [
        {
            "outcome": {"text": str(f.get("rule", ""))},
            "qualitativeRisk": {"text": str(f.get("level", ""))},
            "rationale": str(f.get("reason", "")),
        }
        for f in screening.result.get("findings", [])
    ]
    resource |= {
        "status": "entered-in-error" if voided else "final",
        "code": {"text": "Contraindication screening for scalp microneedling"},
        "method": {"text": f"Follicle rules {screening.rules_version}"},
        "subject": reference("Patient", screening.patient_id),
        "occurrenceDateTime": instant(screening.created_at),
        "basis": [reference("QuestionnaireResponse", screening.intake_id)],
        "prediction": predictions or [{"outcome": {"text": screening.decision}}],
    }
    if screening.screened_by_id:
        resource["performer"] = who(screening.screened_by_id)
    return _tidy(resource)


#: Who may sign for a patient, as v3 RoleCode (bound, preferred, by RelatedPerson.relationship).
REPRESENTATIVE_ROLES = {
    "parent": ("PRN", "parent"),
    "legal_guardian": ("GUARD", "guardian"),
    "healthcare_proxy": ("HPOWATT", "healthcare power of attorney"),
}


def signer_id(record: Consent) -> str:
    """The RelatedPerson who signed ``record`` for the patient: one per such consent, since
    the only thing known of them is the name they signed in."""
    return "rep_" + record.id


def related_person(record: Consent) -> dict[str, Any]:
    """The parent, guardian or proxy who signed a consent for the patient."""
    assert record.representative is not None
    code, display = REPRESENTATIVE_ROLES[record.representative]
    resource = _base("RelatedPerson", signer_id(record), record.created_at)
    resource |= {
        "patient": reference("Patient", record.patient_id),
        "relationship": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        "code": code,
                        "display": display,
                    }
                ],
                "text": record.representative.replace("_", " "),
            }
        ],
        "name": [{"text": record.signed_name}],
    }
    return _tidy(resource)


def consent(record: Consent, text: ConsentText, who: Who) -> dict[str, Any]:
    resource = _base("Consent", record.id, record.created_at)
    resource["extension"] += [
        ext(
            "consent-text",
            extension=[
                {"url": "id", "valueString": text.id},
                {"url": "version", "valueInteger": text.version_number},
                {"url": "published-at", "valueInstant": instant(text.published_at)},
                {"url": "recorded-at", "valueInstant": instant(text.created_at)},
            ],
        ),
        ext("signed-name", valueString=record.signed_name),
    ]
    if record.representative:  # (signed for the patient by a parent, guardian or proxy)
        resource["extension"].append(ext("representative", valueCode=record.representative))
    if record.signature_png:
        resource["extension"].append(
            ext(
                "signature",
                valueAttachment={
                    "contentType": "image/png",
                    "data": base64.b64encode(record.signature_png).decode(),
                },
            )
        )
    if record.witnessed_by_id:
        resource["extension"].append(ext("witness", valueReference=who(record.witnessed_by_id)))
    if record.withdrawn_at:
        parts: list[dict[str, Any]] = [{"url": "at", "valueInstant": instant(record.withdrawn_at)}]
        if record.withdrawn_reason:
            parts.append({"url": "reason", "valueString": record.withdrawn_reason})
        resource["extension"].append(ext("withdrawn", extension=parts))
    scope = "treatment" if text.kind == "treatment" else "patient-privacy"
    resource |= {
        "status": "inactive" if record.withdrawn_at else "active",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": scope}
            ]
        },
        "category": [{"coding": [codes.local_coding("consent-kind", text.kind)]}],
        "patient": reference("Patient", record.patient_id),
        "dateTime": instant(record.signed_at),
        "performer": [
            reference("RelatedPerson", signer_id(record))
            if record.representative
            else reference("Patient", record.patient_id)
        ],
        "organization": [reference("Organization", record.clinic_id)],
        "sourceAttachment": {
            "contentType": "text/plain; charset=utf-8",
            "title": text.title,
            "data": base64.b64encode(text.body.encode()).decode(),
            "creation": instant(text.published_at),
        },
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
    }
    return _tidy(resource)


PLAN_STATUS = {
    "proposed": ("draft", "not-started"),
    "approved": ("active", "in-progress"),
    "on_hold": ("on-hold", "on-hold"),
    "completed": ("completed", "completed"),
    "stopped": ("revoked", "stopped"),
}


def care_plan(plan: Plan, condition_id: str | None, who: Who) -> dict[str, Any]:
    resource = _base("CarePlan", plan.id, plan.created_at)
    resource["extension"] += [
        ext("plan-status", valueCode=plan.status),
        ext("indication", valueCoding=codes.local_coding("working-diagnosis", plan.indication)),
        ext("needle-depth", valueQuantity=codes.ucum_quantity(plan.needle_depth_mm, "mm")),
        ext("source-document", valueAttachment=json_attachment(plan.document, "plan")),
    ]
    for name, value in (
        ("review-date", {"valueDate": plan.review_on.isoformat()} if plan.review_on else None),
        ("approved-at", {"valueInstant": instant(plan.approved_at)} if plan.approved_at else None),
        (
            "approved-by",
            {"valueReference": who(plan.approved_by_id)} if plan.approved_by_id else None,
        ),
        (
            "override-reason",
            {"valueString": plan.override_reason} if plan.override_reason else None,
        ),
        ("hold-reason", {"valueString": plan.hold_reason} if plan.hold_reason else None),
        ("stopped-at", {"valueInstant": instant(plan.stopped_at)} if plan.stopped_at else None),
        (
            "stopped-by",
            {"valueReference": who(plan.stopped_by_id)} if plan.stopped_by_id else None,
        ),
        ("stop-reason", {"valueString": plan.stop_reason} if plan.stop_reason else None),
    ):
        if value:
            resource["extension"].append(ext(name, **value))
    voided = _void(resource, plan, who)
    status, activity_status = PLAN_STATUS[plan.status]
    if voided:
        status, activity_status = "entered-in-error", "entered-in-error"
    depth = f"needle depth {plan.needle_depth_mm:g} mm"
    activities: list[dict[str, Any]] = [
        {
            "detail": {
                "kind": "Procedure",
                "code": {"coding": [codes.local_coding("procedure", "scalp-microneedling")]},
                "status": activity_status,
                "scheduledTiming": {
                    "repeat": {
                        "count": plan.sessions_planned,
                        "period": plan.interval_days,
                        "periodUnit": "d",
                    }
                },
                "description": f"{plan.sessions_planned} sessions every "
                f"{plan.interval_days} days, {depth}",
            }
        }
    ]
    for topical in plan.document.get("topicals", []):
        activities.append(
            {
                "detail": {
                    "kind": "MedicationRequest",
                    "productCodeableConcept": {"text": str(topical.get("name", ""))},
                    "status": activity_status,
                    "description": "restart "
                    f"{topical.get('restart_after_hours', '?')} hours after each session",
                }
            }
        )
    resource |= {
        "status": status,
        "intent": "plan",
        "title": f"Scalp microneedling: {plan.indication.replace('_', ' ')}",
        "subject": reference("Patient", plan.patient_id),
        "created": instant(plan.created_at),
        "supportingInfo": [reference("RiskAssessment", plan.screening_id)],
        "activity": activities,
    }
    if plan.review_on:
        resource["period"] = {"end": plan.review_on.isoformat()}
    if condition_id:
        resource["addresses"] = [reference("Condition", condition_id)]
    if plan.proposed_by_id:
        resource["author"] = who(plan.proposed_by_id)
    return _tidy(resource)


APPOINTMENT_STATUS = {
    "booked": "booked",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}


def appointment(record: Appointment, who: Who) -> dict[str, Any]:
    resource = _base("Appointment", record.id, None)
    if record.series_number is not None:
        resource["extension"].append(ext("series-number", valueInteger=record.series_number))
    resource |= {
        "status": APPOINTMENT_STATUS[record.status],
        "appointmentType": {"coding": [codes.local_coding("appointment-kind", record.kind)]},
        "start": instant(record.starts_at),
        "end": instant(record.ends_at),
        "created": instant(record.created_at),
        "participant": [
            {"actor": reference("Patient", record.patient_id), "status": "accepted"},
            {"actor": who(record.practitioner_id), "status": "accepted"},
        ],
    }
    if record.status_reason:
        resource["cancelationReason"] = {"text": record.status_reason}
    if record.status_changed_at:  # (who cancelled it or marked it a no-show, and when)
        parts: list[dict[str, Any]] = [
            {"url": "at", "valueInstant": instant(record.status_changed_at)}
        ]
        if record.status_changed_by_id:
            parts.append({"url": "by", "valueReference": who(record.status_changed_by_id)})
        resource["extension"].append(ext("status-changed", extension=parts))
    if record.plan_id:
        resource["supportingInformation"] = [reference("CarePlan", record.plan_id)]
    return _tidy(resource)


def appointment_request(record: AppointmentRequest, who: Who) -> dict[str, Any]:
    """A visit the patient asked for: an Appointment without a time, ``proposed`` while open
    (FHIR lets only proposed or cancelled appointments go without a start). Its exact state
    (open, booked, withdrawn, closed) and who answered it are in extensions."""
    resource = _base("Appointment", record.id, record.created_at)
    resource["extension"] += [
        ext("request-status", valueCode=record.status),
        ext("requested-by", valueReference=who(record.requested_by_id)),
    ]
    if record.instead_of_id:
        resource["extension"].append(
            ext("instead-of", valueReference=reference("Appointment", record.instead_of_id))
        )
    if record.booked_appointment_id:
        resource["extension"].append(
            ext("booked-as", valueReference=reference("Appointment", record.booked_appointment_id))
        )
    if record.closed_at:
        parts: list[dict[str, Any]] = [{"url": "at", "valueInstant": instant(record.closed_at)}]
        if record.closed_by_id:
            parts.append({"url": "by", "valueReference": who(record.closed_by_id)})
        resource["extension"].append(ext("answered", extension=parts))
    resource |= {
        "status": "proposed" if record.status == "open" else "cancelled",
        "appointmentType": {"coding": [codes.local_coding("appointment-kind", record.kind)]},
        "comment": record.preferred_times,
        "created": instant(record.created_at),
        "participant": [{"actor": reference("Patient", record.patient_id), "status": "accepted"}],
    }
    if record.status != "open":
        resource["cancelationReason"] = {
            "text": {
                "booked": "answered by a booking",
                "withdrawn": "taken back by the patient",
            }.get(record.status, record.closed_reason or "answered without a booking")
        }
    return _tidy(resource)


def device_model(device: Device) -> dict[str, Any]:
    resource = _base("Device", device.id, device.created_at)
    resource["extension"] += [
        ext("needle-configuration", valueString=device.needle_configuration),
        ext("regulatory-status", valueString=device.regulatory_status),
    ]
    resource |= {
        "owner": reference("Organization", device.clinic_id),
        "status": "active" if device.active else "inactive",
        "manufacturer": device.maker,
        "deviceName": [{"name": device.model, "type": "model-name"}],
        "modelNumber": device.model,
        "type": {"text": "Microneedling device"},
    }
    return _tidy(resource)


#: The Device type of a dermoscope setting's measured scale (what a trichoscopy Media was read
#: at), told from a microneedling device's model on import.
DERMOSCOPE_SCALE = "Dermoscope scale"


def dermoscope_scale(scale: DermoscopeScale, who: Who) -> dict[str, Any]:
    """A dermoscope setting as measured on one day: the scale a trichoscopy image was read at."""
    resource = _base("Device", scale.id, scale.created_at)
    resource["extension"] += [
        ext("um-per-px", valueDecimal=scale.um_per_px),
        ext("line-spacing-um", valueDecimal=scale.line_spacing_um),
        ext("lines", valueInteger=scale.lines),
        ext("uncertainty-pct", valueDecimal=scale.uncertainty_pct),
    ]
    if scale.measured_by:
        resource["extension"].append(ext("measured-by", valueReference=who(scale.measured_by)))
    resource |= {
        "owner": reference("Organization", scale.clinic_id),
        "deviceName": [{"name": scale.setting, "type": "user-friendly-name"}],
        "type": {"text": DERMOSCOPE_SCALE},
    }
    return _tidy(resource)


def device_lot(lot: CartridgeLot) -> dict[str, Any]:
    """A lot of needle cartridges: what a Procedure used and what a recall names."""
    resource = _base("Device", lot.id, lot.created_at)
    resource["extension"].append(ext("received-on", valueDate=lot.received_on.isoformat()))
    resource |= {
        "lotNumber": lot.lot_number,
        "expirationDate": lot.expires_on.isoformat(),
        "type": {"text": "Needle cartridge"},
        "parent": reference("Device", lot.device_id),
    }
    return _tidy(resource)


def procedure(record: SessionRecord, who: Who) -> dict[str, Any]:
    resource = _base("Procedure", record.id, record.created_at)
    resource["extension"] += [
        ext(
            "device-as-recorded",
            extension=[
                {"url": "name", "valueString": record.device_name},
                {"url": "lot-number", "valueString": record.cartridge_lot},
                {"url": "expiry", "valueDate": record.cartridge_expiry.isoformat()},
            ],
        ),
        ext(
            "pre-session-check",
            valueAttachment=json_attachment(record.pre_session_check, "pre-session check"),
        ),
    ]
    for region, depth_mm in record.depth_mm_by_region.items():
        resource["extension"].append(
            ext(
                "needle-depth",
                extension=[
                    {"url": "region", "valueCoding": codes.local_coding("scalp-region", region)},
                    {"url": "depth", "valueQuantity": codes.ucum_quantity(depth_mm, "mm")},
                ],
            )
        )
    if record.pain_score is not None:
        resource["extension"].append(ext("pain-score", valueInteger=record.pain_score))
    if record.reactions:
        resource["extension"].append(ext("reactions", valueString=record.reactions))
    if record.appointment_id:
        resource["extension"].append(
            ext("appointment", valueReference=reference("Appointment", record.appointment_id))
        )
    voided = _void(resource, record, who)
    resource |= {
        "status": "entered-in-error" if voided else "completed",
        "basedOn": [reference("CarePlan", record.plan_id)],
        "code": {"coding": [codes.local_coding("procedure", "scalp-microneedling")]},
        "subject": reference("Patient", record.patient_id),
        "performedDateTime": instant(record.performed_at),
        "performer": [{"actor": who(record.performed_by_id)}],
        "bodySite": [_region(region) for region in record.depth_mm_by_region],
        "outcome": {"coding": [codes.local_coding("session-endpoint", record.endpoint)]},
    }
    if record.lot_id:
        resource["focalDevice"] = [{"manipulated": reference("Device", record.lot_id)}]
    if record.notes:
        resource["note"] = [{"text": record.notes}]
    return _tidy(resource)


def image_file_name(sha256: str, media_type: str) -> str:
    """Where an image sits in a download.

    >>> image_file_name("ab" * 32, "image/jpeg")[:10]
    'images/aba'
    """
    return f"images/{sha256}{EXTENSIONS[media_type]}"


def media(image: Image, who: Who) -> dict[str, Any]:
    resource = _base("Media", image.id, image.created_at)
    resource["identifier"].append(
        {"system": codes.IDENTIFIER + "sha256", "value": image.content_sha256}
    )
    resource["extension"].append(ext("released-to-patient", valueBoolean=image.released_to_patient))
    if image.um_per_px is not None:
        resource["extension"].append(ext("um-per-px", valueDecimal=image.um_per_px))
    if image.dermoscope_scale_id is not None:
        resource["device"] = reference("Device", image.dermoscope_scale_id)
    voided = _void(resource, image, who)
    resource |= {
        "status": "entered-in-error" if voided else "completed",
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/media-type", "code": "image"}
            ]
        },
        "modality": {"coding": [codes.local_coding("image-kind", image.kind)]},
        "subject": reference("Patient", image.patient_id),
        "createdDateTime": instant(image.taken_at),
        "width": image.width_px,
        "height": image.height_px,
        "content": {
            "contentType": image.media_type,
            "url": image_file_name(image.content_sha256, image.media_type),
            "title": f"{image.kind} {image.taken_at.date().isoformat()}",
        },
    }
    if image.view:
        resource["view"] = {"coding": [codes.local_coding("photo-view", image.view)]}
    if image.site:
        resource["bodySite"] = _region(image.site)
    if image.session_record_id:
        resource["partOf"] = [reference("Procedure", image.session_record_id)]
    if image.uploaded_by_id:
        resource["operator"] = who(image.uploaded_by_id)
    return _tidy(resource)


def _component(code: str, value: float | int | None) -> dict[str, Any]:
    unit = next(u for c, _d, u in codes.HAIR_METRICS if c == code)
    component: dict[str, Any] = {"code": {"coding": [codes.local_coding("hair-metric", code)]}}
    if value is None:
        component["dataAbsentReason"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                    "code": "not-applicable",
                }
            ]
        }
    else:
        component["valueQuantity"] = codes.ucum_quantity(value, unit)
    return component


def observation(measurement: Measurement, who: Who) -> dict[str, Any]:
    """One trichoscopy image's hair metrics, with the per-hair result attached."""
    resource = _base("Observation", measurement.id, measurement.created_at)
    resource["extension"].append(
        ext("source-document", valueAttachment=json_attachment(measurement.result, "hairs"))
    )
    voided = _void(resource, measurement, who)
    area = measurement.area_cm2
    values: dict[str, float | int | None] = {
        "hair-count": measurement.hair_count,
        "image-area": area,
        "hair-density": measurement.density_per_cm2,
        "terminal-count": measurement.terminal_count,
        "vellus-count": measurement.vellus_count,
        "terminal-density": round(measurement.terminal_count / area, 1) if area else None,
        "vellus-threshold": measurement.vellus_threshold_um,
        "mean-diameter": measurement.mean_diameter_um,
        "diameter-cv": measurement.diameter_cv,
    }
    resource |= {
        "status": "entered-in-error" if voided else "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "imaging",
                    }
                ]
            }
        ],
        "code": {"coding": [codes.local_coding("hair-metric", "hair-metrics")]},
        "subject": reference("Patient", measurement.patient_id),
        "effectiveDateTime": instant(measurement.measured_at),
        "method": {"text": f"Follicle trichoscopy analyser {measurement.analyser_version}"},
        "derivedFrom": [reference("Media", measurement.image_id)],
        "component": [_component(code, value) for code, value in values.items()],
    }
    if measurement.site:
        resource["bodySite"] = _region(measurement.site)
    warnings = image_warnings_of(measurement.result)
    if warnings:  # (for a reader of the bundle; the attached result keeps them too)
        resource["note"] = [{"text": f"The image {warning}."} for warning in warnings]
    return _tidy(resource)


def patient_outcome(outcome: PatientOutcome, who: Who) -> dict[str, Any]:
    """The patient's own view of the change, a survey answer (-3 … +3)."""
    resource = _base("Observation", outcome.id, outcome.created_at)
    resource |= {
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {"coding": [codes.local_coding("patient-outcome", "hair-change")]},
        "subject": reference("Patient", outcome.patient_id),
        "effectiveDateTime": instant(outcome.answered_at),
        "performer": [who(outcome.recorded_by_id)],
        "valueInteger": outcome.change_score,
    }
    if outcome.comment:
        resource["note"] = [{"text": outcome.comment}]
    return _tidy(resource)


SEVERITY = {1: "mild", 2: "moderate"}


def adverse_event(event: AdverseEvent, who: Who) -> dict[str, Any]:
    resource = _base("AdverseEvent", event.id, event.created_at)
    resource["identifier"] = resource["identifier"][0]  # 0..1 on AdverseEvent
    resource["extension"].append(ext("ctcae-grade", valueInteger=event.grade))
    if event.cleared_at:
        parts: list[dict[str, Any]] = [{"url": "at", "valueInstant": instant(event.cleared_at)}]
        if event.cleared_by_id:
            parts.append({"url": "by", "valueReference": who(event.cleared_by_id)})
        if event.clearance_note:
            parts.append({"url": "note", "valueString": event.clearance_note})
        resource["extension"].append(ext("cleared", extension=parts))
    if event.graded_at:  # (graded by a practitioner: as first reported, and who graded it)
        graded: list[dict[str, Any]] = [
            {"url": "at", "valueInstant": instant(event.graded_at)},
            {"url": "reported-category", "valueCode": event.reported_category},
            {"url": "reported-grade", "valueInteger": event.reported_grade},
        ]
        if event.graded_by_id:
            graded.append({"url": "by", "valueReference": who(event.graded_by_id)})
        if event.grading_note:
            graded.append({"url": "note", "valueString": event.grading_note})
        resource["extension"].append(ext("graded", extension=graded))
    _void(resource, event, who)
    resource |= {
        "actuality": "actual",
        "event": {
            "coding": [codes.local_coding("adverse-event-category", event.category)],
            "text": event.description,
        },
        "subject": reference("Patient", event.patient_id),
        "date": event.onset_on.isoformat(),
        "recordedDate": instant(event.created_at),
        "recorder": who(event.reported_by_id),
        "seriousness": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
                    "code": "serious" if event.serious else "non-serious",
                }
            ]
        },
        "severity": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
                    "code": SEVERITY.get(event.grade, "severe"),
                }
            ]
        },
        "outcome": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-outcome",
                    "code": "resolved" if event.status == "cleared" else "ongoing",
                }
            ]
        },
    }
    if event.session_record_id:
        resource["suspectEntity"] = [{"instance": reference("Procedure", event.session_record_id)}]
    return _tidy(resource)
