"""The codes and extensions Follicle's FHIR R4B export uses, in one place.

Standard codes where one exists and was checked (ICD-10 from the WHO 2019 browser, SNOMED CT
only where a published FHIR example confirms the concept, UCUM units); local code systems,
published in the bundle as CodeSystem resources, for what has no standard code (hair metrics:
LOINC has none; microneedling: SNOMED CT has no concept we could confirm).
"""

from __future__ import annotations

from typing import Any

from follicle.records.models.vocab import (
    ADVERSE_EVENT_CATEGORIES,
    APPOINTMENT_KINDS,
    CONSENT_KINDS,
    CREDENTIALS,
    ENDPOINTS,
    PHOTO_VIEWS,
    SCALP_REGIONS,
    SCREENING_DECISIONS,
    SEX_AT_BIRTH,
)

#: Canonical base of Follicle's local definitions (not resolvable yet; see docs/documents.md).
BASE = "https://follicle.dev/fhir"
CODE_SYSTEM = BASE + "/CodeSystem/"
EXTENSION = BASE + "/StructureDefinition/"
IDENTIFIER = BASE + "/identifier/"
INTAKE_QUESTIONNAIRE = BASE + "/Questionnaire/follicle-intake|1"

UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
SCALP_STRUCTURE = {"system": SNOMED, "code": "41695006", "display": "Scalp structure"}

#: ICD-10 (WHO 2019) for each working diagnosis of the intake; SNOMED CT only for alopecia
#: areata (68225006, confirmed by a published FHIR Condition example).
DIAGNOSIS_CODES: dict[str, list[dict[str, str]]] = {
    "androgenetic_alopecia": [
        {"system": ICD10, "code": "L64.9", "display": "Androgenic alopecia, unspecified"}
    ],
    "alopecia_areata": [
        {"system": ICD10, "code": "L63.9", "display": "Alopecia areata, unspecified"},
        {"system": SNOMED, "code": "68225006", "display": "Alopecia areata"},
    ],
    "telogen_effluvium": [{"system": ICD10, "code": "L65.0", "display": "Telogen effluvium"}],
    "traction_alopecia": [
        {"system": ICD10, "code": "L65.8", "display": "Other specified nonscarring hair loss"}
    ],
    "scarring_alopecia_suspected": [
        {"system": ICD10, "code": "L66.9", "display": "Cicatricial alopecia, unspecified"}
    ],
    "unknown": [],
}

#: (code, display, UCUM unit or "") for each hair metric of a trichoscopy measurement.
HAIR_METRICS: tuple[tuple[str, str, str], ...] = (
    ("hair-count", "Hairs counted in the image", "{count}"),
    ("image-area", "Area of scalp in the image", "cm2"),
    ("hair-density", "Hair density", "/cm2"),
    ("terminal-count", "Terminal hairs counted", "{count}"),
    ("vellus-count", "Vellus hairs counted", "{count}"),
    ("terminal-density", "Terminal hair density", "/cm2"),
    ("vellus-threshold", "Shaft diameter below which a hair counts as vellus", "um"),
    ("mean-diameter", "Mean hair shaft diameter", "um"),
    ("diameter-cv", "Coefficient of variation of shaft diameter (ratio)", "1"),
)


def _words(code: str) -> str:
    return code.replace("_", " ").replace("-", " ").capitalize()


#: Every local code system: name → (title, [(code, display)]).
LOCAL_SYSTEMS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "hair-metric": (
        "Follicle hair metrics (trichoscopy)",
        [("hair-metrics", "Trichoscopy hair metrics of one image")]
        + [(code, display) for code, display, _unit in HAIR_METRICS],
    ),
    "procedure": (
        "Follicle procedures",
        [("scalp-microneedling", "Scalp microneedling (percutaneous collagen induction)")],
    ),
    "working-diagnosis": (
        "Follicle working diagnoses (intake)",
        [(code, _words(code)) for code in DIAGNOSIS_CODES],
    ),
    "scalp-region": ("Follicle scalp regions", [(c, _words(c)) for c in SCALP_REGIONS]),
    "photo-view": ("Follicle standard photo views", [(c, _words(c)) for c in PHOTO_VIEWS]),
    "session-endpoint": ("Follicle session endpoints", [(c, _words(c)) for c in ENDPOINTS]),
    "sex-at-birth": ("Follicle sex at birth (intake)", [(c, _words(c)) for c in SEX_AT_BIRTH]),
    "credential": ("Follicle operator credentials", [(c, _words(c)) for c in CREDENTIALS]),
    "adverse-event-category": (
        "Follicle adverse-event categories",
        [(c, _words(c)) for c in ADVERSE_EVENT_CATEGORIES],
    ),
    "appointment-kind": ("Follicle appointment kinds", [(c, _words(c)) for c in APPOINTMENT_KINDS]),
    "consent-kind": ("Follicle consent kinds", [(c, _words(c)) for c in CONSENT_KINDS]),
    "screening-decision": (
        "Follicle screening decisions",
        [(c, _words(c)) for c in SCREENING_DECISIONS],
    ),
    "image-kind": (
        "Follicle image kinds",
        [("photo", "Clinical photograph"), ("trichoscopy", "Trichoscopy (dermoscopic) image")],
    ),
    "patient-outcome": (
        "Follicle patient-reported outcome",
        [
            (
                "hair-change",
                "The patient's view of the change in their hair since treatment began "
                "(-3 greatly decreased to +3 greatly increased)",
            )
        ],
    ),
    "staff-role": (
        "Follicle staff roles",
        [(c, _words(c)) for c in ("admin", "practitioner", "front_desk")],
    ),
}


def local_system(name: str) -> str:
    return CODE_SYSTEM + name


def local_coding(name: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A coding in one of the local systems (the vocabularies are closed, so the code exists)."""
    known = dict(LOCAL_SYSTEMS[name][1])
    if code not in known:
        raise ValueError(f"{code!r} is not in the local code system {name!r}")
    return {"system": local_system(name), "code": code, "display": display or known[code]}


def ucum_quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def code_system_resource(name: str) -> dict[str, Any]:
    """A complete CodeSystem resource for one local system."""
    title, concepts = LOCAL_SYSTEMS[name]
    return {
        "resourceType": "CodeSystem",
        "id": "follicle-" + name,
        "url": local_system(name),
        "version": "1",
        "name": "Follicle" + "".join(part.capitalize() for part in name.split("-")),
        "title": title,
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "concept": [{"code": code, "display": display} for code, display in concepts],
    }
