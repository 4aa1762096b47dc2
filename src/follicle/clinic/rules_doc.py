"""Render the catalogue as ``docs/clinical-rules.md`` for clinicians to review.

``python -m follicle.clinic.rules_doc > docs/clinical-rules.md`` (``make docs``); a test fails
when the committed file is out of date.
"""

from __future__ import annotations

from follicle.clinic.catalogue import Catalogue, load_catalogue


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _link(catalogue: Catalogue, source_id: str) -> str:
    return f"[{source_id}](#{source_id})" if source_id in catalogue.sources else source_id


def _cites(catalogue: Catalogue, ids: tuple[str, ...]) -> str:
    return ", ".join(_link(catalogue, i) for i in ids)


def render(catalogue: Catalogue) -> str:
    lines = [
        "# Follicle clinical rules",
        "",
        f"Generated from the evidence catalogue, version `{catalogue.rules_version}`. Do not",
        "edit by hand: change `src/follicle/clinic/data/catalogue/` and run `make docs`.",
        "",
        "Follicle supports a qualified clinician's decision; it does not diagnose. Levels, from",
        "most severe: contraindicated > refer > defer > caution > info. The decision is the most",
        "severe finding. A clinic may make any rule stricter, never looser.",
        "",
        "## Screening rules",
        "",
        "| rule | level | fires when | reason (template) | evidence |",
        "|---|---|---|---|---|",
    ]
    for rule in catalogue.rules.values():
        params = "; ".join(f"{k} = {v.get('default')}" for k, v in rule.parameters.items())
        when = _cell(rule.when) + (f" ({params})" if params else "")
        lines.append(
            f"| `{rule.id}` | {rule.level.name} | {when} | {_cell(rule.reason)} | "
            f"{_cites(catalogue, rule.evidence)} |"
        )
    lines += ["", "## Plan defaults by indication", ""]
    for indication in catalogue.indications.values():
        lines += [
            f"### {indication.indication.replace('_', ' ')}",
            "",
            "| parameter | default | evidence | note |",
            "|---|---|---|---|",
        ]
        for name in (
            "needle_depth_mm",
            "interval_days",
            "sessions",
            "endpoint",
            "review_after_weeks",
        ):
            default = getattr(indication, name)
            lines.append(
                f"| {name} | {default.value} | {_cites(catalogue, default.evidence)} | "
                f"{_cell(default.note or '')} |"
            )
        for group, topicals in indication.topicals.items():
            for topical in topicals:
                lines.append(
                    f"| topical ({group}) | {_cell(topical.name)}, restart after "
                    f"{topical.restart_after_hours} h | "
                    f"{_cites(catalogue, topical.evidence)} | |"
                )
        lines.append("")
    lines += [
        "## Bounds every clinic's settings stay within",
        "",
        "| parameter | range | evidence | note |",
        "|---|---|---|---|",
    ]
    for name, bound in catalogue.bounds.items():
        lines.append(
            f"| {name} | {bound.low:g}-{bound.high:g} | "
            f"{_cites(catalogue, bound.evidence)} | {_cell(bound.note or '')} |"
        )
    lines += [
        "",
        "Default depth limit by operator credential (mm; the clinic confirms): "
        + ", ".join(f"{k} {v:g}" for k, v in catalogue.credential_max_depth_mm.items())
        + f" ({_cites(catalogue, catalogue.credential_evidence)}).",
        "",
    ]
    lines += [
        "## Plan adjustments",
        "",
        "| adjustment | what the plan says | evidence |",
        "|---|---|---|",
    ]
    for adjustment in catalogue.adjustments.values():
        lines.append(
            f"| `{adjustment.id}` | {_cell(adjustment.reason)} | "
            f"{_cites(catalogue, adjustment.evidence)} |"
        )
    lines += [
        "",
        "## Aftercare (hours after each session)",
        "",
        "| from | to | instruction | evidence |",
        "|---|---|---|---|",
    ]
    for item in catalogue.aftercare:
        lines.append(
            f"| {item.from_hours} | {item.to_hours} | {_cell(item.instruction)} | "
            f"{_cites(catalogue, item.evidence)} |"
        )
    responder = catalogue.responder
    lines += [
        "",
        "## Response at the plan's review (project-defined)",
        "",
        f"A site responds when `{responder.metric}` rose by at least "
        f"{responder.min_density_gain_pct:g} % of baseline and the {responder.confidence:.0%} "
        "interval of the change (from repeat images at each visit) lies above zero. No "
        "published threshold exists for microneedling. "
        f"Evidence: {_cites(catalogue, responder.evidence)}.",
    ]
    lines += ["", "## Sources", ""]
    for source in catalogue.sources.values():
        link = (
            (f" doi:{source.doi}" if source.doi else "")
            + (f" PMID {source.pmid}" if source.pmid else "")
            + (f" <{source.url}>" if source.url else "")
        )
        lines += [
            f"### {source.id}",
            "",
            f"*{source.kind}*. {source.citation}{link}",
            "",
            source.summary,
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render(load_catalogue()), end="")
