"""Plots for the progress report (matplotlib, drawn off-screen to SVG).

Each function takes plain numbers and returns an SVG document as text, so the report embeds
it and a test can read it. Intervals are the ones the follow-up statistics give.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display: draw to files only

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

INK, ACCENT, MUTED = "#1f2937", "#0e5a78", "#9ca3af"
plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": MUTED,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "svg.fonttype": "none",  # text stays text (searchable, crisp in the PDF)
        "svg.hashsalt": "follicle",  # the same plot gives the same SVG
    }
)


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    return out.getvalue()


def over_time(
    days: Sequence[date],
    means: Sequence[float],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    label: str,
) -> str:
    """A measure per visit (mean of the visit's images) with its 95 % interval as error bars.

    >>> svg = over_time([date(2026, 1, 5), date(2026, 4, 5)], [150, 170], [140, None],
    ...                 [160, None], "Density (hairs/cm²)")
    >>> svg.startswith("<?xml") and "Density" in svg
    True
    """
    figure, axes = plt.subplots(figsize=(6.0, 2.6))
    below = [m - lo if lo is not None else 0.0 for m, lo in zip(means, lows, strict=True)]
    above = [hi - m if hi is not None else 0.0 for m, hi in zip(means, highs, strict=True)]
    axes.errorbar(
        mdates.date2num(list(days)),  # type: ignore[no-untyped-call]
        list(means),
        yerr=[below, above],
        fmt="o-",
        color=ACCENT,
        ecolor=INK,
        capsize=4,
        linewidth=1.5,
        markersize=5,
    )
    axes.set_ylabel(label)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))  # type: ignore[no-untyped-call]
    axes.grid(axis="y", color="#e5e7eb")
    axes.spines[["top", "right"]].set_visible(False)
    lo_values = [v for v in lows if v is not None] + list(means)
    hi_values = [v for v in highs if v is not None] + list(means)
    spread = max(hi_values) - min(lo_values) or 1.0
    axes.set_ylim(min(lo_values) - 0.15 * spread, max(hi_values) + 0.15 * spread)
    figure.autofmt_xdate()
    return _svg(figure)


def diameter_histogram(
    baseline_um: Sequence[float],
    latest_um: Sequence[float],
    vellus_threshold_um: float,
    labels: tuple[str, str] = ("Baseline", "Now"),
) -> str:
    """Shaft diameters of every counted hair at baseline and now, with the vellus threshold.

    >>> "Shaft diameter" in diameter_histogram([20, 60, 65], [25, 62, 70, 71], 30)
    True
    """
    figure, axes = plt.subplots(figsize=(6.0, 2.6))
    top = max([*baseline_um, *latest_um, vellus_threshold_um + 10.0])
    bins = list(range(0, int(top) + 10, 5))
    axes.hist(
        baseline_um, bins=bins, alpha=0.55, color=MUTED, label=f"{labels[0]} ({len(baseline_um)})"
    )
    axes.hist(
        latest_um,
        bins=bins,
        histtype="step",
        linewidth=1.8,
        color=ACCENT,
        label=f"{labels[1]} ({len(latest_um)})",
    )
    axes.axvline(vellus_threshold_um, color=INK, linestyle="--", linewidth=1)
    axes.annotate(
        f"vellus < {vellus_threshold_um:g} µm",
        (vellus_threshold_um, axes.get_ylim()[1] * 0.9),
        xytext=(4, 0),
        textcoords="offset points",
        color=INK,
    )
    axes.set_xlabel("Shaft diameter (µm)")
    axes.set_ylabel("Hairs")
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
