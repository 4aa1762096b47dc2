"""FHIR R4B export of one patient or a whole clinic: a ``collection`` Bundle in which every
reference resolves, validated with ``fhir.resources.R4B`` before it leaves (contracts §5).

Photos travel by reference: each Media names ``images/<sha256>.<ext>``, the file's place in the
ZIP download (bundle.json plus the images), which is also what ``follicle import fhir`` reads.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from follicle.documents import fhir_codes as codes
from follicle.documents import fhir_resources as fr
from follicle.records.files import ImageStore
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
    utcnow,
)
from follicle.services.actors import Actor
from follicle.services.authz import Permission, authorize
from follicle.services.common import audit_read, load_patient
from follicle.services.database import Database
from follicle.services.errors import NotFound
from follicle.services.intakes import newest_unamended

#: Record tables in the order their resources appear for each patient.
PATIENT_RECORDS: tuple[Any, ...] = (
    Intake,
    ScreeningResult,
    Consent,
    Plan,
    Appointment,
    AppointmentRequest,
    SessionRecord,
    Image,
    Measurement,
    AdverseEvent,
    PatientOutcome,
)


@dataclass
class FhirExport:
    bundle: dict[str, Any]
    #: (sha256, media type) of every image the bundle names.
    images: list[tuple[str, str]] = field(default_factory=list)


def _rows(session: Session, model: Any, patient_id: str) -> list[Any]:
    query = select(model).where(model.patient_id == patient_id)
    return list(session.scalars(query.order_by(model.created_at, model.id)))


class _Builder:
    """Collects resources, and the people, devices and code systems they refer to."""

    def __init__(self, session: Session, with_contact: bool) -> None:
        self.session = session
        self.with_contact = with_contact
        self.resources: list[dict[str, Any]] = []
        self.people: set[str] = set()
        self.lots: set[str] = set()
        self.scales: set[str] = set()
        self.clinics: set[str] = set()
        self.images: list[tuple[str, str]] = []
        self._patient_users: dict[str, str] = {}

    def who(self, user_id: str) -> dict[str, str]:
        if user_id not in self._patient_users:
            account = self.session.get(UserAccount, user_id)
            self._patient_users[user_id] = (
                account.patient_id if account is not None and account.patient_id else ""
            )
        patient_id = self._patient_users[user_id]
        if patient_id:
            return fr.reference("Patient", patient_id)
        self.people.add(user_id)
        return fr.reference("Practitioner", user_id)

    def add_patient(self, patient: Patient) -> None:
        session = self.session
        self.clinics.add(patient.clinic_id)
        portal = session.scalar(select(UserAccount.id).where(UserAccount.patient_id == patient.id))
        self.resources.append(fr.patient(patient, portal, self.who))
        found = {model: _rows(session, model, patient.id) for model in PATIENT_RECORDS}
        intakes: list[Intake] = found[Intake]
        current = newest_unamended(intakes)
        add = self.resources.append
        for intake in intakes:
            add(fr.questionnaire_response(intake, self.who))
        if current is not None:
            add(fr.condition(current, self.who))
        for screening in found[ScreeningResult]:
            add(fr.risk_assessment(screening, self.who))
        for consent in found[Consent]:
            text = session.get(ConsentText, consent.consent_text_id)
            assert text is not None
            if consent.representative:
                add(fr.related_person(consent))
            add(fr.consent(consent, text, self.who))
        condition_id = "cond_" + current.id if current else None
        for plan in found[Plan]:
            add(fr.care_plan(plan, condition_id, self.who))
        for appointment in found[Appointment]:
            add(fr.appointment(appointment, self.who))
        for request in found[AppointmentRequest]:
            add(fr.appointment_request(request, self.who))
        for record in found[SessionRecord]:
            if record.lot_id:
                self.lots.add(record.lot_id)
            add(fr.procedure(record, self.who))
        for image in found[Image]:
            self.images.append((image.content_sha256, image.media_type))
            if image.dermoscope_scale_id:
                self.scales.add(image.dermoscope_scale_id)
            add(fr.media(image, self.who))
        for measurement in found[Measurement]:
            add(fr.observation(measurement, self.who))
        for event in found[AdverseEvent]:
            add(fr.adverse_event(event, self.who))
        for outcome in found[PatientOutcome]:
            add(fr.patient_outcome(outcome, self.who))

    def shared(self) -> list[dict[str, Any]]:
        """Organizations, practitioners and devices, once each, before the patients."""
        made: list[dict[str, Any]] = []
        scales = [self.session.get(DermoscopeScale, scale_id) for scale_id in sorted(self.scales)]
        read_at = [fr.dermoscope_scale(s, self.who) for s in scales if s]  # (who measured them)
        for user_id in sorted(self.people):
            user = self.session.get(UserAccount, user_id)
            assert user is not None
            made += [fr.practitioner(user, self.with_contact), fr.practitioner_role(user)]
            self.clinics.add(user.clinic_id)
        lots = [self.session.get(CartridgeLot, lot_id) for lot_id in sorted(self.lots)]
        for device_id in sorted({lot.device_id for lot in lots if lot}):
            device = self.session.get(Device, device_id)
            assert device is not None
            made.append(fr.device_model(device))
        made += [fr.device_lot(lot) for lot in lots if lot]
        made += read_at
        clinics = [self.session.get(Clinic, clinic_id) for clinic_id in sorted(self.clinics)]
        return [fr.organization(clinic) for clinic in clinics if clinic] + made


def _code_systems(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    text = json.dumps(resources)
    return [
        codes.code_system_resource(name)
        for name in codes.LOCAL_SYSTEMS
        if json.dumps(codes.local_system(name)) in text
    ]


def _bundle(builder: _Builder) -> dict[str, Any]:
    resources = builder.shared() + builder.resources
    resources += _code_systems(resources)
    raw = {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "type": "collection",
        "timestamp": utcnow().isoformat(),
        "entry": [{"fullUrl": fr.full_url(r), "resource": r} for r in resources],
    }
    # Validation failing here is a bug in the mapping, not bad input: let it raise.
    loaded: dict[str, Any] = json.loads(Bundle.model_validate(raw).model_dump_json())
    return loaded


def resource_counts(bundle: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def export_patient(
    db: Database, actor: Actor, patient_id: str, with_contact: bool = True
) -> FhirExport:
    """One patient's whole record (voided entries included, marked as such).

    ``with_contact=False`` leaves out the staff's email addresses (the patient's own copy)."""
    with db.transaction() as session:
        patient = load_patient(session, actor, patient_id, Permission.RECORD_EXPORT)
        builder = _Builder(session, with_contact)
        builder.add_patient(patient)
        bundle = _bundle(builder)
        audit_read(
            session,
            actor,
            "fhir.export",
            "patient",
            patient.clinic_id,
            [patient.id],
            patient.id,
        )
        return FhirExport(bundle, builder.images)


def export_clinic(db: Database, actor: Actor, clinic_id: str | None = None) -> FhirExport:
    """Every patient of a clinic (of every clinic, for the CLI without ``clinic_id``)."""
    with db.transaction() as session:
        target = clinic_id or actor.clinic_id
        authorize(actor, Permission.CLINIC_EXPORT, clinic_id=target)
        if target is not None and session.get(Clinic, target) is None:
            raise NotFound
        query = select(Patient).order_by(Patient.created_at, Patient.id)
        if target is not None:
            query = query.where(Patient.clinic_id == target)
        patients = list(session.scalars(query))
        builder = _Builder(session, with_contact=True)
        for patient in patients:
            builder.add_patient(patient)
        if target is not None:
            builder.clinics.add(target)
        bundle = _bundle(builder)
        for clinic in sorted({p.clinic_id for p in patients} | builder.clinics):
            audit_read(
                session,
                actor,
                "fhir.export",
                "patient",
                clinic,
                [p.id for p in patients if p.clinic_id == clinic],
            )
        return FhirExport(bundle, builder.images)


def bundle_text(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


README = """\
This archive holds a health record exported from Follicle as FHIR R4B.

bundle.json   a FHIR R4B Bundle (type "collection"): the patient, intakes, screening,
              consents, plans, appointments, sessions, measurements and adverse events
images/       the photos and trichoscopy images; each Media resource in bundle.json names
              its file here (content.url)

Any FHIR R4B reader opens bundle.json. Follicle itself reads the whole archive back with
`follicle import fhir THIS.zip`.
"""


def zip_archive(export: FhirExport, store: ImageStore) -> bytes:
    """bundle.json, a README and every image the bundle names (one patient's, in memory)."""
    buffer = io.BytesIO()
    write_zip(export, store, buffer)
    return buffer.getvalue()


def write_zip(export: FhirExport, store: ImageStore, target: IO[bytes]) -> None:
    """The archive, streamed to a file: a whole clinic's images need not fit in memory."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        archive.writestr("bundle.json", bundle_text(export.bundle))
        written: set[str] = set()
        for sha256, media_type in export.images:
            name = fr.image_file_name(sha256, media_type)
            if name not in written:
                written.add(name)
                archive.writestr(
                    name, store.get(sha256, media_type), compress_type=zipfile.ZIP_STORED
                )
