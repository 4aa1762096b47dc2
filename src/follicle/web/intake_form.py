"""The intake form, generated from the intake schema so the form and the contract cannot
drift apart: one field per schema leaf, named by its JSON pointer, so a validation error's
pointer lands next to the field it is about.

>>> sections = form_sections()
>>> [s.title for s in sections][:3]
['Record', 'Patient', 'Hair loss']
>>> document_from_form({"/patient/age_years": ["41"], "/history/allergies": ["latex"]})["patient"]
{'age_years': 41}
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from follicle.clinic.intake import schema_text

SCHEMA_ID = "follicle.intake/1"
REPEATS = {"/history/medications": 3, "/history/prior_procedures": 2}  # blank rows offered
_LABELS = {
    "age_years": "Age (years)",
    "fitzpatrick": "Fitzpatrick skin type",
    "salt_score": "SALT score (%)",
    "duration_months": "Duration (months)",
    "stopped_months_ago": "Stopped (months ago; empty if current)",
    "months_ago": "Months ago",
    "norwood": "Norwood-Hamilton stage",
    "ludwig": "Ludwig stage",
    "sinclair": "Sinclair stage",
    "hsv": "HSV",
    "prp": "PRP",
}


def label_for(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " ").capitalize())


def option_label(value: Any) -> str:
    text = str(value)
    return text if text.isupper() or text[:1].isupper() else text.replace("_", " ")


@dataclass(frozen=True)
class Field:
    pointer: str
    name: str
    kind: str  # select | checkboxes | number | boolean | text | date
    label: str
    required: bool = False
    options: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    description: str = ""
    max_length: int | None = None


@dataclass(frozen=True)
class Repeated:
    """An array of objects (medications, prior procedures): rows of the same fields."""

    pointer: str
    label: str
    fields: tuple[Field, ...]
    required: bool = False


@dataclass(frozen=True)
class Section:
    pointer: str
    title: str
    items: tuple[Field | Repeated, ...] = field(default_factory=tuple)


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def _field(pointer: str, name: str, node: dict[str, Any], required: bool) -> Field:
    common: dict[str, Any] = {
        "pointer": pointer,
        "name": name,
        "label": label_for(name),
        "required": required,
        "description": node.get("description", ""),
    }
    if "enum" in node:
        return Field(kind="select", options=tuple(node["enum"]), **common)
    kind = node.get("type")
    if kind == "array":
        return Field(kind="checkboxes", options=tuple(node["items"].get("enum", ())), **common)
    if kind in ("integer", "number"):
        return Field(
            kind="number",
            minimum=node.get("minimum"),
            maximum=node.get("maximum"),
            integer=kind == "integer",
            **common,
        )
    if kind == "boolean":
        return Field(kind="boolean", **common)
    if node.get("format") == "date" or name.endswith("_on"):
        return Field(kind="date", **common)
    return Field(kind="text", max_length=node.get("maxLength"), **common)


def form_sections() -> list[Section]:
    schema = _schema()
    sections = []
    top_fields = []
    for name, node in schema["properties"].items():
        if name == "schema":
            continue
        if node.get("type") != "object":
            top_fields.append(_field(f"/{name}", name, node, name in schema.get("required", [])))
            continue
        required = set(node.get("required", []))
        items: list[Field | Repeated] = []
        for child, child_node in node["properties"].items():
            pointer = f"/{name}/{child}"
            item_schema = child_node.get("items", {})
            if child_node.get("type") == "array" and item_schema.get("type") == "object":
                row_required = set(item_schema.get("required", []))
                items.append(
                    Repeated(
                        pointer,
                        label_for(child),
                        tuple(
                            _field(f"{pointer}/*/{k}", k, v, k in row_required)
                            for k, v in item_schema["properties"].items()
                        ),
                        child in required,
                    )
                )
            else:
                items.append(_field(pointer, child, child_node, child in required))
        sections.append(Section(f"/{name}", label_for(name), tuple(items)))
    if top_fields:
        sections.insert(0, Section("", "Record", tuple(top_fields)))
    return sections


def _convert(item: Field, raw: str) -> Any:
    """The form's text as the schema's type; anything unreadable is passed on as text, so
    the schema validation names the field instead of the form guessing."""
    if item.kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() else number
    if item.kind == "boolean":
        return {"yes": True, "no": False}.get(raw, raw)
    if item.kind == "select" and raw.lstrip("-").isdigit() and int(raw) in item.options:
        return int(raw)  # enums of numbers (none today) stay numbers
    return raw


def _set(document: dict[str, Any], pointer: str, value: Any) -> None:
    parts = pointer.strip("/").split("/")
    node = document
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def document_from_form(form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Build a ``follicle.intake/1`` document from submitted fields (empty fields are left out;
    the schema decides what is missing)."""
    document: dict[str, Any] = {"schema": SCHEMA_ID}
    for section in form_sections():
        for item in section.items:
            if isinstance(item, Repeated):
                rows = []
                for index in range(_row_count(form, item)):
                    row: dict[str, Any] = {}
                    for column in item.fields:
                        raw = _first(form, column.pointer.replace("*", str(index)))
                        if raw:
                            row[column.name] = _convert(column, raw)
                    if row:
                        rows.append(row)
                if rows or item.required:
                    _set(document, item.pointer, rows)
                continue
            if item.kind == "checkboxes":
                # An unticked group means "none of these", which the schema writes as [].
                _set(document, item.pointer, [v for v in form.get(item.pointer, ()) if v])
                continue
            raw = _first(form, item.pointer)
            if raw:
                _set(document, item.pointer, _convert(item, raw))
    for name in ("patient", "hair_loss", "history"):
        document.setdefault(name, {})
    return document


def _first(form: Mapping[str, Sequence[str]], name: str) -> str:
    values = form.get(name, ())
    return values[0].strip() if values else ""


def _row_count(form: Mapping[str, Sequence[str]], item: Repeated) -> int:
    prefix = item.pointer + "/"
    indexes = [
        int(key[len(prefix) :].split("/")[0])
        for key in form
        if key.startswith(prefix) and key[len(prefix) :].split("/")[0].isdigit()
    ]
    return max(indexes, default=-1) + 1


def form_values(document: Mapping[str, Any]) -> dict[str, Any]:
    """Field values (by pointer) that show ``document`` in the form."""
    values: dict[str, Any] = {}

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{pointer}/{key}")
        elif isinstance(node, list) and node and isinstance(node[0], dict):
            for index, row in enumerate(node):
                walk(row, f"{pointer}/{index}")
        elif isinstance(node, bool):
            values[pointer] = "yes" if node else "no"
        else:
            values[pointer] = node

    walk(dict(document), "")
    return values


def rows_for(item: Repeated, values: Mapping[str, Any]) -> int:
    """How many rows to show: the filled ones and a few blank."""
    filled = [
        int(k[len(item.pointer) + 1 :].split("/")[0])
        for k in values
        if k.startswith(item.pointer + "/")
    ]
    return max(filled, default=-1) + 1 + REPEATS.get(item.pointer, 1)


def options_for(pointer: str) -> tuple[Any, ...]:
    """The allowed values of one field (``/history/medications/*/class`` for a row field)."""
    for section in form_sections():
        for item in section.items:
            fields = item.fields if isinstance(item, Repeated) else (item,)
            for candidate in fields:
                if candidate.pointer == pointer:
                    return candidate.options
    raise KeyError(pointer)
