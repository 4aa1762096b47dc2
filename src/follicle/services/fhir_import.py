"""Import of Follicle's own FHIR R4B export: the same patients and records, with the same ids.

All or nothing, in one transaction. The bundle is validated with ``fhir.resources.R4B`` first;
errors name the entry and field. Clinics, staff, devices, lots and consent texts already present
(same id) are reused; any patient record already present is refused, so an import never
overwrites. Staff and portal accounts arrive without passwords: they sign in after a
password reset or an invitation. Images come from the ZIP (or are already in the store) and
must match their SHA-256. A RelatedPerson (who signed a consent for the patient) needs no
row of its own: the Consent's signed name and representative extension carry it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.clinic.errors import FieldError, InputInvalid
from follicle.documents import fhir_codes as codes
from follicle.documents.fhir_intake import intake_document
from follicle.documents.fhir_resources import (
    APPOINTMENT_STATUS,
    DERMOSCOPE_SCALE,
    TIMEZONE_EXTENSION,
    image_file_name,
)
from follicle.records.files import EXTENSIONS, ImageStore
from follicle.records.models import (
    AdverseEvent,
    Appointment,
    AppointmentRequest,
    Base,
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
    utcnow,
)
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.common import audit_write
from follicle.services.database import Database
from follicle.services.messages import parse_operations

Resource = dict[str, Any]


class ImportRefused(InputInvalid):
    """The bundle cannot be imported; each error names the entry (``/entry/7/resource/…``)."""


@dataclass
class ImportSummary:
    patients: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)


def _validation_errors(exc: ValidationError) -> list[FieldError]:
    return [
        FieldError("/" + "/".join(str(part) for part in error["loc"]), error["msg"])
        for error in exc.errors()[:50]
    ]


def unresolved_references(bundle: dict[str, Any]) -> list[FieldError]:
    """Every ``reference`` that names no entry of the bundle."""
    present = {
        f"{e['resource']['resourceType']}/{e['resource'].get('id')}" for e in bundle["entry"]
    }
    problems: list[FieldError] = []

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            target = node.get("reference")
            if isinstance(target, str) and target not in present:
                problems.append(
                    FieldError(pointer + "/reference", f"{target} is not in the bundle")
                )
            for key, value in node.items():
                walk(value, f"{pointer}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{pointer}/{index}")

    walk(bundle.get("entry", []), "/entry")
    return problems


def checked_bundle(raw: Any) -> dict[str, Any]:
    """The bundle as JSON, if it is a valid R4B collection whose references all resolve."""
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise ImportRefused([FieldError("/resourceType", "expected a FHIR Bundle")])
    try:
        loaded: dict[str, Any] = json.loads(Bundle.model_validate(raw).model_dump_json())
    except ValidationError as exc:
        raise ImportRefused(_validation_errors(exc)) from None
    if loaded.get("type") != "collection":
        raise ImportRefused([FieldError("/type", "expected a collection bundle")])
    loaded.setdefault("entry", [])
    problems = unresolved_references(loaded)
    if problems:
        raise ImportRefused(problems[:50])
    return loaded


def _ext(resource: Resource, name: str) -> Resource | None:
    url = name if "://" in name else codes.EXTENSION + name
    return next((e for e in resource.get("extension", []) if e["url"] == url), None)


def _exts(resource: Resource, name: str) -> list[Resource]:
    return [e for e in resource.get("extension", []) if e["url"] == codes.EXTENSION + name]


def _part(extension: Resource | None, url: str) -> Any:
    if extension is None:
        return None
    for part in extension.get("extension", []):
        if part["url"] == url:
            return next(v for k, v in part.items() if k.startswith("value"))
    return None


def _value(resource: Resource, name: str) -> Any:
    found = _ext(resource, name)
    if found is None:
        return None
    return next(v for k, v in found.items() if k.startswith("value"))


def _is_scale(device: Resource) -> bool:
    """A measured dermoscope scale, not a microneedling device's model."""
    return bool(device.get("type", {}).get("text") == DERMOSCOPE_SCALE)


