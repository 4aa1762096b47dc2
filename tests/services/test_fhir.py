"""FHIR R4B export and import (issue: documents; contracts §5): every resource validates, units
are UCUM, every reference resolves, and importing our own export restores the same records."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import inspect, select

from follicle.documents import fhir_codes as codes
from follicle.records.files import ImageStore
from follicle.records.models import (
    AdverseEvent,
    Appointment,
    AppointmentRequest,
    AuditEntry,
    Base,
    CartridgeLot,
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
)
from follicle.services import fhir_export, fhir_import
from follicle.services.actors import Actor, cli_actor
from follicle.services.database import Database
from follicle.services.demo import DEMO_PHONE, load_demo
from follicle.services.errors import Forbidden, NotFound
from follicle.settings import Settings
from tests.conftest import fresh_database_url, settings_for
from tests.support.server import follicle_env, run_follicle

#: Tables an import restores row for row, and the columns it does not carry (bookkeeping
#: and preferences that are not part of the clinical record).
RESTORED: dict[type[Base], set[str]] = {
    Patient: {"version", "updated_at", "education_opt_in", "updates_opt_in", "message_opt_outs"},
    Intake: set(),
    ScreeningResult: set(),
    ConsentText: set(),
    Consent: {"version", "updated_at"},
    Plan: {"version", "updated_at"},
    Appointment: {"version", "updated_at", "room_id"},
    AppointmentRequest: {"version", "updated_at"},
    SessionRecord: {"version", "updated_at"},
    Image: set(),
    Measurement: set(),
    AdverseEvent: {"version", "updated_at"},
    PatientOutcome: set(),
    Device: {"version", "updated_at"},
    CartridgeLot: set(),
    DermoscopeScale: set(),
}
UCUM_UNITS = {"/cm2", "um", "{count}", "cm2", "mm", "1"}


def _env(settings: Settings) -> dict[str, str]:
    return follicle_env(
        FOLLICLE_MODE="demo",
        FOLLICLE_DATA_DIR=str(settings.data_dir),
        FOLLICLE_DATABASE_URL=settings.database_url or "",
        FOLLICLE_SECRET_KEY=settings.secret_key or "",
    )


def _rows(db: Database, model: type[Base], ids: set[str] | None = None) -> dict[str, Any]:
    skip = RESTORED[model]
    with db.transaction() as session:
        found = session.scalars(select(model)).all()
        rows = {
            str(getattr(r, "id")): {  # noqa: B009
                c.key: getattr(r, c.key) for c in inspect(model).column_attrs if c.key not in skip
            }
            for r in found
        }
    return {k: v for k, v in rows.items() if ids is None or k in ids}


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def _check_bundle(bundle: dict[str, Any]) -> None:
    """Each resource validates on its own, UCUM units, resolvable references, known codes."""
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    resources = [e["resource"] for e in bundle["entry"]]
    present = {f"{r['resourceType']}/{r['id']}" for r in resources}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"].endswith(f"/{resource['resourceType']}/{resource['id']}")
    nodes = _walk(resources)
    references = [n["reference"] for n in nodes if isinstance(n.get("reference"), str)]
    assert references
    assert all(ref in present for ref in references)
    quantities = [n for n in nodes if n.get("system") == codes.UCUM]
    assert quantities
    assert all(q["code"] == q["unit"] in UCUM_UNITS for q in quantities)
    published = {
        r["url"]: {c["code"] for c in r["concept"]}
        for r in resources
        if r["resourceType"] == "CodeSystem"
    }
    local = [n for n in nodes if str(n.get("system", "")).startswith(codes.CODE_SYSTEM)]
    assert local
    assert all(n["code"] in published[n["system"]] for n in local)


def test_export_validates_and_import_restores_the_same_records(
    db: Database, settings: Settings, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    load_demo(db, cli_actor(), store=ImageStore(settings.image_dir))
    archive = tmp_path / "clinic.zip"
    exported = run_follicle(["export", "fhir", "--all", "--out", str(archive)], env=_env(settings))
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(archive) as opened:
        bundle = json.loads(opened.read("bundle.json"))
        names = set(opened.namelist())
    _check_bundle(bundle)
    kinds = fhir_export.resource_counts(bundle)
    for kind in ("Patient", "Practitioner", "Organization", "Condition", "Consent", "CarePlan"):
        assert kinds.get(kind, 0) > 0, kind
    for kind in ("QuestionnaireResponse", "Appointment", "Procedure", "Observation", "Media"):
        assert kinds.get(kind, 0) > 0, kind
    assert kinds["AdverseEvent"] > 0
    assert kinds["CodeSystem"] >= 10
    phones = [
        e["resource"].get("telecom")
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Organization"
    ]  # (the clinics' numbers, restored below with them)
    assert sorted(p[0]["value"] for p in phones) == ["+1 212 555 0142", DEMO_PHONE]
    media = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"]
    assert {m["content"]["url"] for m in media} <= names  # photos travel by reference
    every_observation = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    by_category: dict[str, list[dict[str, Any]]] = {}
    for o in every_observation:
        by_category.setdefault(o["category"][0]["coding"][0]["code"], []).append(o)
    observations = by_category.pop("imaging")  # (trichoscopy measurements)
    # ...and the patient's own view of the change, a survey answer on the seven-point scale.
    (said,) = by_category.pop("survey")
    assert (said["valueInteger"], said["note"][0]["text"][:10]) == (1, "Less scalp")
    assert not by_category
    units = {
        c["valueQuantity"]["code"]
        for o in observations
        for c in o["component"]
        if "valueQuantity" in c
    }
    assert {"/cm2", "um", "{count}"} <= units

    # the demo's one phone JPEG: its warning is said to the bundle's reader too; the
    # overexposed image and the faint blond one set aside travel too, marked voided
    def voided(resource: dict) -> bool:
        return any(x["url"].endswith("voided") for x in resource.get("extension", []))

    notes = [n["text"] for o in observations if not voided(o) for n in o.get("note", [])]
    assert len(notes) == 1
    assert notes[0].startswith("The image is a JPEG with its colour stored at reduced")
    set_aside = sorted(o["note"][0]["text"] for o in observations if voided(o))
    assert len(set_aside) == 2  # ...and Bea Samplefield's blond baseline, taken again dyed
    assert set_aside[0].startswith("The image is overexposed")
    assert set_aside[1].startswith("The image shows its hairs only faintly")
    with db.transaction() as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "fhir.export"))
        assert all(e.actor.startswith("cli:") for e in audited)

    other = tmp_path / "restored"
    other_settings = settings_for(fresh_database_url(backend, other, request), other)
    imported = run_follicle(["import", "fhir", str(archive)], env=_env(other_settings))
    assert imported.returncode == 0, imported.stderr
    restored_db = Database.from_settings(other_settings)
    try:
        for model in RESTORED:
            before = _rows(db, model)
            after = _rows(restored_db, model)
            if model in (Device, CartridgeLot, ConsentText):
                before = {k: v for k, v in before.items() if k in after}  # those in use
            assert after == before, model.__tablename__
            assert after or model is CartridgeLot
        store = ImageStore(other_settings.image_dir)
        original = ImageStore(settings.image_dir)
        with restored_db.transaction() as session:
            for image in session.scalars(select(Image)):
                stored = store.get(image.content_sha256, image.media_type)
                assert stored == original.get(image.content_sha256, image.media_type)
            imports = session.scalars(select(AuditEntry).where(AuditEntry.action == "fhir.import"))
            assert len(imports.all()) == kinds["Patient"]

        again = fhir_export.export_clinic(restored_db, cli_actor())
        assert again.bundle["entry"] == bundle["entry"]

        # A second import overwrites nothing: refused whole, naming the clashing patient.
        with restored_db.transaction() as session:
            count = len(session.scalars(select(AuditEntry)).all())
        refused = run_follicle(["import", "fhir", str(archive)], env=_env(other_settings))
        assert refused.returncode == 2
        assert "nothing imported" in refused.stderr
        assert "already in this database" in refused.stderr
        with restored_db.transaction() as session:
            assert len(session.scalars(select(AuditEntry)).all()) == count
    finally:
        restored_db.dispose()


@pytest.fixture
def demo(db: Database, settings: Settings) -> Database:
    load_demo(db, cli_actor(), store=ImageStore(settings.image_dir))
    return db


def _first_patient_with_sessions(db: Database) -> Patient:
    with db.transaction() as session:
        record = session.scalars(select(SessionRecord).order_by(SessionRecord.id)).first()
        assert record is not None
        patient = session.get(Patient, record.patient_id)
        assert patient is not None
        session.expunge(patient)
        return patient


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_codes_and_the_patients_own_copy(demo: Database) -> None:
    patient = _first_patient_with_sessions(demo)
    own = Actor(user_id=None, clinic_id=patient.clinic_id, role="patient", patient_id=patient.id)
    found = fhir_export.export_patient(demo, own, patient.id, with_contact=False)
    _check_bundle(found.bundle)
    resources = [e["resource"] for e in found.bundle["entry"]]
    assert sum(r["resourceType"] == "Patient" for r in resources) == 1
    condition = next(r for r in resources if r["resourceType"] == "Condition")
    assert {
        "system": codes.ICD10,
        "code": "L64.9",
        "display": "Androgenic alopecia, unspecified",
    } in condition["code"]["coding"]
    assert condition["verificationStatus"]["coding"][0]["code"] == "provisional"
    practitioners = [r for r in resources if r["resourceType"] == "Practitioner"]
    assert practitioners
    assert all("telecom" not in p for p in practitioners)
    procedure = next(r for r in resources if r["resourceType"] == "Procedure")
    device = next(
        r
        for r in resources
        if f"Device/{r['id']}" == procedure["focalDevice"][0]["manipulated"]["reference"]
    )
    assert device["lotNumber"]
    assert device["expirationDate"]

    stranger = Actor(user_id=None, clinic_id=patient.clinic_id, role="patient", patient_id="pat_x")
    with pytest.raises(NotFound):
        fhir_export.export_patient(demo, stranger, patient.id)
    desk = Actor(user_id=None, clinic_id=patient.clinic_id, role="front_desk")
    with pytest.raises(Forbidden):
        fhir_export.export_patient(demo, desk, patient.id)
    with pytest.raises(Forbidden):
        fhir_export.export_clinic(demo, own)
    other_admin = Actor(user_id=None, clinic_id="cln_other", role="admin")
    with pytest.raises(NotFound):
        fhir_export.export_patient(demo, other_admin, patient.id)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_consent_signed_for_a_minor_is_performed_by_the_related_person(demo: Database) -> None:
    with demo.transaction() as session:
        theo = session.scalars(select(Patient).where(Patient.family_name == "Youngman")).one()
        signed = session.scalars(select(Consent).where(Consent.patient_id == theo.id)).all()
    assert signed
    assert {c.representative for c in signed} == {"parent"}
    found = fhir_export.export_patient(demo, cli_actor(), theo.id)  # (validated as a Bundle)
    resources = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
        for e in found.bundle["entry"]
    }
    consents = [r for r in resources.values() if r["resourceType"] == "Consent"]
    assert len(consents) == len(signed)
    for consent in consents:
        (performer,) = consent["performer"]
        mother = resources[performer["reference"]]
        assert mother["resourceType"] == "RelatedPerson"
        get_fhir_model_class("RelatedPerson").model_validate(mother)
        assert mother["patient"]["reference"] == f"Patient/{theo.id.replace('_', '-')}"
        assert mother["name"] == [{"text": "Clara Youngman"}]
        assert mother["relationship"][0]["coding"][0]["code"] == "PRN"
    # An adult signs for themselves.
    adult = _first_patient_with_sessions(demo)
    own = fhir_export.export_patient(demo, cli_actor(), adult.id).bundle
    performers = [
        e["resource"]["performer"]
        for e in own["entry"]
        if e["resource"]["resourceType"] == "Consent"
    ]
    assert performers
    assert all(p == [{"reference": f"Patient/{adult.id.replace('_', '-')}"}] for p in performers)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_bad_bundle_is_refused_whole_with_the_field_named(
    demo: Database, settings: Settings
) -> None:
    patient = _first_patient_with_sessions(demo)
    bundle = fhir_export.export_patient(demo, cli_actor(), patient.id).bundle
    store = ImageStore(settings.image_dir)
    admin = Actor(user_id=None, clinic_id=patient.clinic_id, role="admin")
    with pytest.raises(Forbidden):
        fhir_import.import_bundle(demo, store, admin, bundle)

    broken = json.loads(json.dumps(bundle))
    broken["entry"][5]["resource"]["flavour"] = "vanilla"
    with pytest.raises(fhir_import.ImportRefused) as refused:
        fhir_import.import_bundle(demo, store, cli_actor(), broken)
    assert refused.value.errors[0].pointer.startswith("/entry/5/resource")
    assert "flavour" in refused.value.errors[0].pointer

    dangling = json.loads(json.dumps(bundle))
    dangling["entry"] = [
        e for e in dangling["entry"] if e["resource"]["resourceType"] != "Practitioner"
    ]
    with pytest.raises(fhir_import.ImportRefused) as refused:
        fhir_import.import_bundle(demo, store, cli_actor(), dangling)
    assert all("Practitioner/" in e.message for e in refused.value.errors)

    with pytest.raises(fhir_import.ImportRefused):
        fhir_import.import_bundle(demo, store, cli_actor(), {"resourceType": "Patient"})

    # A new clinic whose phone number no one could call is refused, naming where it is.
    elsewhere = json.loads(json.dumps(bundle))
    at, clinic = next(
        (i, e["resource"])
        for i, e in enumerate(elsewhere["entry"])
        if e["resource"]["resourceType"] == "Organization"
    )
    for identifier in clinic["identifier"]:
        identifier["value"] += "-elsewhere"
    clinic["telecom"] = [{"system": "phone", "value": "ask at the desk"}]
    with pytest.raises(fhir_import.ImportRefused) as refused:
        fhir_import.import_bundle(demo, store, cli_actor(), elsewhere)
    assert any(
        e.pointer == f"/entry/{at}/resource" and e.message.startswith("telecom: a phone number")
        for e in refused.value.errors
    ), refused.value.errors
