"""Where the benchmarks record what they measured: bench/results/NAME.json and NAME.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def record(name: str, report: dict[str, Any], markdown: str) -> None:
    """Write the full report as JSON and its readable summary as Markdown."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)


def metric_table(summaries: dict[str, dict[str, Any]]) -> str:
    """A Markdown table with a row per metric and a column per group summarised."""
    names = list(summaries)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for metric in summaries[names[0]]:
        lines.append(f"| {metric} | " + " | ".join(str(summaries[n][metric]) for n in names) + " |")
    return "\n".join(lines)
