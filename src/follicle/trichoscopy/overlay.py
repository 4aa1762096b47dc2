"""An overlay a clinician can check the count against: every counted hair outlined and numbered,
the pale patches left out as dandruff or scale outlined, so that grey hair piled up and taken
for a flake shows as left out, the edge of a round field of view, outside which nothing
was read, the tattoo dots marking the site, which were not read either, and the air bubbles
whose rims were not read as hair."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.analyze import Analysis

TERMINAL_BGR = (60, 220, 60)
VELLUS_BGR = (255, 170, 40)
EXIT_BGR = (40, 40, 255)
SET_ASIDE_BGR = (255, 60, 255)
FIELD_BGR = (255, 255, 0)
SITE_MARK_BGR = (0, 150, 255)
AIR_BUBBLE_BGR = (200, 200, 120)


def draw_overlay(rgb: npt.NDArray[np.uint8], analysis: Analysis) -> npt.NDArray[np.uint8]:
    """Return a BGR image (for cv2.imwrite) with hairs outlined, numbered, and a legend."""
    canvas = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), dtype=np.uint8)
    scale = max(0.4, min(rgb.shape[:2]) / 1500)
    thickness = max(1, round(2 * scale))
    patches = [np.array(patch, dtype=np.int32) for patch in analysis.set_aside_patches]
    cv2.polylines(canvas, patches, True, SET_ASIDE_BGR, thickness, cv2.LINE_AA)
    field = [np.array(edge, dtype=np.int32) for edge in analysis.field_outline]
    cv2.polylines(canvas, field, True, FIELD_BGR, thickness, cv2.LINE_AA)
    marks = [np.array(mark, dtype=np.int32) for mark in analysis.site_mark_outlines]
    cv2.polylines(canvas, marks, True, SITE_MARK_BGR, thickness, cv2.LINE_AA)
    bubbles = [np.array(bubble, dtype=np.int32) for bubble in analysis.air_bubble_outlines]
    cv2.polylines(canvas, bubbles, True, AIR_BUBBLE_BGR, thickness, cv2.LINE_AA)
    for number, hair in enumerate(analysis.hairs, start=1):
        colour = TERMINAL_BGR if hair.terminal else VELLUS_BGR
        start = (round(hair.x_px), round(hair.y_px))
        end = (round(hair.end_x_px), round(hair.end_y_px))
        half = max(2, round(hair.diameter_um / analysis.um_per_px / 2) + 2)
        direction = np.array(end, dtype=float) - np.array(start, dtype=float)
        norm = float(np.hypot(*direction)) or 1.0
        normal = np.array([-direction[1], direction[0]]) / norm * half
        outline = np.array(
            [start + normal, end + normal, end - normal, start - normal], dtype=np.int32
        )
        cv2.polylines(canvas, [outline], True, colour, thickness, cv2.LINE_AA)
        cv2.circle(canvas, start, thickness + 2, EXIT_BGR, -1, cv2.LINE_AA)
        _outlined_text(canvas, str(number), (end[0] + 3, end[1] + 3), 0.45 * scale * 1.6, thickness)
    _legend(canvas, analysis, scale)
    return canvas


def _outlined_text(
    canvas: npt.NDArray[np.uint8], text: str, origin: tuple[int, int], size: float, thickness: int
) -> None:
    """Black text on a white outline: readable on dark and light skin alike."""
    for colour, weight in (((255, 255, 255), thickness + 2), ((0, 0, 0), max(1, thickness - 1))):
        cv2.putText(
            canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, colour, weight, cv2.LINE_AA
        )


def _legend(canvas: npt.NDArray[np.uint8], analysis: Analysis, scale: float) -> None:
    mean = analysis.mean_diameter_um
    lines = [
        (f"{analysis.hair_count} hairs, {analysis.density_per_cm2:.0f}/cm2", (255, 255, 255)),
        (
            f"terminal >= {analysis.vellus_threshold_um:g} um: {analysis.terminal_count}",
            TERMINAL_BGR,
        ),
        (f"vellus: {analysis.vellus_count}", VELLUS_BGR),
        ("red dot = exit point", EXIT_BGR),
        (f"left out as dandruff/scale: {len(analysis.set_aside_patches)}", SET_ASIDE_BGR),
        (f"mean diameter {mean:.0f} um" if mean else "mean diameter -", (255, 255, 255)),
    ]
    if analysis.site_mark_outlines:
        marks = f"site mark (tattoo), not read: {len(analysis.site_mark_outlines)}"
        lines.append((marks, SITE_MARK_BGR))
    if analysis.air_bubble_outlines:
        bubbles = f"air bubbles, rims not read: {len(analysis.air_bubble_outlines)}"
        lines.append((bubbles, AIR_BUBBLE_BGR))
    if analysis.field_outline:  # a round field: only what lies inside it was read
        share = f"field of view: {100 * analysis.field_share:.0f} % of the frame"
        lines.append((share, FIELD_BGR))
    font = 0.5 * scale * 1.6
    step = int(22 * scale * 1.6)
    height = step * len(lines) + 12
    cv2.rectangle(canvas, (6, 6), (int(330 * scale * 1.6), height), (0, 0, 0), -1)
    for i, (text, colour) in enumerate(lines):
        cv2.putText(
            canvas,
            text,
            (14, 6 + step * (i + 1)),
            cv2.FONT_HERSHEY_SIMPLEX,
            font,
            colour,
            1,
            cv2.LINE_AA,
        )