def _identifier(resource: Resource, system: str = "id") -> str | None:
    found = resource.get("identifier")
    entries = found if isinstance(found, list) else [found] if found else []
    return next(
        (str(i["value"]) for i in entries if i.get("system") == codes.IDENTIFIER + system), None
    )


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _code(concept: Resource | None, system_name: str) -> str | None:
    for coding in (concept or {}).get("coding", []):
        if coding.get("system") == codes.local_system(system_name):
            return str(coding["code"])
    return None


def _coded(resource: Resource, name: str, system: str | None = None) -> str | None:
    """The code of one of our valueCoding extensions (staff role, sex at birth, …)."""
    coding = _value(resource, name)
    return _code({"coding": [coding]}, system or name) if coding else None


def _document(attachment: Resource | None) -> Any:
    if attachment is None:
        return None
    return json.loads(base64.b64decode(attachment["data"]))


def _recorded_at(resource: Resource) -> datetime:
    return _instant(_value(resource, "recorded-at")) or utcnow()


def _voids(resource: Resource, by: Callable[[Resource | None], str | None]) -> dict[str, Any]:
    found = _ext(resource, "voided")
    if found is None:
        return {}
    return {
        "voided_at": _instant(_part(found, "at")),
        "void_reason": _part(found, "reason"),
        "voided_by_id": by(_part(found, "by")),
    }


