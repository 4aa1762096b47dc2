"""The intake document as a FHIR QuestionnaireResponse, and back.

Each field of ``follicle.intake/1`` becomes an item whose ``linkId`` is its dotted path
(``hair_loss.onset``); objects are groups, lists of values are repeated answers and lists of
objects are repeated groups. Reading back consults the intake schema, so a one-element list
comes back as a list and a number as a number.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from follicle.clinic.intake import schema_text


@cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


def _answer(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    return {"valueString": str(value)}


def _is_object(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema


def _encode(node: dict[str, Any], schema: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for key, value in node.items():
        link = prefix + key
        sub = schema.get("properties", {}).get(key, {})
        text = str(sub.get("title") or key.replace("_", " "))
        if isinstance(value, dict):
            items.append({"linkId": link, "text": text, "item": _encode(value, sub, link + ".")})
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            inner = sub.get("items", {})
            items += [
                {"linkId": link, "text": text, "item": _encode(v, inner, link + ".")} for v in value
            ]
        elif isinstance(value, list):
            item: dict[str, Any] = {"linkId": link, "text": text}
            if value:
                item["answer"] = [_answer(v) for v in value]
            items.append(item)
        else:
            items.append({"linkId": link, "text": text, "answer": [_answer(value)]})
    return items


def intake_items(document: dict[str, Any]) -> list[dict[str, Any]]:
    """QuestionnaireResponse items for an intake document.

    >>> intake_items({"patient": {"age_years": 40}})[0]["item"][0]["answer"]
    [{'valueInteger': 40}]
    """
    return _encode(document, _schema(), "")


def _value(answer: dict[str, Any]) -> Any:
    for key in ("valueBoolean", "valueInteger", "valueDecimal", "valueString"):
        if key in answer:
            return answer[key]
    raise ValueError(f"unsupported answer {sorted(answer)}")


def _decode(items: list[dict[str, Any]], schema: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for item in items:
        key = str(item["linkId"]).rsplit(".", 1)[-1]
        sub = schema.get("properties", {}).get(key, {})
        if sub.get("type") == "array" and _is_object(sub.get("items", {})):
            found = node.setdefault(key, [])
            if item.get("item"):
                found.append(_decode(item["item"], sub["items"]))
        elif sub.get("type") == "array":
            node[key] = [_value(a) for a in item.get("answer", [])]
        elif _is_object(sub) or "item" in item:
            node[key] = _decode(item.get("item", []), sub)
        else:
            answers = item.get("answer", [])
            if len(answers) != 1:
                raise ValueError(f"item {item['linkId']!r} needs exactly one answer")
            node[key] = _value(answers[0])
    return node


def intake_document(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The intake document a QuestionnaireResponse's items describe (inverse of intake_items).

    >>> doc = {"hair_loss": {"scalp_findings": ["scaling"]}, "history": {"medications": []}}
    >>> intake_document(intake_items(doc)) == doc
    True
    """
    return _decode(items, _schema())
