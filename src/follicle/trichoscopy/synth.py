"""Synthetic trichograms with exact ground truth, for tests and the benchmark.

A clipped scalp area seen through a dermatoscope: skin of a given Fitzpatrick type with uneven
texture, erythema and lighting; hairs clipped to short stubs, in follicular units of 1-4, with
terminal and vellus diameters, tapered where they leave the skin, slightly curved, crossing or
touching and cut by the frame; yellow dots, scale and dandruff flakes; then optical blur and
sensor noise. Widths are defined before blur, so the truth is exact.

>>> image = render_trichogram(TrichogramSpec(seed=1, width_px=400, height_px=300))
>>> image.rgb.shape, image.rgb.dtype.name
((300, 400, 3), 'uint8')
>>> all(h.diameter_um > 0 for h in image.hairs)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
import numpy.typing as npt

RGB = tuple[float, float, float]
FloatImage = npt.NDArray[np.float32]

#: Typical skin colours by Fitzpatrick type (sRGB, as a dermatoscope sees them; synthetic).
SKIN_RGB: dict[int, RGB] = {
    1: (236, 205, 190),
    2: (226, 186, 160),
    3: (205, 160, 126),
    4: (170, 124, 90),
    5: (125, 86, 62),
    6: (82, 56, 44),
}
#: Hair colours (sRGB) and how much they vary from hair to hair.
HAIR_RGB: dict[str, RGB] = {
    "black": (28, 24, 24),
    "brown": (78, 52, 36),
    "dyed_red": (120, 44, 30),
    "grey": (196, 194, 190),
    "blond": (196, 160, 104),
}
MIN_COUNTED_SHAFT_UM = 50.0  # contracts §4: a hair counts when >= 50 um of shaft is in frame


@dataclass(frozen=True)
class TrichogramSpec:
    """What to render. Every field has a realistic default; the seed makes it reproducible."""

    seed: int = 0
    width_px: int = 1600
    height_px: int = 1250
    um_per_px: float = 5.0
    fitzpatrick: int = 2
    hair_colour: str = "black"
    density_per_cm2: float = 180.0
    vellus_fraction: float = 0.15
    terminal_diameter_um: tuple[float, float] = (65.0, 12.0)  # mean, sd
    vellus_diameter_um: tuple[float, float] = (12.0, 27.0)  # uniform range
    clipped_length_um: tuple[float, float] = (350.0, 900.0)
    follicular_unit_sizes: tuple[float, float, float, float] = (0.35, 0.40, 0.20, 0.05)
    blur_sigma_px: float = 0.8
    noise_sd: float = 3.0
    dandruff_flakes: int = 6
    yellow_dots: int = 10
    erythema: float = 0.3
    vignette: float = 0.15
    base_angle_deg: float | None = None
    #: A tattoo dot marking the site, this wide (0: none): the phototrichogram's way of finding
    #: the same square centimetre at the next visit. Near the middle of the frame, under the hairs.
    site_mark_um: float = 0.0
    #: Air bubbles in the immersion fluid between the lens and the skin, over everything.
    air_bubbles: int = 0
    #: The scalp's honeycomb pigment network, this strong (0: none; 1: its lines about a
    #: third darker than the skin between them): brown lines along the pigmented rete ridges
    #: round paler holes, the usual picture of dark and sun-exposed balding scalp.
    honeycomb: float = 0.0
    #: The share of follicular openings ringed by a brown peripilar sign (0: none): a soft
    #: brown halo round the opening, seen in about half of patients with androgenetic
    #: alopecia (Abdalla et al. 2024, Dermatol Pract Concept 14(1)).
    peripilar_share: float = 0.0


@dataclass(frozen=True)
class HairTruth:
    """One hair as rendered: exit point (where it leaves the skin) to cut end, in pixels."""

    id: int
    exit_x: float
    exit_y: float
    end_x: float
    end_y: float
    diameter_um: float
    follicular_unit: int
    in_frame_length_um: float
    counted: bool

    def is_terminal(self, threshold_um: float) -> bool:
        return self.diameter_um >= threshold_um

    def length_within_um(self, box: tuple[float, float, float, float], um_per_px: float) -> float:
        """How much of the shaft, taken straight from exit to cut end, lies within ``box``
        (left, top, width, height in pixels): the truth for a crop of the image.

        >>> hair = HairTruth(0, 0.0, 10.0, 100.0, 10.0, 60.0, 0, 500.0, True)
        >>> hair.length_within_um((50, 0, 100, 20), um_per_px=5.0)  # its right half
        250.0
        """
        left, top, width, height = box
        dx, dy = self.end_x - self.exit_x, self.end_y - self.exit_y
        start, stop = 0.0, 1.0  # (the part of the segment inside, Liang-Barsky)
        for step, room in (
            (-dx, self.exit_x - left),
            (dx, left + width - self.exit_x),
            (-dy, self.exit_y - top),
            (dy, top + height - self.exit_y),
        ):
            if step == 0:
                if room < 0:
                    return 0.0
                continue
            if step < 0:
                start = max(start, room / step)
            else:
                stop = min(stop, room / step)
        return max(0.0, stop - start) * math.hypot(dx, dy) * um_per_px


@dataclass
class Trichogram:
    spec: TrichogramSpec
    rgb: npt.NDArray[np.uint8]
    hairs: list[HairTruth] = field(default_factory=list)

    @property
    def counted_hairs(self) -> list[HairTruth]:
        return [h for h in self.hairs if h.counted]

    @property
    def area_cm2(self) -> float:
        return self.spec.width_px * self.spec.height_px * (self.spec.um_per_px * 1e-4) ** 2


#: The sizes of the skin's mottling, grain and patches of redness (at the benchmark's 5 um per
#: pixel: 64, 8 and 180 pixels, as they were in pixels before session 17).
SKIN_MOTTLE_UM = 320.0
SKIN_GRAIN_UM = 40.0
ERYTHEMA_PATCH_UM = 900.0


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> FloatImage:
    small = rng.standard_normal((max(2, height // cell), max(2, width // cell))).astype(np.float32)
    return np.asarray(
        cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC), dtype=np.float32
    )


def _skin(spec: TrichogramSpec, rng: np.random.Generator) -> FloatImage:
    h, w = spec.height_px, spec.width_px

    def cell(um: float) -> int:  # the skin's features have a size on the scalp, not in pixels
        return max(2, round(um / spec.um_per_px))

    base = np.array(SKIN_RGB[spec.fitzpatrick], dtype=np.float32)
    texture = (
        1.0
        + 0.05 * _smooth_noise(rng, h, w, cell(SKIN_MOTTLE_UM))
        + 0.025 * _smooth_noise(rng, h, w, cell(SKIN_GRAIN_UM))
    )
    skin = base[None, None, :] * texture[:, :, None]
    if spec.erythema > 0:  # redness shows less on darker skin
        redness = np.clip(_smooth_noise(rng, h, w, cell(ERYTHEMA_PATCH_UM)), 0, 1.5) * spec.erythema
        redness *= float(base.mean()) / 200.0
        skin[:, :, 0] += 22 * redness
        skin[:, :, 1] -= 16 * redness
        skin[:, :, 2] -= 10 * redness
    return skin


def _disc(
    canvas: FloatImage, x: float, y: float, radius: float, colour: RGB, opacity: float
) -> None:
    """Blend a soft-edged disc into the canvas."""
    x0, x1 = max(int(x - radius - 2), 0), min(int(x + radius + 3), canvas.shape[1])
    y0, y1 = max(int(y - radius - 2), 0), min(int(y + radius + 3), canvas.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    alpha = np.clip(radius - np.hypot(xx - x, yy - y) + 0.5, 0, 1) * opacity
    region = canvas[y0:y1, x0:x1]
    region += alpha[:, :, None] * (np.array(colour, dtype=np.float32) - region)


def _flake(
    canvas: FloatImage, rng: np.random.Generator, x: float, y: float, radius_px: float
) -> None:
    """Dandruff or scale: an irregular, pale, partly translucent patch."""
    x0, x1 = max(int(x - 2 * radius_px), 0), min(int(x + 2 * radius_px), canvas.shape[1])
    y0, y1 = max(int(y - 2 * radius_px), 0), min(int(y + 2 * radius_px), canvas.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    angle = np.arctan2(yy - y, xx - x)
    wobble = 1 + sum(
        rng.uniform(0.05, 0.25) * np.sin(k * angle + rng.uniform(0, 6.3)) for k in (2, 3, 5, 7)
    )
    alpha = np.clip((radius_px * wobble - np.hypot(xx - x, yy - y)) / 3, 0, 1)
    alpha *= rng.uniform(0.45, 0.85)
    colour = np.array([240, 238, 228], dtype=np.float32)
    region = canvas[y0:y1, x0:x1]
    region += alpha[:, :, None] * (colour - region)


#: Tattoo ink (carbon) seen through the epidermis looks blue-black (synthetic colour).
SITE_MARK_INK_RGB: RGB = (40.0, 48.0, 72.0)


def _site_mark(canvas: FloatImage, rng: np.random.Generator, radius_px: float) -> None:
    """A tattoo dot near the middle of the frame: round, a little irregular, its edge soft
    where the ink spread in the dermis."""
    h, w = canvas.shape[:2]
    x = w / 2 + rng.uniform(-0.15, 0.15) * w
    y = h / 2 + rng.uniform(-0.15, 0.15) * h
    x0, x1 = max(int(x - 1.5 * radius_px), 0), min(int(x + 1.5 * radius_px) + 1, w)
    y0, y1 = max(int(y - 1.5 * radius_px), 0), min(int(y + 1.5 * radius_px) + 1, h)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    angle = np.arctan2(yy - y, xx - x)
    wobble = 1 + sum(
        rng.uniform(0.02, 0.08) * np.sin(k * angle + rng.uniform(0, 6.3)) for k in (2, 3, 5)
    )
    soft = max(radius_px * rng.uniform(0.2, 0.35), 1.0)
    alpha = np.clip((radius_px * wobble - np.hypot(xx - x, yy - y)) / soft + 0.5, 0, 1)
    alpha *= rng.uniform(0.7, 0.9)
    region = canvas[y0:y1, x0:x1]
    region += alpha[:, :, None] * (np.array(SITE_MARK_INK_RGB, dtype=np.float32) - region)


#: The honeycomb network's mesh (the spacing of its holes) and the width of its lines, on
#: the scalp (synthetic, from dermoscopy's picture of the pigment network: lines along the
#: rete ridges, holes over the dermal papillae; not measured on scalp images).
HONEYCOMB_MESH_UM = (150.0, 300.0)
HONEYCOMB_LINE_UM = (25.0, 60.0)
#: How much of each channel the network's melanin takes away at full strength. Melanin
#: absorbs as the wavelength to the power -3.48 (Jacques, omlc.org "Melanosome absorption
#: coefficient"): at a camera's red, green and blue (about 600, 540 and 460 nm) 0.40 and
#: 0.57 of its absorption in blue, so the network's lines are brown.
HONEYCOMB_DARKENING: RGB = (0.18, 0.25, 0.44)


def _honeycomb(canvas: FloatImage, rng: np.random.Generator, strength: float, um: float) -> None:
    """The pigment network: soft brown lines round the cells of a jittered hexagonal mesh,
    stronger in some patches of the scalp than others."""
    h, w = canvas.shape[:2]
    mesh_px = rng.uniform(*HONEYCOMB_MESH_UM) / um
    line_px = rng.uniform(*HONEYCOMB_LINE_UM) / um
    margin = 2 * mesh_px
    room = int(2 * margin)  # (every point inside the subdivision's rectangle)
    subdivision = cv2.Subdiv2D((-room, -room, w + 2 * room, h + 2 * room))
    row_step = mesh_px * math.sqrt(3) / 2
    for row in range(int((h + 2 * margin) / row_step) + 1):
        y = -margin + row * row_step
        for col in range(int((w + 2 * margin) / mesh_px) + 1):
            x = -margin + (col + 0.5 * (row % 2)) * mesh_px
            jitter = rng.uniform(-0.25, 0.25, 2) * mesh_px
            subdivision.insert((float(x + jitter[0]), float(y + jitter[1])))
    facets, _ = subdivision.getVoronoiFacetList([])
    lines = np.zeros((h, w), dtype=np.float32)
    shift = 4  # cv2's fixed-point drawing: sub-pixel vertices
    polygons = [np.round(np.asarray(f) * (1 << shift)).astype(np.int32) for f in facets]
    cv2.polylines(lines, polygons, True, 1.0, max(1, round(line_px)), cv2.LINE_AA, shift)
    lines = np.asarray(cv2.GaussianBlur(lines, (0, 0), max(0.4 * line_px, 0.5)), np.float32)
    patches = np.clip(0.7 + 0.6 * _smooth_noise(rng, h, w, max(2, round(1500 / um))), 0.15, 1.0)
    alpha = np.clip(lines, 0, 1) * patches * strength
    darkening = np.array(HONEYCOMB_DARKENING, dtype=np.float32)
    canvas *= 1 - alpha[:, :, None] * darkening


#: The brown peripilar sign's size across and strength (as a share of the network's full
#: darkening). Synthetic: the sign's size on the scalp is not measured in the literature
#: this was checked against, so these span a follicular opening to a small patch.
PERIPILAR_UM = (400.0, 900.0)
PERIPILAR_STRENGTH = (0.25, 0.6)


def _peripilar_sign(
    canvas: FloatImage, rng: np.random.Generator, x: float, y: float, um: float
) -> None:
    """A soft brown halo round a follicular opening, darkest at the opening and fading to
    nothing at its edge; melanin's, so brown as the network is."""
    radius_px = rng.uniform(*PERIPILAR_UM) / 2 / um
    strength = rng.uniform(*PERIPILAR_STRENGTH)
    h, w = canvas.shape[:2]
    x0, x1 = max(int(x - radius_px), 0), min(int(x + radius_px) + 2, w)
    y0, y1 = max(int(y - radius_px), 0), min(int(y + radius_px) + 2, h)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    reach = np.clip(1 - np.hypot(xx - x, yy - y) / radius_px, 0, 1)
    alpha = strength * reach * (2 - reach)
    darkening = np.array(HONEYCOMB_DARKENING, dtype=np.float32)
    canvas[y0:y1, x0:x1] *= 1 - alpha[:, :, None] * darkening


