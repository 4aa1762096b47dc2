"""What the analyser returns (a hair, an analysis) and the physical sizes every step of it
shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

MIN_COUNTED_SHAFT_UM = 50.0  # contracts §4: a hair counts once when this much shaft is in frame
MAX_HAIR_DIAMETER_UM = 150.0  # wider than any one shaft: a flake, a blob or hairs side by side
DEFAULT_VELLUS_THRESHOLD_UM = 30.0  # thinner is vellus (issue #5; TrichoScan uses 40 um)

#: An image whose typical terminal hair stands out less than this many times the weakest
#: contrast kept as hair (:attr:`Analysis.terminal_contrast_ratio`) is warned of: its thin
#: hairs are at the edge of being found. On the benchmark's 192 images (docs/trichoscopy.md,
#: "Pale hair"), the four under 3.2 are blond hair on type III skin; those with many vellus
#: hairs found 58-68 % of them; the next eight (3.3-4.2) found 73-88 %.
FAINT_HAIR_RATIO = 3.2


#: Outlines of image regions, each a closed polygon of (x, y) pixel points.
PatchOutlines = tuple[tuple[tuple[int, int], ...], ...]


def simplified_outline(outline: Any) -> tuple[tuple[int, int], ...]:
    """An outline traced by OpenCV, (x, y) to within a pixel and a half, as plain numbers:
    drawn on the overlay, not measured."""
    points = cv2.approxPolyDP(outline, 1.5, True).reshape(-1, 2)
    return tuple((int(x), int(y)) for x, y in points)


class AnalysisError(ValueError):
    """The image or its scale cannot be analysed; the message says why."""


@dataclass(frozen=True)
class Hair:
    x_px: float  # the exit point (where the hair leaves the skin)
    y_px: float
    end_x_px: float
    end_y_px: float
    length_um: float
    diameter_um: float
    terminal: bool
    follicular_unit: int = -1

    def as_contract(self) -> dict[str, Any]:
        return {
            "x_px": round(self.x_px, 1),
            "y_px": round(self.y_px, 1),
            "length_um": round(self.length_um, 1),
            "diameter_um": round(self.diameter_um, 1),
            "class": "terminal" if self.terminal else "vellus",
        }


@dataclass(frozen=True)
class Analysis:
    width_px: int
    height_px: int
    um_per_px: float
    vellus_threshold_um: float
    hairs: tuple[Hair, ...]
    seconds: float
    follicular_units: dict[str, int] = field(default_factory=dict)
    edge_spread_um: float | None = None  # how blurred the image is (focus.py); None: no hair
    #: How far the typical terminal hair stands out: its median shaft contrast over the
    #: weakest contrast kept as hair (quality.py warns when it is low). None: too few hairs.
    terminal_contrast_ratio: float | None = None
    #: Outlines (x, y) of the pale patches left out as dandruff or scale, for the overlay.
    set_aside_patches: PatchOutlines = ()
    #: The share of the frame in the dermoscope's field of view (field.py): the area measured.
    field_share: float = 1.0
    #: The field of view's outline (x, y), for the overlay; empty when the scalp fills the frame.
    field_outline: PatchOutlines = ()
    #: Outlines (x, y) of the tattoo dots marking the site (site_mark.py), not read: hairs
    #: crossing one are counted from their parts outside it, so the area stays the field's.
    site_mark_outlines: PatchOutlines = ()
    #: Outlines (x, y) of the air bubbles in the immersion fluid whose rims were not read
    #: as hair (bubbles.py).
    air_bubble_outlines: PatchOutlines = ()

    @property
    def area_cm2(self) -> float:
        """The scalp's area seen: the frame's, or the round field's where black surrounds it."""
        return self.width_px * self.height_px * self.field_share * (self.um_per_px * 1e-4) ** 2

    @property
    def hair_count(self) -> int:
        return len(self.hairs)

    @property
    def density_per_cm2(self) -> float:
        return self.hair_count / self.area_cm2

    @property
    def terminal_count(self) -> int:
        return sum(1 for h in self.hairs if h.terminal)

    @property
    def vellus_count(self) -> int:
        return self.hair_count - self.terminal_count

    @property
    def mean_diameter_um(self) -> float | None:
        if not self.hairs:
            return None
        return float(np.mean([h.diameter_um for h in self.hairs]))

    @property
    def diameter_cv(self) -> float | None:
        """Coefficient of variation of shaft diameter (anisotrichosis)."""
        if len(self.hairs) < 2:
            return None
        diameters = np.array([h.diameter_um for h in self.hairs])
        return float(diameters.std(ddof=1) / diameters.mean())

    def as_contract(self, image_name: str) -> dict[str, Any]:
        mean = self.mean_diameter_um
        cv = self.diameter_cv
        return {
            "image": image_name,
            "width_px": self.width_px,
            "height_px": self.height_px,
            "um_per_px": self.um_per_px,
            "area_cm2": round(self.area_cm2, 4),
            "hair_count": self.hair_count,
            "density_per_cm2": round(self.density_per_cm2, 1),
            "terminal_count": self.terminal_count,
            "vellus_count": self.vellus_count,
            "vellus_threshold_um": self.vellus_threshold_um,
            "mean_diameter_um": None if mean is None else round(mean, 1),
            "diameter_cv": None if cv is None else round(cv, 3),
            "follicular_units": self.follicular_units,
            "hairs": [h.as_contract() for h in self.hairs],
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Scale:
    """Pixel sizes derived from the scale; every size here is physical (um) at heart."""

    um_per_px: float

    def px(self, um: float) -> float:
        return um / self.um_per_px
