"""Tiny server-side line charts (SVG coordinates) for pages: no script, no plotting library.

>>> chart = line_chart([("1 Oct", 170.0), ("25 Nov", 207.0)])
>>> [round(p.x) for p in chart.points], chart.low, chart.high
([40, 380], 160.0, 220.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: float


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: tuple[Point, ...]
    low: float
    high: float
    ticks: tuple[tuple[float, float], ...]  # (y, value)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _nice_step(span: float) -> float:
    raw = span / 4 if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    return float(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))


def line_chart(
    series: list[tuple[str, float]], width: int = 400, height: int = 180, margin: int = 40
) -> LineChart:
    values = [v for _, v in series]
    step = _nice_step(max(values) - min(values) if values else 1.0)
    low = math.floor(min(values, default=0) / step) * step - step
    high = math.ceil(max(values, default=1) / step) * step + step
    low = float(max(low, 0.0))
    high = float(high)
    inner_w, inner_h = width - margin - 20, height - 20 - 32  # room for the date labels

    def y_of(value: float) -> float:
        return 20 + inner_h * (1 - (value - low) / (high - low))

    count = max(len(series) - 1, 1)
    points = tuple(
        Point(margin + inner_w * i / count, y_of(v), label, v)
        for i, (label, v) in enumerate(series)
    )
    ticks = []
    value = low
    while value <= high + 1e-9:
        ticks.append((y_of(value), value))
        value += step
    return LineChart(width, height, points, low, high, tuple(ticks))