#: Air bubbles' radii: from specks to a millimetre across.
AIR_BUBBLE_RADIUS_UM = (50.0, 500.0)


def _air_bubble(
    canvas: FloatImage, rng: np.random.Generator, x: float, y: float, radius_px: float
) -> None:
    """An air bubble in the immersion fluid: a dark rim where light leaving the skin is bent
    away at the bubble's edge, and a bright highlight of the lamp inside."""
    h, w = canvas.shape[:2]
    x0, x1 = max(int(x - radius_px - 4), 0), min(int(x + radius_px + 5), w)
    y0, y1 = max(int(y - radius_px - 4), 0), min(int(y + radius_px + 5), h)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    distance = np.hypot(xx - x, yy - y)
    rim_px = max(1.5, radius_px * rng.uniform(0.05, 0.12))
    rim = np.clip(1 - np.abs(distance - radius_px + rim_px / 2) / rim_px, 0, 1)
    rim *= rng.uniform(0.5, 0.8)
    region = canvas[y0:y1, x0:x1]
    region += rim[:, :, None] * (np.array([55.0, 55.0, 60.0], dtype=np.float32) - region)
    angle = rng.uniform(0, 2 * math.pi)
    hx, hy = x + 0.45 * radius_px * math.cos(angle), y + 0.45 * radius_px * math.sin(angle)
    glint = np.clip(1 - np.hypot(xx - hx, yy - hy) / max(0.15 * radius_px, 1.0), 0, 1)
    region += (0.85 * glint)[:, :, None] * (255.0 - region)