class _Importer:
    def __init__(self, session: Session, bundle: dict[str, Any]) -> None:
        self.session = session
        self.entries = [e["resource"] for e in bundle["entry"]]
        self.by_ref = {f"{r['resourceType']}/{r.get('id')}": r for r in self.entries}
        self.summary = ImportSummary()
        self.problems: list[FieldError] = []
        self.pointer = {id(r): f"/entry/{n}/resource" for n, r in enumerate(self.entries)}
        self.needed_images: list[tuple[Resource, str, str]] = []
        self.refused_patients: set[str] = set()

    def of(self, kind: str) -> list[Resource]:
        return [r for r in self.entries if r["resourceType"] == kind]

    def refused(self, resource: Resource, message: str) -> None:
        self.problems.append(FieldError(self.pointer[id(resource)], message))

    def target(self, ref: Resource | None) -> Resource | None:
        return self.by_ref.get(ref["reference"]) if ref else None

    def fid(self, ref: Resource | None) -> str | None:
        """The Follicle id of the resource a reference names."""
        found = self.target(ref)
        return _identifier(found) if found else None

    def who(self, ref: Resource | None) -> str | None:
        """A user id for a Practitioner reference, or the portal account for a Patient one."""
        found = self.target(ref)
        if found is None:
            return None
        if found["resourceType"] == "Patient":
            return _identifier(found, "portal-account")
        return _identifier(found)

    def count(self, kind: str, created: bool) -> None:
        tally = self.summary.created if created else self.summary.reused
        tally[kind] = tally.get(kind, 0) + 1

    def _new(self, model: type[Base], resource: Resource) -> bool:
        """True if the record is new; a clash with an existing patient record is refused."""
        follicle_id = _identifier(resource)
        if not follicle_id:
            self.refused(resource, "no Follicle id (identifier system …/identifier/id)")
            return False
        if self.session.get(model, follicle_id) is not None:
            self.refused(resource, f"{follicle_id} is already in this database")
            return False
        return True

    def _shared(self, model: type[Base], resource: Resource) -> bool:
        """True if a shared record (clinic, staff, device) must be created."""
        exists = self.session.get(model, _identifier(resource)) is not None
        self.count(resource["resourceType"], created=not exists)
        return not exists

    # -- shared records ---------------------------------------------------------------------

    def clinics(self) -> None:
        for resource in self.of("Organization"):
            if not self._shared(Clinic, resource):
                continue
            slug = _identifier(resource, "clinic-slug") or str(_identifier(resource))
            if self.session.scalar(select(Clinic.id).where(Clinic.slug == slug)):
                self.refused(resource, f"another clinic already uses the short name {slug!r}")
                continue
            zone = _ext(resource, TIMEZONE_EXTENSION)
            phone = next(
                (t.get("value") for t in resource.get("telecom", []) if t.get("system") == "phone"),
                None,
            )
            try:
                operations = parse_operations({"clinic_phone": phone}) if phone else {}
            except InputInvalid as exc:
                self.refused(resource, f"telecom: {exc.errors[0].message}")
                continue
            self.session.add(
                Clinic(
                    id=_identifier(resource),
                    name=resource.get("name", slug),
                    slug=slug,
                    time_zone=zone["valueCode"] if zone else "UTC",
                    settings={},
                    operations={"clinic_phone": operations["clinic_phone"]} if phone else {},
                    created_at=_recorded_at(resource),
                )
            )

    def staff(self) -> None:
        roles = {r["practitioner"]["reference"]: r for r in self.of("PractitionerRole")}
        for resource in self.of("Practitioner"):
            if not self._shared(UserAccount, resource):
                continue
            role = roles.get(f"Practitioner/{resource['id']}")
            clinic_id = self.fid(role.get("organization")) if role else None
            if clinic_id is None:
                self.refused(resource, "no PractitionerRole names this person's clinic")
                continue
            email = next(
                (t["value"] for t in resource.get("telecom", []) if t.get("system") == "email"),
                f"{_identifier(resource)}@imported.invalid",
            )
            if self.session.scalar(select(UserAccount.id).where(UserAccount.email == email)):
                self.refused(resource, f"another account already uses {email}")
                continue
            qualification = resource.get("qualification", [{}])[0].get("code")
            self.session.add(
                UserAccount(
                    id=_identifier(resource),
                    clinic_id=clinic_id,
                    email=email,
                    display_name=resource.get("name", [{}])[0].get("text", ""),
                    role=_coded(resource, "staff-role") or "practitioner",
                    credential=_code(qualification, "credential"),
                    password_hash=None,
                    active=bool(resource.get("active", True)),
                    created_at=_recorded_at(resource),
                )
            )

    def devices(self) -> None:
        devices = self.of("Device")
        scales = [d for d in devices if _is_scale(d)]
        models = [d for d in devices if not _is_scale(d) and "parent" not in d]
        lots = [d for d in devices if "parent" in d]
        for resource in models:
            if self._shared(Device, resource):
                self.session.add(
                    Device(
                        id=_identifier(resource),
                        clinic_id=self.fid(resource.get("owner")),
                        maker=resource.get("manufacturer", ""),
                        model=resource.get("modelNumber", ""),
                        needle_configuration=_value(resource, "needle-configuration") or "",
                        regulatory_status=_value(resource, "regulatory-status") or "",
                        active=resource.get("status") != "inactive",
                        created_at=_recorded_at(resource),
                    )
                )
        self.session.flush()
        for resource in lots:
            if self._shared(CartridgeLot, resource):
                self.session.add(
                    CartridgeLot(
                        id=_identifier(resource),
                        clinic_id=self.fid((self.target(resource["parent"]) or {}).get("owner")),
                        device_id=self.fid(resource["parent"]),
                        lot_number=resource.get("lotNumber", ""),
                        expires_on=_day(resource.get("expirationDate")),
                        received_on=_day(_value(resource, "received-on")),
                        created_at=_recorded_at(resource),
                    )
                )
        for resource in scales:
            if self._shared(DermoscopeScale, resource):
                self.session.add(
                    DermoscopeScale(
                        id=_identifier(resource),
                        clinic_id=self.fid(resource.get("owner")),
                        setting=resource.get("deviceName", [{}])[0].get("name", ""),
                        um_per_px=_value(resource, "um-per-px"),
                        line_spacing_um=_value(resource, "line-spacing-um"),
                        lines=_value(resource, "lines"),
                        uncertainty_pct=_value(resource, "uncertainty-pct"),
                        measured_by=self.who(_value(resource, "measured-by")),
                        created_at=_recorded_at(resource),
                    )
                )

    # -- one patient's record ---------------------------------------------------------------

    def patient(self, resource: Resource, clinic_id: str) -> None:
        name = resource.get("name", [{}])[0]
        telecom = {t.get("system"): t.get("value") for t in resource.get("telecom", [])}
        sex = _coded(resource, "sex-at-birth")
        follicle_id = str(_identifier(resource))
        self.session.add(
            Patient(
                id=follicle_id,
                clinic_id=clinic_id,
                given_name=" ".join(name.get("given", [])),
                family_name=name.get("family", ""),
                date_of_birth=_day(resource.get("birthDate")),
                sex_at_birth=sex
                or {"female": "female", "male": "male"}.get(resource.get("gender", ""), "intersex"),
                email=telecom.get("email"),
                phone=telecom.get("phone"),
                created_at=_recorded_at(resource),
                **_voids(resource, self.who),
            )
        )
        self.summary.patients.append(follicle_id)
        self.count("Patient", created=True)
        self.session.flush()
        portal = _identifier(resource, "portal-account")
        if portal and self.session.get(UserAccount, portal) is None:
            email = telecom.get("email") or f"{portal}@imported.invalid"
            if self.session.scalar(select(UserAccount.id).where(UserAccount.email == email)):
                self.refused(resource, f"another account already uses {email}")
                return
            self.session.add(
                UserAccount(
                    id=portal,
                    clinic_id=clinic_id,
                    email=email,
                    display_name=f"{' '.join(name.get('given', []))} {name.get('family', '')}",
                    role="patient",
                    patient_id=follicle_id,
                    password_hash=None,
                    active=True,
                )
            )
            self.session.flush()

    def records(self, patient_clinics: dict[str, str]) -> None:
        """Every record, table by table in the order their foreign keys need."""
        steps: list[tuple[str, Callable[[Resource, str, str], Base | None]]] = [
            ("QuestionnaireResponse", self.intake),
            ("RiskAssessment", self.screening),
            ("Consent", self.consent),
            ("CarePlan", self.plan),
            ("Appointment", self.appointment),
            # (after the visits they name: one flush does not order rows by foreign key)
            ("Appointment", self.appointment_request),
            ("Procedure", self.session_record),
            ("Media", self.image),
            ("Observation", self.observation),
            ("AdverseEvent", self.adverse_event),
        ]
        for kind, build in steps:
            found = sorted(self.of(kind), key=lambda r: (_recorded_at(r), _identifier(r) or ""))
            if kind == "Appointment":
                requests = build == self.appointment_request
                found = [r for r in found if (_model_of(r) is AppointmentRequest) == requests]
            for resource in found:
                subject = resource.get("subject") or resource.get("patient")
                for participant in resource.get("participant", []):
                    if participant["actor"]["reference"].startswith("Patient/"):
                        subject = participant["actor"]
                patient_id = self.fid(subject)
                if patient_id in self.refused_patients:
                    continue  # already reported once, on the patient
                if patient_id not in patient_clinics:
                    self.refused(resource, "its patient is not in the bundle")
                    continue
                model = _model_of(resource)
                if self._new(model, resource):
                    row = build(resource, str(patient_id), patient_clinics[str(patient_id)])
                    if row is not None:
                        self.session.add(row)
                        self.count(kind, created=True)
            self.session.flush()

    def intake(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        amends = _ext(r, "amends")
        document = intake_document(r.get("item", []))
        return Intake(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            document=document,
            working_diagnosis=str(document.get("hair_loss", {}).get("working_diagnosis", "")),
            recorded_on=_day(r.get("authored")),
            amends_id=self.fid(_part(amends, "intake")),
            amend_reason=_part(amends, "reason"),
            recorded_by_id=self.who(r.get("author")),
            created_at=_recorded_at(r),
            **_voids(r, self.who),
        )

    def screening(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        result = _document(_value(r, "source-document"))
        return ScreeningResult(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            intake_id=self.fid(r["basis"][0]),
            decision=_coded(r, "screening-decision"),
            result=result,
            rules_version=str(result.get("rules_version", "")),
            screened_by_id=self.who(r.get("performer")),
            created_at=_recorded_at(r),
            **_voids(r, self.who),
        )

    def _consent_text(self, r: Resource, clinic_id: str) -> str:
        about = _ext(r, "consent-text")
        text_id = str(_part(about, "id"))
        if self.session.get(ConsentText, text_id) is None:
            source = r["sourceAttachment"]
            self.session.add(
                ConsentText(
                    id=text_id,
                    clinic_id=clinic_id,
                    kind=_code(r["category"][0], "consent-kind"),
                    version_number=_part(about, "version"),
                    title=source.get("title", ""),
                    body=base64.b64decode(source["data"]).decode(),
                    published_at=_instant(_part(about, "published-at")),
                    created_at=_instant(_part(about, "recorded-at")) or utcnow(),
                )
            )
            self.session.flush()
            self.count("ConsentText", created=True)
        return text_id

    def consent(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        withdrawn = _ext(r, "withdrawn")
        signature = _value(r, "signature")
        return Consent(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            consent_text_id=self._consent_text(r, clinic_id),
            signed_at=_instant(r.get("dateTime")),
            signed_name=_value(r, "signed-name") or "",
            representative=_value(r, "representative"),
            signature_png=base64.b64decode(signature["data"]) if signature else None,
            witnessed_by_id=self.who(_value(r, "witness")),
            withdrawn_at=_instant(_part(withdrawn, "at")),
            withdrawn_reason=_part(withdrawn, "reason"),
            created_at=_recorded_at(r),
        )

    def plan(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        timing = r["activity"][0]["detail"]["scheduledTiming"]["repeat"]
        return Plan(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            screening_id=self.fid(r["supportingInfo"][0]),
            status=_value(r, "plan-status"),
            document=_document(_value(r, "source-document")),
            indication=_coded(r, "indication", "working-diagnosis"),
            needle_depth_mm=float(_value(r, "needle-depth")["value"]),
            interval_days=int(timing["period"]),
            sessions_planned=int(timing["count"]),
            review_on=_day(_value(r, "review-date")),
            override_reason=_value(r, "override-reason"),
            proposed_by_id=self.who(r.get("author")),
            approved_by_id=self.who(_value(r, "approved-by")),
            approved_at=_instant(_value(r, "approved-at")),
            hold_reason=_value(r, "hold-reason"),
            stopped_at=_instant(_value(r, "stopped-at")),
            stopped_by_id=self.who(_value(r, "stopped-by")),
            stop_reason=_value(r, "stop-reason"),
            created_at=_recorded_at(r),
            **_voids(r, self.who),
        )

    def appointment(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        statuses = {fhir: ours for ours, fhir in APPOINTMENT_STATUS.items()}
        practitioner = next(
            p["actor"] for p in r["participant"] if "Practitioner/" in p["actor"]["reference"]
        )
        plans = r.get("supportingInformation", [])
        changed = _ext(r, "status-changed")
        return Appointment(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            practitioner_id=self.who(practitioner),
            plan_id=self.fid(plans[0]) if plans else None,
            kind=_code(r.get("appointmentType"), "appointment-kind"),
            status=statuses[r["status"]],
            starts_at=_instant(r["start"]),
            ends_at=_instant(r["end"]),
            series_number=_value(r, "series-number"),
            status_reason=(r.get("cancelationReason") or {}).get("text"),
            status_changed_at=_instant(_part(changed, "at")),
            status_changed_by_id=self.who(_part(changed, "by")),
            created_at=_instant(r.get("created")) or utcnow(),
        )

    def appointment_request(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        status = _value(r, "request-status")
        answered = _ext(r, "answered")
        return AppointmentRequest(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            kind=_code(r.get("appointmentType"), "appointment-kind"),
            preferred_times=r.get("comment", ""),
            instead_of_id=self.fid(_value(r, "instead-of")),
            requested_by_id=self.who(_value(r, "requested-by")),
            status=status,
            closed_at=_instant(_part(answered, "at")),
            closed_by_id=self.who(_part(answered, "by")),
            closed_reason=(r.get("cancelationReason") or {}).get("text")
            if status == "closed"
            else None,
            booked_appointment_id=self.fid(_value(r, "booked-as")),
            created_at=_recorded_at(r),
        )

    def session_record(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        device = _ext(r, "device-as-recorded")
        depths = {
            _code({"coding": [_part(e, "region")]}, "scalp-region"): _part(e, "depth")["value"]
            for e in _exts(r, "needle-depth")
        }
        focal = r.get("focalDevice", [])
        notes = r.get("note", [])
        return SessionRecord(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            plan_id=self.fid(r["basedOn"][0]),
            appointment_id=self.fid(_value(r, "appointment")),
            performed_by_id=self.who(r["performer"][0]["actor"]),
            performed_at=_instant(r["performedDateTime"]),
            lot_id=self.fid(focal[0]["manipulated"]) if focal else None,
            device_name=_part(device, "name"),
            cartridge_lot=_part(device, "lot-number"),
            cartridge_expiry=_day(_part(device, "expiry")),
            depth_mm_by_region=depths,
            endpoint=_code(r.get("outcome"), "session-endpoint"),
            pain_score=_value(r, "pain-score"),
            pre_session_check=_document(_value(r, "pre-session-check")),
            reactions=_value(r, "reactions"),
            notes=notes[0]["text"] if notes else None,
            created_at=_recorded_at(r),
            **_voids(r, self.who),
        )

    def image(self, r: Resource, patient_id: str, clinic_id: str) -> Base | None:
        sha256 = _identifier(r, "sha256") or ""
        media_type = r["content"]["contentType"]
        if media_type not in EXTENSIONS:
            self.refused(r, f"unsupported image type {media_type}")
            return None
        self.needed_images.append((r, sha256, media_type))
        parts = r.get("partOf", [])
        return Image(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            session_record_id=self.fid(parts[0]) if parts else None,
            content_sha256=sha256,
            kind=_code(r.get("modality"), "image-kind"),
            view=_code(r.get("view"), "photo-view"),
            site=_code(r.get("bodySite"), "scalp-region"),
            um_per_px=_value(r, "um-per-px"),
            dermoscope_scale_id=self.fid(r.get("device")),
            media_type=media_type,
            width_px=r["width"],
            height_px=r["height"],
            taken_at=_instant(r["createdDateTime"]),
            uploaded_by_id=self.who(r.get("operator")),
            released_to_patient=bool(_value(r, "released-to-patient")),
            created_at=_recorded_at(r),
            **_voids(r, self.who),
        )

    def observation(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        if _model_of(r) is PatientOutcome:
            return self.patient_outcome(r, patient_id, clinic_id)
        return self.measurement(r, patient_id, clinic_id)

    def patient_outcome(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        performers = r.get("performer", [])
        return PatientOutcome(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            answered_at=_instant(r.get("effectiveDateTime")),
            change_score=int(r["valueInteger"]),
            comment=(r.get("note") or [{}])[0].get("text"),
            recorded_by_id=self.who(performers[0] if performers else None),
            created_at=_recorded_at(r),
        )

    def measurement(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        values: dict[str | None, Any] = {
            _code(c["code"], "hair-metric"): (c.get("valueQuantity") or {}).get("value")
            for c in r.get("component", [])
        }
        result = _document(_value(r, "source-document"))
        return Measurement(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            image_id=self.fid(r["derivedFrom"][0]),
            site=_code(r.get("bodySite"), "scalp-region"),
            measured_at=_instant(r["effectiveDateTime"]),
            hair_count=int(values["hair-count"]),
            area_cm2=values["image-area"],
            density_per_cm2=values["hair-density"],
            terminal_count=int(values["terminal-count"]),
            vellus_count=int(values["vellus-count"]),
            vellus_threshold_um=values["vellus-threshold"],
            mean_diameter_um=values.get("mean-diameter"),
            diameter_cv=values.get("diameter-cv"),
            result=result,
            analyser_version=r["method"]["text"].rsplit(" ", 1)[-1],
            created_at=_recorded_at(r),
            **_voids(r, self.who),
        )

    def adverse_event(self, r: Resource, patient_id: str, clinic_id: str) -> Base:
        cleared = _ext(r, "cleared")
        graded = _ext(r, "graded")
        suspects = r.get("suspectEntity", [])
        seriousness = r["seriousness"]["coding"][0]["code"]
        return AdverseEvent(
            id=_identifier(r),
            clinic_id=clinic_id,
            patient_id=patient_id,
            session_record_id=self.fid(suspects[0]["instance"]) if suspects else None,
            category=_code(r["event"], "adverse-event-category"),
            grade=_value(r, "ctcae-grade"),
            serious=seriousness == "serious",
            description=r["event"].get("text", ""),
            onset_on=_day(r.get("date")),
            reported_by_id=self.who(r.get("recorder")),
            status="cleared" if cleared else "open",
            cleared_by_id=self.who(_part(cleared, "by")),
            cleared_at=_instant(_part(cleared, "at")),
            clearance_note=_part(cleared, "note"),
            reported_category=_part(graded, "reported-category"),
            reported_grade=_part(graded, "reported-grade"),
            graded_by_id=self.who(_part(graded, "by")),
            graded_at=_instant(_part(graded, "at")),
            grading_note=_part(graded, "note"),
            created_at=_recorded_at(r),
            **_voids(r, self.who),
        )


def _model_of(resource: Resource) -> type[Base]:
    """The table a resource's record goes to: an Observation is a trichoscopy measurement,
    or the patient's own view of the change (coded so)."""
    kind = resource["resourceType"]
    if kind == "Observation" and _code(resource.get("code"), "patient-outcome"):
        return PatientOutcome
    if kind == "Appointment" and _ext(resource, "request-status"):
        return AppointmentRequest  # (a visit the patient asked for, with no time yet)
    return MODELS[kind]


MODELS: dict[str, type[Base]] = {
    "QuestionnaireResponse": Intake,
    "RiskAssessment": ScreeningResult,
    "Consent": Consent,
    "CarePlan": Plan,
    "Appointment": Appointment,
    "Procedure": SessionRecord,
    "Media": Image,
    "Observation": Measurement,
    "AdverseEvent": AdverseEvent,
}


def import_bundle(
    db: Database,
    store: ImageStore,
    actor: Actor,
    raw: Any,
    files: dict[str, bytes] | None = None,
) -> ImportSummary:
    """Import a bundle (and the images of its ZIP): all of it, or nothing with the reasons."""
    authorize(actor, Permission.RECORD_IMPORT)
    bundle = checked_bundle(raw)
    files = files or {}
    with db.transaction() as session:
        importer = _Importer(session, bundle)
        importer.clinics()
        session.flush()
        importer.staff()
        importer.devices()
        session.flush()
        clinics: dict[str, str] = {}
        for resource in importer.of("Patient"):
            clinic_id = importer.fid(resource.get("managingOrganization"))
            if clinic_id is None:
                importer.refused(resource, "managingOrganization must name the clinic")
            elif not importer._new(Patient, resource):
                importer.refused_patients.add(str(_identifier(resource)))
            else:
                importer.patient(resource, clinic_id)
                clinics[str(_identifier(resource))] = clinic_id
        importer.records(clinics)
        contents: list[tuple[bytes, str]] = []
        for resource, sha256, media_type in importer.needed_images:
            content = files.get(image_file_name(sha256, media_type))
            if content is None:
                try:
                    content = store.get(sha256, media_type)
                except (OSError, ValueError):
                    importer.refused(
                        resource,
                        f"image {image_file_name(sha256, media_type)} "
                        "is neither in the archive nor in the image store",
                    )
                    continue
            if hashlib.sha256(content).hexdigest() != sha256:
                importer.refused(resource, "the image file does not match its SHA-256")
                continue
            contents.append((content, media_type))
        if importer.problems:
            raise ImportRefused(importer.problems[:50])
        for content, media_type in contents:
            store.put(content, media_type)
        for patient_id, clinic_id in clinics.items():
            audit_write(
                session,
                actor,
                "fhir.import",
                "patient",
                patient_id,
                clinic_id,
                {"bundle": bundle.get("id"), "created": importer.summary.created},
            )
        return importer.summary