def _centreline(
    exit_xy: tuple[float, float], angle: float, length_px: float, bend: float
) -> npt.NDArray[np.float64]:
    """A gently curved stub as a polyline (quadratic Bezier, 8 segments)."""
    x0, y0 = exit_xy
    x2, y2 = x0 + length_px * math.cos(angle), y0 + length_px * math.sin(angle)
    mx, my = (x0 + x2) / 2, (y0 + y2) / 2
    nx, ny = -math.sin(angle), math.cos(angle)
    cx, cy = mx + 2 * bend * length_px * nx, my + 2 * bend * length_px * ny
    t = np.linspace(0, 1, 9)[:, None]
    p0, p1, p2 = np.array([x0, y0]), np.array([cx, cy]), np.array([x2, y2])
    points: npt.NDArray[np.float64] = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
    return points


def _draw_hair(
    canvas: FloatImage, points: npt.NDArray[np.float64], width_px: float, colour: RGB, taper: float
) -> None:
    """Blend an anti-aliased hair of the given width along the polyline, tapered at its exit."""
    pad = width_px + 3
    x0 = max(int(points[:, 0].min() - pad), 0)
    x1 = min(int(points[:, 0].max() + pad) + 1, canvas.shape[1])
    y0 = max(int(points[:, 1].min() - pad), 0)
    y1 = min(int(points[:, 1].max() + pad) + 1, canvas.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    coverage = np.zeros(xx.shape, dtype=np.float32)
    core = np.full(xx.shape, np.inf, dtype=np.float32)
    n = len(points) - 1
    seg_lengths = np.hypot(*np.diff(points, axis=0).T)
    total = float(seg_lengths.sum()) or 1.0
    start = 0.0
    for i in range(n):
        ax, ay = points[i]
        bx, by = points[i + 1]
        dx, dy = bx - ax, by - ay
        seg2 = dx * dx + dy * dy or 1e-9
        t_raw = ((xx - ax) * dx + (yy - ay) * dy) / seg2
        t = np.clip(t_raw, 0, 1)
        dist = np.hypot(xx - (ax + t * dx), yy - (ay + t * dy))
        if i == n - 1:  # clipped hair: a flat cut, not a rounded tip
            dist = np.where(t_raw > 1, np.inf, dist)
        along = (start + t * seg_lengths[i]) / total
        local_w = width_px * np.clip(taper + (1 - taper) * along / 0.12, taper, 1.0)
        coverage = np.maximum(coverage, np.clip(local_w / 2 - dist + 0.5, 0, 1))
        core = np.minimum(core, dist / np.maximum(local_w / 2, 1e-3))
        start += seg_lengths[i]
    hair = np.array(colour, dtype=np.float32)
    region = canvas[y0:y1, x0:x1]
    # A faint specular line along the shaft, as on real hair under polarised light.
    shine = np.clip(1 - core / 0.35, 0, 1)[:, :, None] * 0.12 * (255 - hair)
    region += coverage[:, :, None] * (hair + shine - region)


def _in_frame_length(points: npt.NDArray[np.float64], width: int, height: int) -> float:
    fine = np.concatenate(
        [np.linspace(points[i], points[i + 1], 20, endpoint=False) for i in range(len(points) - 1)]
        + [points[-1:]]
    )
    inside = (fine[:, 0] >= 0) & (fine[:, 0] < width) & (fine[:, 1] >= 0) & (fine[:, 1] < height)
    steps = np.hypot(*np.diff(fine, axis=0).T)
    return float((steps * (inside[:-1] & inside[1:])).sum())


def _diameter(spec: TrichogramSpec, rng: np.random.Generator) -> float:
    if rng.random() < spec.vellus_fraction:
        return float(rng.uniform(*spec.vellus_diameter_um))
    mean, sd = spec.terminal_diameter_um
    return float(np.clip(rng.normal(mean, sd), 32.0, 110.0))


def _hair_colour(
    spec: TrichogramSpec, rng: np.random.Generator, diameter_um: float, skin: RGB
) -> RGB:
    base = np.array(HAIR_RGB[spec.hair_colour]) * rng.uniform(0.85, 1.15)
    if diameter_um < 30:  # vellus hairs carry less pigment
        base = base + rng.uniform(0.15, 0.45) * (np.array(skin) - base)
    clipped = np.clip(base, 0, 255)
    return (float(clipped[0]), float(clipped[1]), float(clipped[2]))


@dataclass(frozen=True)
class PlannedHair:
    """A hair in scalp coordinates (pixels of the baseline view), before any rendering."""

    id: int
    exit_x: float
    exit_y: float
    angle: float
    length_px: float
    bend: float
    diameter_um: float
    colour: RGB
    taper: float
    follicular_unit: int
    first_in_unit: bool


@dataclass(frozen=True)
class View:
    """Where the camera looked: scalp coordinates -> image pixels (rotation about the image
    centre, then a shift), and the visit's own light, noise and flakes."""

    dx_px: float = 0.0
    dy_px: float = 0.0
    rotation_deg: float = 0.0
    seed: int = 0
    light_gain: float = 1.0

    def matrix(self, width: int, height: int) -> npt.NDArray[np.float64]:
        matrix = np.asarray(
            cv2.getRotationMatrix2D((width / 2, height / 2), self.rotation_deg, 1.0),
            dtype=np.float64,
        )
        matrix[0, 2] += self.dx_px
        matrix[1, 2] += self.dy_px
        return matrix


def plan_hairs(spec: TrichogramSpec) -> list[PlannedHair]:
    """Where every hair of the scene is, in scalp coordinates (deterministic per seed)."""
    return _plan(spec)[0]


def _plan(spec: TrichogramSpec) -> tuple[list[PlannedHair], float]:
    """The scene's hairs and the way they grow (radians): the scalp's hair stream."""
    rng = np.random.default_rng([spec.seed, 1])
    w, h, um = spec.width_px, spec.height_px, spec.um_per_px
    margin = spec.clipped_length_um[1] / um + 0.1 * max(w, h)
    area_cm2 = (w + 2 * margin) * (h + 2 * margin) * (um * 1e-4) ** 2
    mean_fu = float(np.dot(spec.follicular_unit_sizes, [1, 2, 3, 4]))
    n_units = rng.poisson(spec.density_per_cm2 * area_cm2 / mean_fu)
    base_angle = (
        math.radians(spec.base_angle_deg)
        if spec.base_angle_deg is not None
        else rng.uniform(0, 2 * math.pi)
    )
    skin = SKIN_RGB[spec.fitzpatrick]
    planned: list[PlannedHair] = []
    for unit in range(n_units):
        ex, ey = rng.uniform(-margin, w + margin), rng.uniform(-margin, h + margin)
        size = int(rng.choice([1, 2, 3, 4], p=spec.follicular_unit_sizes))
        unit_angle = base_angle + rng.normal(0, 0.35)
        length_px = rng.uniform(*spec.clipped_length_um) / um
        for k in range(size):
            diameter = _diameter(spec, rng)
            width_px = diameter / um
            offset = (k - (size - 1) / 2) * rng.uniform(0.6, 1.1) * width_px
            planned.append(
                PlannedHair(
                    id=len(planned),
                    exit_x=ex - offset * math.sin(unit_angle),
                    exit_y=ey + offset * math.cos(unit_angle),
                    angle=unit_angle + (k - (size - 1) / 2) * rng.uniform(0.12, 0.3),
                    length_px=length_px * rng.uniform(0.85, 1.1),
                    bend=rng.uniform(-0.02, 0.02),
                    diameter_um=diameter,
                    colour=_hair_colour(spec, rng, diameter, skin),
                    taper=rng.uniform(0.45, 0.7),
                    follicular_unit=unit,
                    first_in_unit=k == 0,
                )
            )
    return planned, base_angle


def render_trichogram(spec: TrichogramSpec) -> Trichogram:
    """Render one synthetic trichogram and its ground truth."""
    return render_view(spec, plan_hairs(spec), View(seed=spec.seed))


def render_view(spec: TrichogramSpec, hairs: list[PlannedHair], view: View) -> Trichogram:
    """Render the scene's hairs as one visit's camera saw them."""
    rng = np.random.default_rng([spec.seed, 2, view.seed])
    h, w, um = spec.height_px, spec.width_px, spec.um_per_px
    matrix = view.matrix(w, h)
    # The skin (texture, erythema, yellow dots) belongs to the scalp: the same at every visit.
    scalp_rng = np.random.default_rng([spec.seed, 3])
    canvas = _skin(spec, scalp_rng)
    if spec.honeycomb > 0:
        _honeycomb(canvas, np.random.default_rng([spec.seed, 7]), spec.honeycomb, um)
    for _ in range(spec.yellow_dots):
        _disc(
            canvas,
            scalp_rng.uniform(0, w),
            scalp_rng.uniform(0, h),
            scalp_rng.uniform(20, 60) / um,
            (214, 178, 96),
            scalp_rng.uniform(0.35, 0.7),
        )
    if spec.site_mark_um > 0:
        _site_mark(canvas, np.random.default_rng([spec.seed, 5]), spec.site_mark_um / 2 / um)
    if view.rotation_deg or view.dx_px or view.dy_px:
        canvas = np.asarray(
            cv2.warpAffine(canvas, matrix, (w, h), borderMode=cv2.BORDER_REFLECT_101),
            dtype=np.float32,
        )
    if spec.peripilar_share > 0:  # the scalp's, under every hair and flake
        for hair in hairs:
            unit_rng = np.random.default_rng([spec.seed, 8, hair.follicular_unit])
            if hair.first_in_unit and unit_rng.uniform() < spec.peripilar_share:
                ex, ey = matrix @ np.array([hair.exit_x, hair.exit_y, 1.0])
                _peripilar_sign(canvas, unit_rng, float(ex), float(ey), um)
    flakes = [
        (rng.uniform(0, w), rng.uniform(0, h), rng.uniform(60, 250) / um)
        for _ in range(spec.dandruff_flakes)
    ]
    for x, y, r in flakes[: len(flakes) // 2]:  # scale under the hairs...
        _flake(canvas, rng, x, y, r)
    skin_rgb = np.array(SKIN_RGB[spec.fitzpatrick]) * np.array([0.82, 0.74, 0.72])
    halo = (float(skin_rgb[0]), float(skin_rgb[1]), float(skin_rgb[2]))
    truths: list[HairTruth] = []
    turn = math.radians(-view.rotation_deg)  # image y points down: OpenCV's angle is clockwise
    for hair in hairs:
        ex, ey = matrix @ np.array([hair.exit_x, hair.exit_y, 1.0])
        points = _centreline((float(ex), float(ey)), hair.angle + turn, hair.length_px, hair.bend)
        if (
            points[:, 0].max() < -5
            or points[:, 0].min() > w + 5
            or points[:, 1].max() < -5
            or points[:, 1].min() > h + 5
        ):
            continue
        width_px = hair.diameter_um / um
        if hair.first_in_unit:  # the follicular opening: a faint brownish (peripilar) halo
            _disc(canvas, float(ex), float(ey), 1.4 * width_px, halo, 0.25)
        _draw_hair(canvas, points, width_px, hair.colour, taper=hair.taper)
        in_frame = _in_frame_length(points, w, h) * um
        if in_frame > 0:
            truths.append(
                HairTruth(
                    id=hair.id,
                    exit_x=float(points[0, 0]),
                    exit_y=float(points[0, 1]),
                    end_x=float(points[-1, 0]),
                    end_y=float(points[-1, 1]),
                    diameter_um=hair.diameter_um,
                    follicular_unit=hair.follicular_unit,
                    in_frame_length_um=in_frame,
                    counted=in_frame >= MIN_COUNTED_SHAFT_UM,
                )
            )
    for x, y, r in flakes[len(flakes) // 2 :]:  # ...and flakes lying over them
        _flake(canvas, rng, x, y, r)
    bubble_rng = np.random.default_rng([spec.seed, 6, view.seed])  # (each visit its own)
    for _ in range(spec.air_bubbles):
        _air_bubble(
            canvas,
            bubble_rng,
            bubble_rng.uniform(0, w),
            bubble_rng.uniform(0, h),
            bubble_rng.uniform(*AIR_BUBBLE_RADIUS_UM) / um,
        )
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    radius = np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2))
    light = 1 - spec.vignette * radius**2 + 0.06 * (xx / w - 0.5) * rng.uniform(-1, 1)
    canvas *= (light * view.light_gain)[:, :, None]
    if spec.blur_sigma_px > 0:
        canvas = np.asarray(cv2.GaussianBlur(canvas, (0, 0), spec.blur_sigma_px), dtype=np.float32)
    canvas += rng.normal(0, spec.noise_sd, canvas.shape).astype(np.float32)
    rgb = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    return Trichogram(spec=spec, rgb=rgb, hairs=truths)


@dataclass
class VisitPair:
    baseline: Trichogram
    followup: Trichogram
    view: View
    lost_ids: set[int]
    new_ids: set[int]
    thinned_ids: set[int]
    baseline_hairs: list[PlannedHair] = field(default_factory=list)
    followup_hairs: list[PlannedHair] = field(default_factory=list)

    def repeat(self, visit: str, number: int) -> Trichogram:
        """Another image of the same site at the same visit: the camera placed again a few
        pixels off, new noise and flakes (what a clinic gets taking several images)."""
        rng = np.random.default_rng([self.baseline.spec.seed, 5, number, visit == "followup"])
        hairs = self.baseline_hairs if visit == "baseline" else self.followup_hairs
        base = View() if visit == "baseline" else self.view
        view = replace(
            base,
            dx_px=base.dx_px + float(rng.uniform(-12, 12)),
            dy_px=base.dy_px + float(rng.uniform(-12, 12)),
            rotation_deg=base.rotation_deg + float(rng.uniform(-1.5, 1.5)),
            seed=base.seed + 101 * (number + 1),
        )
        return render_view(self.baseline.spec, hairs, view)

    def true_change(self, margin_px: float = 20.0) -> int:
        """New minus lost counted hairs whose exits both frames see (the common field)."""
        common = self.common_ids(margin_px)
        return len(common & self.new_ids) - len(common & self.lost_ids)

    def common_ids(self, margin_px: float = 20.0) -> set[int]:
        spec = self.baseline.spec

        def inside(x: float, y: float) -> bool:
            return (
                margin_px <= x < spec.width_px - margin_px
                and margin_px <= y < spec.height_px - margin_px
            )

        seen_base = {h.id for h in self.baseline.hairs if h.counted and inside(h.exit_x, h.exit_y)}
        seen_follow = {
            h.id for h in self.followup.hairs if h.counted and inside(h.exit_x, h.exit_y)
        }
        base_exits = {h.id: (h.exit_x, h.exit_y) for h in self.baseline.hairs}
        follow_exits = {h.id: (h.exit_x, h.exit_y) for h in self.followup.hairs}
        common = set()
        matrix = self.view.matrix(spec.width_px, spec.height_px)
        inverse = cv2.invertAffineTransform(matrix)
        for hair_id in seen_base | seen_follow:
            if hair_id in base_exits:
                bx, by = base_exits[hair_id]
                fx, fy = matrix @ np.array([bx, by, 1.0])
            else:
                fx, fy = follow_exits[hair_id]
                bx, by = inverse @ np.array([fx, fy, 1.0])
            if inside(float(bx), float(by)) and inside(float(fx), float(fy)):
                common.add(hair_id)
        return common


def render_visit_pair(
    spec: TrichogramSpec,
    lost_fraction: float = 0.1,
    new_fraction: float = 0.1,
    thinned_fraction: float = 0.1,
    view: View | None = None,
    seed: int = 0,
) -> VisitPair:
    """Baseline and follow-up of one marked site with a known change between them."""
    rng = np.random.default_rng([spec.seed, 4, seed])
    hairs, stream = _plan(spec)
    lost = {h.id for h in hairs if rng.random() < lost_fraction}
    thinned = {h.id for h in hairs if h.id not in lost and rng.random() < thinned_fraction}
    # New hairs grow from the same scalp, the way the hairs around them grow.
    extra_spec = replace(
        spec,
        seed=spec.seed + 7919 + seed,
        density_per_cm2=spec.density_per_cm2 * new_fraction,
        base_angle_deg=math.degrees(stream),
    )
    offset = max(h.id for h in hairs) + 1 if hairs else 0
    new_hairs = [
        replace(h, id=h.id + offset, follicular_unit=h.follicular_unit + offset)
        for h in plan_hairs(extra_spec)
    ]
    followup_hairs = [
        replace(h, diameter_um=h.diameter_um * 0.6) if h.id in thinned else h
        for h in hairs
        if h.id not in lost
    ] + new_hairs
    view = view or View(
        dx_px=float(rng.uniform(-40, 40)),
        dy_px=float(rng.uniform(-40, 40)),
        rotation_deg=float(rng.uniform(-4, 4)),
        seed=seed + 1,
        light_gain=float(rng.uniform(0.9, 1.1)),
    )
    return VisitPair(
        baseline=render_view(spec, hairs, View(seed=seed)),
        followup=render_view(spec, followup_hairs, view),
        view=view,
        lost_ids=lost,
        new_ids={h.id for h in new_hairs},
        thinned_ids=thinned,
        baseline_hairs=hairs,
        followup_hairs=followup_hairs,
    )


def varied_specs(count: int, seed: int = 2026, **overrides: object) -> list[TrichogramSpec]:
    """A benchmark set that covers every skin type, hair colour and density band."""
    rng = np.random.default_rng(seed)
    specs = []
    for i in range(count):
        fitzpatrick = i % 6 + 1
        # Natural brown hair on the darkest skin is nearly invisible even to the eye; such
        # scalps are imaged with black, grey, dyed or bleached hair in this set.
        colours = [c for c in HAIR_RGB if fitzpatrick < 5 or c != "brown"]
        spec = TrichogramSpec(
            seed=seed * 1000 + i,
            fitzpatrick=fitzpatrick,
            hair_colour=colours[(i // 6 + i) % len(colours)],
            density_per_cm2=float(rng.uniform(50, 350)),
            vellus_fraction=float(rng.uniform(0.05, 0.4)),
            blur_sigma_px=float(rng.uniform(0.5, 1.1)),
            noise_sd=float(rng.uniform(1.5, 5.0)),
            dandruff_flakes=int(rng.integers(0, 12)),
            yellow_dots=int(rng.integers(0, 20)),
            erythema=float(rng.uniform(0, 0.6)),
            vignette=float(rng.uniform(0.05, 0.3)),
        )
        specs.append(replace(spec, **overrides))  # type: ignore[arg-type]
    return specs
