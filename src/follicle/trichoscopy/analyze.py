"""Count, measure and classify clipped hairs in a dermoscopic image (contracts §4).

Method (classical, CPU): estimate the skin under the hairs (a weighted blur that leaves out
whatever stands out from it) and measure each pixel's colour difference from it, whitened by
the skin's own colour variation (its Mahalanobis distance): skin texture and light vary mostly
in brightness, so blond hair on light-brown skin, which differs mostly in colour, stands out as
clearly as black hair on pale skin. Threshold with hysteresis; remove pale shapes wider than a
hair (dandruff, scale); skeletonise each connected shape, split it into branches at junctions
and re-join branches that continue each other in a straight line, so that crossing hairs and
hairs sharing a follicular opening are counted separately; shapes cut by the frame are thinned
to the frame. Candidates much fainter than the image's hairs (skin mottling), pale ones lying
wholly within a flake's reach (its lobes) and dots are dropped. The shaft diameter is the area under
colour-distance profiles across its middle part (away from the tapered exit and the cut end)
over their plateau; the exit point is the narrower end. Hairs whose exits lie close together
form a follicular unit.

>>> from follicle.trichoscopy.synth import TrichogramSpec, render_trichogram
>>> image = render_trichogram(TrichogramSpec(seed=3))  # the benchmark's 1600 x 1250
>>> result = analyze(image.rgb, um_per_px=5.0)
>>> abs(result.hair_count - len(image.counted_hairs)) <= 0.2 * len(image.counted_hairs)
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from skimage.morphology import skeletonize

from follicle.trichoscopy.focus import edge_spread_px
from follicle.trichoscopy.groups import linked_groups
from follicle.trichoscopy.sampling import channel_norm, light_evened_distance

MIN_COUNTED_SHAFT_UM = 50.0
# A pixel fainter than this fraction of the strongest within NEARBY_UM is the blurred edge of
# a shaft, the gap between two lying close or a halo, not a shaft's core. (Relative to the
# shape's own peak instead, a vellus hair touching a dark terminal one was taken for its halo.)
LOCAL_CORE_FRACTION = 0.45
NEARBY_UM = 100.0  # about a terminal hair's width and its blur either side of a pixel
BUNDLE_FACTOR = 1.5
MIN_DIAMETER_UM = 5.0  # thinner than any vellus hair: a thresholding artefact
MAX_HAIR_DIAMETER_UM = 150.0
DEFAULT_VELLUS_THRESHOLD_UM = 30.0
DEFAULT_FOLLICULAR_UNIT_UM = 120.0
DEFAULT_MAX_PIXELS = 40_000_000
MIN_SHAFT_CONTRAST_SD = 4.0  # a shaft stands out from the skin by this many of its SDs...
SHORT_SHAFT_UM = 300.0  # ...and by more when shorter than this (mottling cut by the frame)
SHORT_SHAFT_EXTRA_SD = 2.0
FAINT_FRACTION = 0.3  # of the image's typical shaft contrast: fainter is skin, not hair
STUBBY_RATIO = 3.0  # length over width: shorter shapes must be more distinct to count
FLAKE_MAX_CHROMA = 0.45  # colour spread over brightness: flakes are nearly neutral
#: Branches meeting at a junction are one shaft when one continues the other within this
#: angle: a clipped shaft hardly bends, so a sharper turn is two hairs meeting.
CONTINUES_WITHIN_DEG = 15.0
# A skeleton path straying from the line between its ends by more than this is not straight
# (the px term is the thinning's own wobble; a clipped hair's gentle curve stays within it)...
BEND_TOLERANCE_PX = 2.5
BEND_TOLERANCE_FRACTION = 0.03  # of the path's length
CORNER_DEG = 10.0  # ...and is cut where it turns by more than this
ANALYSER_VERSION = "trichoscopy-0.2"  # stored with every measurement


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

    @property
    def area_cm2(self) -> float:
        return self.width_px * self.height_px * (self.um_per_px * 1e-4) ** 2

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
class _Params:
    """Pixel sizes derived from the scale; every size here is physical (um) at heart."""

    um_per_px: float

    def px(self, um: float) -> float:
        return um / self.um_per_px


def check_inputs(rgb: npt.NDArray[Any], um_per_px: float, max_pixels: int) -> None:
    if not math.isfinite(um_per_px) or not 0.5 <= um_per_px <= 50:
        raise AnalysisError(
            f"um_per_px {um_per_px!r} is not a plausible dermoscopy scale (0.5-50 um per pixel)"
        )
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise AnalysisError("expected an 8-bit RGB image")
    height, width = rgb.shape[:2]
    if height * width > max_pixels:
        raise AnalysisError(
            f"image has {height * width / 1e6:.0f} megapixels; the limit is "
            f"{max_pixels / 1e6:.0f} (crop or downsample the area first)"
        )
    if min(height, width) < 32:
        raise AnalysisError(f"image is too small ({width}x{height} pixels)")


def _skin_colour(
    image: npt.NDArray[np.float32],
    weight: npt.NDArray[np.float32] | None,
    size: tuple[int, int],
    sigma: float,
) -> npt.NDArray[np.float32]:
    """Skin colour under everything at ``size`` (width, height), by a blur of the pixels
    ``weight`` trusts."""
    if weight is None:
        return np.asarray(
            cv2.GaussianBlur(cv2.resize(image, size, interpolation=cv2.INTER_AREA), (0, 0), sigma),
            dtype=np.float32,
        )
    weighted = cv2.multiply(image, cv2.merge([weight, weight, weight]))
    small = cv2.GaussianBlur(
        cv2.resize(weighted, size, interpolation=cv2.INTER_AREA), (0, 0), sigma
    )
    small_w = cv2.GaussianBlur(
        cv2.resize(weight, size, interpolation=cv2.INTER_AREA), (0, 0), sigma
    )
    return np.asarray(small / np.maximum(small_w, 1e-3)[:, :, None], dtype=np.float32)


def _resized(image: npt.NDArray[np.float32], like: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    size = (like.shape[1], like.shape[0])
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_LINEAR), dtype=np.float32)


_MEAN_CHANNELS = np.full((1, 3), 1.0 / 3.0, dtype=np.float32)
#: The hair contrast is scaled so that the skin's own variation (texture, noise) has this
#: standard deviation.
SKIN_SD = 4.0
#: No colour direction is trusted to vary less than this share of the skin's most varying one.
SKIN_VARIANCE_FLOOR = 0.02
#: No colour direction of the skin is taken to vary by less than this share of the skin's
#: brightness (standard deviation), added to :data:`ROUNDING_SD`: a floor in proportion to
#: the brightness, so that the same scalp taken darker (a dim dermoscope, a short exposure)
#: reads the same. A floor of one grey level whatever the brightness (before session 15) made
#: an image taken at 40 % of the light lose up to 56 % of its pale hairs, and it made dark
#: skin less sensitive than light skin.
SKIN_SD_FLOOR_SHARE = 0.004
#: The standard deviation of rounding to whole grey levels (1/sqrt(12)): no 8-bit image shows
#: less. Without it, smooth dark skin saved as a coarse JPEG (quality 60) read its 8-pixel
#: blocks as hair (one sparse type VI scalp at 2.2 times its count).
ROUNDING_SD = 12**-0.5
#: Pixels further than this many SDs from the skin are left out of the skin's estimate.
BACKGROUND_OUTLIER_SD = 5.0
STRIP_ROWS = 16


def skin_whitening(diff: npt.NDArray[Any], floor_sd: float) -> npt.NDArray[np.float32]:
    """A colour transform under which the skin's own variation is round and of standard
    deviation :data:`SKIN_SD`, so the length of a transformed difference says how unlike
    skin a pixel is (its Mahalanobis distance).

    Skin texture and lighting vary mostly in brightness; blond hair on light-brown skin
    differs mostly in blue-yellow, and would hide among brightness variation of the same size.
    ``diff`` is a sample of colour differences from the skin estimate; the skin's spread is
    taken from the 85 % of them closest to it, with at least ``floor_sd`` in every direction.
    """
    flat = diff.reshape(-1, 3).astype(np.float64)
    columns = flat.T
    squared = columns[0] * columns[0] + columns[1] * columns[1] + columns[2] * columns[2]
    closest = int(0.85 * (len(squared) - 1))
    weight = (squared < np.partition(squared, closest)[closest]).astype(np.float64)
    count = float(weight.sum())
    if count < 10:
        floor = math.sqrt(float(np.median(squared)))
        return np.eye(3, dtype=np.float32) * SKIN_SD / max(floor, floor_sd)
    # (the covariance of the chosen rows by weighted sums: no copy of them)
    mean = columns @ weight / count
    scatter = (columns * weight) @ flat - count * np.outer(mean, mean)
    values, vectors = np.linalg.eigh(scatter / (count - 1) + np.eye(3) * floor_sd**2)
    values = np.maximum(values, SKIN_VARIANCE_FLOOR * values.max())
    whitening = vectors @ np.diag(1.0 / np.sqrt(values)) @ vectors.T
    return np.asarray(whitening * SKIN_SD, dtype=np.float32)


@dataclass(frozen=True)
class _Contrast:
    """Each pixel against its local skin: how unlike it (finds hairs), the colour difference
    and light-evening gain (measure them; their brightness tells pale blobs)."""

    hairlike: npt.NDArray[np.float32]  # whitened distance from the skin: finds the hairs
    diff: npt.NDArray[np.float32]  # colour difference from the skin, unblurred: measures...
    gain: npt.NDArray[np.float32]  # ...once evened out for uneven light (see _profile_widths)

    def brighter(self, rows: Any, cols: Any) -> npt.NDArray[np.float64]:
        """Signed brightness against the skin, evened out for light, at these pixels (index
        arrays or slices): pale blobs (dandruff) are brighter than the skin."""
        return np.asarray(self.diff[rows, cols].mean(axis=-1) * self.gain[rows, cols])


def _contrast(rgb: npt.NDArray[np.uint8]) -> _Contrast:
    """Hair contrast against the local skin, corrected for uneven light."""
    # A light blur first: it averages sensor noise away and keeps the integral across a hair.
    image = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    height, width = image.shape[:2]
    half = np.asarray(
        cv2.resize(image, (max(8, width // 2), max(8, height // 2)), interpolation=cv2.INTER_AREA),
        dtype=np.float32,
    )
    # The skin is smooth: it is estimated on an eighth-size grid, and what stands out from it
    # (to be left out of the next estimate) is found at quarter size.
    quarter = np.asarray(
        cv2.resize(half, (max(8, width // 4), max(8, height // 4)), interpolation=cv2.INTER_AREA),
        dtype=np.float32,
    )
    size = (max(8, width // 8), max(8, height // 8))
    skin = _skin_colour(quarter, None, size, 3.0)
    skin_level = float(np.median(cv2.transform(skin, _MEAN_CHANNELS)))
    floor_sd = math.hypot(SKIN_SD_FLOOR_SHARE * skin_level, ROUNDING_SD)
    for _ in range(2):  # re-estimate without hairs and blobs: they would pull it their way
        diff = cv2.subtract(quarter, _resized(skin, quarter))
        whitening = skin_whitening(diff[::2, ::2], floor_sd)
        hairlike = channel_norm(cv2.transform(diff, whitening))
        outlier = (hairlike > BACKGROUND_OUTLIER_SD * SKIN_SD).astype(np.uint8)
        weight = 1.0 - cv2.dilate(outlier, np.ones((3, 3), np.uint8)).astype(np.float32)
        skin = _skin_colour(quarter, weight, size, 3.0)
    # The skin's variation as seen at half size (sensor noise averaged over 2x2 pixels).
    whitening = skin_whitening(half[::4, ::4] - _resized(skin, half)[::4, ::4], floor_sd)
    # Relative to the local skin brightness, so vignetting and uneven light do not hide hairs
    # at the edges of the field.
    luminance = cv2.transform(skin, _MEAN_CHANNELS)
    gain = cv2.resize(
        float(np.median(luminance)) / np.maximum(luminance, 8.0),
        (width, height),
        interpolation=cv2.INTER_LINEAR,
    )
    background = _resized(skin, image)
    colour_diff = np.empty((height, width, 3), dtype=np.float32)
    hairlike = np.empty((height, width), dtype=np.float32)
    # In strips that stay in the processor's cache: over the whole image at once, each step
    # would stream tens of megabytes through memory (about 1.7x slower).
    for top in range(0, height, STRIP_ROWS):
        rows = slice(top, top + STRIP_ROWS)
        blurred_diff = cv2.subtract(image[rows], background[rows], dtype=cv2.CV_32F)
        cv2.multiply(
            channel_norm(cv2.transform(blurred_diff, whitening)), gain[rows], dst=hairlike[rows]
        )
        # Measured without the blur: it would spread a thin hair's profile, lower its peak
        # and so widen it (vellus hairs were read about 6 um too wide).
        cv2.subtract(rgb[rows], background[rows], dst=colour_diff[rows], dtype=cv2.CV_32F)
    clipped_rows = np.flatnonzero(image.reshape(height, -1).max(axis=1) >= CLIPPED)
    if len(clipped_rows):
        by_two = _two_channel_whitenings(whitening)
        _judge_clipped(image, clipped_rows, background, by_two, gain, hairlike)
    return _Contrast(hairlike, colour_diff, np.asarray(gain, dtype=np.float32))


#: A channel this bright is taken as clipped by the camera: it says only "at least this".
CLIPPED = 253


def _two_channel_whitenings(
    whitening: npt.NDArray[np.float32],
) -> list[tuple[list[int], npt.NDArray[np.float64]]]:
    """For each channel, the other two and their whitening by the skin's spread in those two."""
    spread = np.linalg.inv(whitening.T.astype(np.float64) @ whitening) * SKIN_SD**2
    result = []
    for channel in range(3):
        others = [c for c in range(3) if c != channel]
        values, vectors = np.linalg.eigh(spread[np.ix_(others, others)])
        pair = vectors @ np.diag(SKIN_SD / np.sqrt(np.maximum(values, 1e-9))) @ vectors.T
        result.append((others, pair))
    return result


def _judge_clipped(
    image: npt.NDArray[Any],
    clipped_rows: npt.NDArray[np.intp],
    background: npt.NDArray[Any],
    by_two: list[tuple[list[int], npt.NDArray[np.float64]]],
    gain: npt.NDArray[Any],
    hairlike: npt.NDArray[np.float32],
) -> None:
    """Where one channel is clipped (light skin in a bright image: red at 255), judge a pixel
    by the other two against the skin's spread in those two (``by_two``, one whitening per
    clipped channel): a paler patch of skin brightens only the unclipped channels there, off
    the skin's own colour spread, and would read as hair. (Pixels with two or three clipped
    channels, white flakes, are left as they are.) Only the rows ``clipped_rows`` that hold
    a clipped pixel are scanned (OpenCV's scan of a whole image took 6 ms)."""
    width = image.shape[1]
    at = np.flatnonzero(image[clipped_rows] >= CLIPPED)  # (each clipped channel, in order)
    found, entries = np.divmod(at, width * 3)
    rows = clipped_rows[found]
    pixels = rows * width + entries // 3
    first, count = np.unique(pixels, return_index=True, return_counts=True)[1:]
    alone = first[count == 1]  # (a pixel's entries are adjacent, in channel order)
    rows, cols, which = rows[alone], entries[alone] // 3, entries[alone] % 3
    diff = image[rows, cols].astype(np.float32) - background[rows, cols]
    for channel, (others, pair) in enumerate(by_two):
        here = which == channel
        if not here.any():
            continue
        whitened = diff[here][:, others].astype(np.float64) @ pair.T
        hairlike[rows[here], cols[here]] = (
            np.hypot(whitened[:, 0], whitened[:, 1]) * gain[rows[here], cols[here]]
        )


def _quantiles(values: npt.NDArray[Any], *qs: float) -> list[float]:
    """``np.quantile`` (linear interpolation) by one partial sort: a full quantile call costs
    more than the sort itself on the small arrays measured per shape and per hair."""
    flat = values.ravel()
    last = len(flat) - 1
    positions = [q * last for q in qs]
    below = [int(p) for p in positions]
    indices = sorted({i for b in below for i in (b, min(b + 1, last))})
    part = np.partition(flat, indices)
    return [
        float(part[b] + (part[min(b + 1, last)] - part[b]) * (p - b))
        for p, b in zip(positions, below, strict=True)
    ]


def _thresholds(contrast: npt.NDArray[np.float32]) -> tuple[float, float]:
    floor, upper = _quantiles(contrast[::4, ::4], 0.5, 0.75)
    spread = upper - floor
    low = max(floor + 3.0 * max(spread, 0.5), 5.0)
    high = max(floor + 6.0 * max(spread, 0.5), 10.0)
    return low, high


def _hair_mask(
    contrast: npt.NDArray[np.float32],
    thresholds: tuple[float, float],
    views: _Contrast,
    rgb: npt.NDArray[np.uint8],
    params: _Params,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Hysteresis threshold, then remove pale shapes wider than any hair (dandruff, scale);
    also returns where the lobes of those shapes may reach.

    Where hairs of one follicular unit overlap they can also be wider than a hair; those
    cores are as dark (or as coloured) as the hairs, so they stay. Grey hairs piled on darker
    skin are paler than it and whitish, as a flake is; they are told apart by the edges
    within: a pile's run along its shafts, a flake's every way. Dark hairs lying on a flake
    are part of its blob too; they are kept, or each would come apart in two pieces, or be
    lost.
    """
    mask = _hysteresis(contrast, *thresholds)
    radius = math.ceil(params.px(MAX_HAIR_DIAMETER_UM) / 2) + 1
    mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)))
    blobs = _wider_than(mask, radius)
    rim = max(3, radius // 3)  # a flake's blurred edge, removed with it
    flake_cores = np.zeros_like(mask)
    hairs_on_flakes = np.zeros_like(mask)
    blob_outlines, _ = cv2.findContours(blobs, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for outline in blob_outlines:
        x, y, w, h = cv2.boundingRect(outline)
        filled = np.zeros((h, w), dtype=np.uint8)
        cv2.drawContours(filled, [outline], -1, 1, thickness=cv2.FILLED, offset=(-x, -y))
        inside = (filled & blobs[y : y + h, x : x + w]).astype(np.bool_)
        # (read with a rim around it: hairs on a flake reach into its rim)
        top, left = max(y - rim, 0), max(x - rim, 0)
        around = (slice(top, y + h + rim), slice(left, x + w + rim))
        brightness_around = views.brighter(*around)
        brightness = brightness_around[y - top : y - top + h, x - left : x - left + w]
        # Mostly paler than the skin (by the share of pale pixels: a flake lying on hairs is
        # darker on average); only its pale part is judged further (what lies on the hairs).
        paler = inside & (brightness > 0)
        if np.count_nonzero(paler) <= 0.5 * np.count_nonzero(inside):
            continue
        colour = rgb[y : y + h, x : x + w][paler].mean(axis=0)
        # Dandruff and scale are whitish: blond or dyed hair piled up is paler than dark
        # skin too, but coloured. Grey hair piled up is whitish as well, but made of shafts.
        if float(colour.max() - colour.min()) >= FLAKE_MAX_CHROMA * float(colour.mean()):
            continue
        if _coherence(rgb[y : y + h, x : x + w], paler) >= PILE_COHERENCE:
            continue  # shafts lying one way
        # What is much darker than the skin in a pale flake or its rim lies on it: a hair,
        # kept whole.
        flake_cores[y : y + h, x : x + w][inside & (brightness >= -ON_FLAKE_DARKER)] = 1
        hairs_on_flakes[around][brightness_around < -ON_FLAKE_DARKER] = 1
    if not flake_cores.any():
        return np.asarray(mask, dtype=np.uint8), flake_cores
    remove = cv2.dilate(flake_cores, np.ones((2 * rim + 1, 2 * rim + 1), np.uint8))
    remove[hairs_on_flakes > 0] = 0
    mask = np.asarray(cv2.subtract(mask, remove), dtype=np.uint8)  # (both 0 or 1)
    # A flake's lobes reach beyond the part of it a hair-wide square fits in; a shape lying
    # wholly within that reach is a lobe, while a hair crossing the flake goes beyond it.
    zone = cv2.dilate(flake_cores, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
    return np.asarray(mask, dtype=np.uint8), np.asarray(zone, dtype=np.uint8)


#: Edges within a pale blob sharing one direction at least this much (0-1): hair piled up.
PILE_COHERENCE = 0.6
#: Pixels in or around a flake darker than the skin by more than this (grey levels, evened
#: for light) are a hair lying on it: black and brown shafts are darker by 100 or more, while
#: skin showing between a flake's lobes reads up to 30 darker (the flake pulls the skin's
#: estimate up there) and made false hairs at smaller margins.
ON_FLAKE_DARKER = 40.0


def _wider_than(mask: npt.NDArray[np.uint8], radius: int) -> npt.NDArray[np.uint8]:
    """The parts of ``mask`` a disc of ``radius`` fits in (its opening by the disc): wider
    than a hair whatever its direction, and found in lobed flakes that a square of the same
    width does not fit in. Worked out at half size (full size took 25 ms an image)."""
    height, width = mask.shape
    half = np.asarray(
        cv2.resize(mask, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA),
        dtype=np.uint8,
    )
    half_radius = radius / 2.0
    centres = (cv2.distanceTransform(half, cv2.DIST_L2, 5) >= half_radius).astype(np.uint8)
    side = 2 * math.ceil(half_radius) + 1
    ball = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    fits = cv2.resize(cv2.dilate(centres, ball), (width, height), interpolation=cv2.INTER_NEAREST)
    return np.asarray(fits, dtype=np.uint8) & mask


def _coherence(rgb: npt.NDArray[np.uint8], inside: npt.NDArray[np.bool_]) -> float:
    """How much the brightness edges within ``inside`` (its rim left out) share one direction,
    0 (none) to 1 (all parallel): a pile of hair is made of shafts lying one way, a flake
    is amorphous."""
    grey = cv2.transform(rgb, _MEAN_CHANNELS.astype(np.float64)).astype(np.float32)
    interior = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if not interior.any():
        return 0.0
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)[interior].astype(np.float64)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)[interior].astype(np.float64)
    jxx, jyy, jxy = float(gx @ gx), float(gy @ gy), float(gx @ gy)
    return math.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / max(jxx + jyy, 1e-9)


def _hysteresis(
    contrast: npt.NDArray[np.float32], low: float, high: float
) -> npt.NDArray[np.uint8]:
    """Shapes above ``low`` that reach above ``high`` somewhere (8-connected), as 1.

    Floods the weak shapes from one pixel of each strong shape: quicker than labelling every
    weak shape, most of which are skin texture.
    """
    weak = _greater(contrast, low)
    filled = np.zeros((weak.shape[0] + 2, weak.shape[1] + 2), dtype=np.uint8)
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)  # 8-connected, mark the mask with 1
    for row, col in _one_pixel_each(_greater(contrast, high)).tolist():
        if not filled[row + 1, col + 1]:
            cv2.floodFill(weak, filled, (col, row), 0, 0, 0, flags)
    return filled[1:-1, 1:-1]


def _one_pixel_each(mask: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """A pixel (row, col) of each 8-connected shape in the mask: the first point of each of
    its outlines (tracing outlines is much quicker than labelling every pixel; every outline,
    so that a shape lying in another's hole has its own)."""
    outlines, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    if not outlines:
        return np.zeros((0, 2), dtype=np.intp)
    return np.array([outline[0, 0, ::-1] for outline in outlines], dtype=np.intp)


def _greater(image: npt.NDArray[np.float32], value: float) -> npt.NDArray[np.uint8]:
    """Where the image exceeds the value (255, else 0): OpenCV's compare is several times
    quicker than numpy's on a whole image."""
    return np.asarray(cv2.compare(image, value, cv2.CMP_GT), dtype=np.uint8)  # type: ignore[call-overload]


def _components(
    mask: npt.NDArray[np.uint8],
) -> tuple[int, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Connected shapes (8-connected): their count, label image and bounding boxes.

    Block-based labelling (BBDT) by name: OpenCV's default one with statistics runs about 3x
    slower on one thread, even on an empty image.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        mask, 8, cv2.CV_32S, cv2.CCL_BBDT
    )
    return int(count), np.asarray(labels, dtype=np.int32), np.asarray(stats, dtype=np.int32)


@dataclass
class _Chain:
    points: npt.NDArray[np.int64]  # skeleton pixels (row, col) in image coordinates, ordered

    @cached_property
    def direction(self) -> npt.NDArray[np.float64]:
        return _direction(self.points)

    @cached_property  # read when filtering candidates and again when measuring them
    def length_px(self) -> float:
        if len(self.points) < 2:
            return float(len(self.points))
        steps = np.diff(self.points.astype(np.float64), axis=0)
        return float(np.hypot(steps[:, 0], steps[:, 1]).sum()) + 1.0


def _direction(points: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Unit vector (row, col) along the points' principal axis (closed-form 2x2 PCA)."""
    return np.asarray(_directions(points, np.zeros(len(points), dtype=np.intp), 1)[0])


def _with_directions(chains: list[_Chain]) -> None:
    """Work out every chain's :attr:`_Chain.direction` in one call (one by one, the many
    small array operations cost more than the sums)."""
    if not chains:
        return
    points = np.concatenate([chain.points for chain in chains])
    owner = np.repeat(np.arange(len(chains)), [len(chain.points) for chain in chains])
    for chain, direction in zip(chains, _directions(points, owner, len(chains)), strict=True):
        chain.__dict__["direction"] = direction  # (what the cached property would store)


def _directions(
    points: npt.NDArray[np.int64], owner: npt.NDArray[np.integer[Any]], count: int
) -> npt.NDArray[np.float64]:
    """:func:`_direction` of many point sets at once: ``points`` holds them all, ``owner``
    says which set each point belongs to (one call instead of one per set)."""
    size = np.maximum(np.bincount(owner, minlength=count), 1)
    rows = points[:, 0].astype(np.float64)
    cols = points[:, 1].astype(np.float64)
    rows -= (np.bincount(owner, rows, count) / size)[owner]
    cols -= (np.bincount(owner, cols, count) / size)[owner]
    c_rr = np.bincount(owner, rows * rows, count)
    c_cc = np.bincount(owner, cols * cols, count)
    c_rc = np.bincount(owner, rows * cols, count)
    angle = 0.5 * np.arctan2(2.0 * c_rc, c_rr - c_cc)
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _chains(
    sk: npt.NDArray[np.uint8],
    owner: npt.NDArray[np.int32],
    spur_px: float,
) -> list[tuple[_Chain, int]]:
    """Split the image's skeletons at junctions and re-join branches that continue each
    other; each chain comes with the label (in ``owner``) of the shape it belongs to."""
    frame = (sk.shape[0], sk.shape[1])
    # The skeleton is sparse: its pixels' neighbourhoods are read, not whole-image filters.
    rows, cols = _nonzero(sk)
    framed = cv2.copyMakeBorder(sk, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=0)
    neighbours = sum(framed[rows + 2 + dr, cols + 2 + dc] for dr, dc in _AROUND)
    junction = np.asarray(neighbours >= 4)  # itself and three or more neighbours
    j_rows, j_cols = rows[junction], cols[junction]
    near_junction = np.zeros_like(framed)
    for dr, dc in _AROUND:
        near_junction[j_rows + 2 + dr, j_cols + 2 + dc] = 1
    on_branch = near_junction[rows + 2, cols + 2] == 0
    rows, cols = rows[on_branch], cols[on_branch]
    branches_img = np.zeros_like(sk)
    branches_img[rows, cols] = 1
    count, branch_labels = cv2.connectedComponentsWithAlgorithm(
        branches_img, 8, cv2.CV_32S, cv2.CCL_BBDT
    )
    pixel_labels = np.asarray(branch_labels, dtype=np.int32)[rows, cols]
    pixels = np.stack([rows, cols], axis=1).astype(np.int64)
    # Each branch's pixels in order along its principal axis.
    axes = _directions(pixels, pixel_labels, count)[pixel_labels]
    along = pixels[:, 0] * axes[:, 0] + pixels[:, 1] * axes[:, 1]
    by_label = np.lexsort((along, pixel_labels))
    pixels = pixels[by_label]
    bounds = np.searchsorted(pixel_labels[by_label], np.arange(1, count + 1))
    firsts, stops = bounds[:-1], bounds[1:]
    pixels, firsts, stops = _split_at_corners(pixels, firsts, stops, axes[by_label], spur_px)
    long_enough = stops - firsts >= 2
    firsts, stops = firsts[long_enough], stops[long_enough]
    branches = [pixels[a:b] for a, b in zip(firsts.tolist(), stops.tolist(), strict=True)]
    shape_of = owner[pixels[firsts, 0], pixels[firsts, 1]]
    if not junction.any():
        return [(_Chain(b), int(o)) for b, o in zip(branches, shape_of.tolist(), strict=True)]
    # Each branch end near a junction (within 2 px): which cluster of junctions it touches.
    jlabels = _junction_clusters(j_rows, j_cols, frame)
    end_points = np.stack([pixels[firsts], pixels[stops - 1]], axis=1)  # branch, which, (r, c)
    touches = jlabels[end_points[..., 0], end_points[..., 1]]
    ends: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for bi, which in zip(*(index.tolist() for index in np.nonzero(touches)), strict=True):
        point = end_points[bi, which]
        # (junctions of two shapes lying close are apart)
        ends.setdefault((int(owner[point[0], point[1]]), int(touches[bi, which])), []).append(
            (bi, which)
        )
    # Drop short spurs that only touch one junction (in shapes that have junctions).
    # (A short branch that runs out of the frame is a hair cut by it, not a spur.)
    height, width = frame
    at_frame = (
        (end_points <= 1).any(axis=2)
        | (end_points[..., 0] >= height - 2)
        | (end_points[..., 1] >= width - 2)
    )
    keep = (
        (stops - firsts >= spur_px)
        | ((touches > 0).sum(axis=1) >= 2)
        | ~np.isin(shape_of, owner[j_rows, j_cols])
        | at_frame.any(axis=1)
    ).tolist()
    outward = _outward_directions(pixels, firsts, stops)
    partner: dict[tuple[int, int], tuple[int, int]] = {}
    for members in ends.values():
        members = [m for m in members if keep[m[0]]]
        candidates = []
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                (ia, wa), (ib, wb) = members[a], members[b]
                if ia == ib:
                    continue
                da, db = outward[ia, wa], outward[ib, wb]
                straightness = -float(da[0] * db[0] + da[1] * db[1])  # 1 = straight on
                candidates.append((straightness, members[a], members[b]))
        for straightness, ma, mb in sorted(candidates, reverse=True):
            if straightness < math.cos(math.radians(CONTINUES_WITHIN_DEG)):
                break
            if ma in partner or mb in partner:
                continue
            partner[ma] = mb
            partner[mb] = ma
    chains: list[tuple[_Chain, int]] = []
    used: set[int] = set()
    for start in range(len(branches)):
        if start in used or not keep[start]:
            continue
        # Walk to one free end, then collect the chain from there.
        bi, end = start, 0
        seen = {bi}
        while (bi, end) in partner:
            nbi, nend = partner[(bi, end)]
            if nbi in seen:
                break
            seen.add(nbi)
            bi, end = nbi, 1 - nend
        parts = []
        current: tuple[int, int] | None = (bi, end)  # enter by the free end
        while current is not None and current[0] not in used:
            cbi, cend = current
            used.add(cbi)
            branch = branches[cbi]
            parts.append(branch if cend == 0 else branch[::-1])
            exit_end = (cbi, 1 - cend)
            current = partner.get(exit_end)
        if parts:
            points = np.concatenate(parts)
            label = int(owner[points[0, 0], points[0, 1]])
            # Branches joined at a junction may each be straight and still turn a corner.
            pieces = _corner_pieces(points, spur_px) if len(parts) > 1 else [points]
            chains.extend((_Chain(piece), label) for piece in pieces)
    return chains


def _bend_limit(length_px: Any) -> Any:
    """How far a skeleton path of this length (or these lengths) may stray from the line
    between its ends and still be straight."""
    return BEND_TOLERANCE_PX + BEND_TOLERANCE_FRACTION * length_px


def _split_at_corners(
    pixels: npt.NDArray[np.int64],
    firsts: npt.NDArray[np.intp],
    stops: npt.NDArray[np.intp],
    axes: npt.NDArray[np.float64],
    min_arm_px: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Split branches (``pixels[first:stop]``, each along its axis) that turn a corner.

    Two hairs meeting end to end (a V from one opening, one hair's end lying on another)
    thin to one bent branch with no junction in it; measured as one straight hair it would
    run across skin and be dropped as faint, losing both.
    """
    if len(firsts) == 0:
        return pixels, firsts, stops
    across = pixels[:, 0] * -axes[:, 1] + pixels[:, 1] * axes[:, 0]
    spread = np.maximum.reduceat(across, firsts) - np.minimum.reduceat(across, firsts)
    bent = set(np.flatnonzero(spread > _bend_limit(stops - firsts)).tolist())
    if not bent:
        return pixels, firsts, stops
    branches: list[npt.NDArray[np.int64]] = []
    for k, (a, z) in enumerate(zip(firsts.tolist(), stops.tolist(), strict=True)):
        # (a bent branch's pixels are out of order along its axis: walk it first)
        path = _walk(pixels[a:z]) if k in bent else None
        branches.extend([pixels[a:z]] if path is None else _corner_pieces(path, min_arm_px))
    sizes = np.array([len(branch) for branch in branches], dtype=np.intp)
    new_stops = np.cumsum(sizes)
    return np.concatenate(branches), new_stops - sizes, new_stops


def _walk(branch: npt.NDArray[np.int64]) -> npt.NDArray[np.int64] | None:
    """A thin open path's pixels in order from one end to the other (None for a loop)."""
    corner = branch.min(axis=0) - 1  # (a blank pixel around the path)
    local = branch - corner
    crop = np.zeros((int(local[:, 0].max()) + 2, int(local[:, 1].max()) + 2), dtype=np.uint8)
    crop[local[:, 0], local[:, 1]] = 1
    neighbours = cv2.filter2D(crop, -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT)
    ends = np.flatnonzero(neighbours[local[:, 0], local[:, 1]] == 2)
    if len(ends) < 2:
        return None
    contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    trace = max(contours, key=len).reshape(-1, 2)[:, ::-1]  # (row, col)
    start, stop = local[ends[0]], local[ends[1]]
    at_start = np.flatnonzero((trace == start).all(axis=1))
    if len(at_start) == 0:
        return None
    trace = np.roll(trace, -int(at_start[0]), axis=0)
    at_stop = np.flatnonzero((trace == stop).all(axis=1))
    if len(at_stop) == 0:
        return None
    path = trace[: int(at_stop[0]) + 1]
    return np.asarray(path + corner, dtype=np.int64)


def _corner_pieces(path: npt.NDArray[np.int64], min_arm_px: float) -> list[npt.NDArray[np.int64]]:
    """``path`` cut where it turns by more than CORNER_DEG (at its farthest point from the
    line between its ends, recursively, as Douglas-Peucker simplifies a line); an arm shorter
    than ``min_arm_px`` is not cut off."""
    if len(path) < 2 * min_arm_px:
        return [path]
    chord = (path[-1] - path[0]).astype(np.float64)
    length = float(np.hypot(*chord))
    if length < 1.0:
        return [path]
    offsets = (path - path[0]).astype(np.float64)
    across = np.abs(offsets[:, 0] * chord[1] - offsets[:, 1] * chord[0]) / length
    k = int(np.argmax(across))
    if across[k] <= _bend_limit(len(path)):
        return [path]
    if min(k, len(path) - k) < min_arm_px:
        return [path]
    first = (path[k] - path[0]).astype(np.float64)
    second = (path[-1] - path[k]).astype(np.float64)
    cos_turn = float(first @ second) / max(float(np.hypot(*first) * np.hypot(*second)), 1e-9)
    if cos_turn > math.cos(math.radians(CORNER_DEG)):
        return [path]
    return _corner_pieces(path[: k + 1], min_arm_px) + _corner_pieces(path[k + 1 :], min_arm_px)


def _nonzero(image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """``np.nonzero`` of a byte image, in the same order, by a flat scan of a boolean mask:
    about 1 ms for a skeleton image, against 3 ms by OpenCV's scan and more by ``np.nonzero``
    of the bytes themselves."""
    rows, cols = np.divmod(np.flatnonzero(image.ravel() > 0), image.shape[1])
    return np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)


_AROUND = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)]


def _junction_clusters(
    rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp], frame: tuple[int, int]
) -> npt.NDArray[np.int32]:
    """An image labelling the 5x5 neighbourhood of each junction pixel with its cluster
    (junction pixels whose neighbourhoods touch are one cluster; 0 elsewhere)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    points = np.stack([rows, cols], axis=1)
    pairs = cKDTree(points).query_pairs(5.0, p=np.inf, output_type="ndarray")
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
        shape=(len(points), len(points)),
    )
    _, cluster = connected_components(graph, directed=False)
    labels = np.zeros((frame[0] + 4, frame[1] + 4), dtype=np.int32)
    for dr in range(-2, 3):
        for dc in range(-2, 3):
            labels[rows + 2 + dr, cols + 2 + dc] = cluster + 1
    return labels[2:-2, 2:-2]


def _at_frame(points: npt.NDArray[Any], shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """Whether each point (row, col; the last axis) lies on the frame's edge."""
    rows, cols = points[..., 0], points[..., 1]
    return np.asarray((rows <= 1) | (cols <= 1) | (rows >= shape[0] - 2) | (cols >= shape[1] - 2))


def _outward_directions(
    pixels: npt.NDArray[np.int64], firsts: npt.NDArray[np.intp], stops: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """Unit direction pointing away from each branch (``pixels[first:stop]``) out of each of
    its ends (its first and last 12 pixels' axis): [branch, end, (row, col)]."""
    n = np.minimum(stops - firsts, 12)
    starts = np.stack([firsts, stops - n], axis=1).ravel()  # head, tail, head, tail...
    lengths = np.repeat(n, 2)
    owner = np.repeat(np.arange(len(starts)), lengths)
    index = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    directions = _directions(pixels[starts[owner] + index], owner, len(starts))
    # Inward: from the end pixel along the segment.
    inward = np.stack(
        [pixels[firsts + n - 1] - pixels[firsts], pixels[stops - n] - pixels[stops - 1]], axis=1
    ).reshape(-1, 2)
    flip = (directions * inward).sum(axis=1) > 0
    directions[flip] *= -1.0
    return directions.reshape(-1, 2, 2)


def _profile_widths(
    colour: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    segments: list[npt.NDArray[np.int64]],
    reaches_px: list[float],
) -> npt.NDArray[np.float64]:
    """Shaft width of each segment from profiles across it: area under the profile over its
    plateau (0 where a segment is too short or shows no shaft).

    Profiles are of the colour distance from the skin (``colour`` holds the colour difference
    and the light-evening gain), not the whitened distance: a specular line along a light
    hair's core changes its whitened colour more than its distance.

    The integral of a blurred profile equals contrast x width whatever the blur, so this is
    sub-pixel and little biased by optics; a specular line along the shaft lowers the
    integral only a little because the plateau is read from the brighter part of the profile.
    Every profile of the image is measured at once (a few array operations per image, not a
    dozen per segment); each samples every half pixel from -reach to +reach of its segment.
    """
    widths = np.zeros(len(segments))
    measured = [i for i, points in enumerate(segments) if len(points) >= 3]
    samples = {i: math.ceil((2 * reaches_px[i] + 0.25) / 0.5) for i in measured}
    # In batches of similar profile length (each batch samples as far as its longest).
    measured.sort(key=samples.__getitem__)
    while measured:
        longest = samples[measured[0]] * SAMPLES_SPREAD
        batch = [i for i in measured if samples[i] <= longest]
        measured = measured[len(batch) :]
        widths[batch] = _profile_widths_of(
            colour,
            [segments[i] for i in batch],
            np.array([reaches_px[i] for i in batch]),
            np.array([samples[i] for i in batch]),
        )
    return widths


#: Profiles measured together are at most this many times longer than the shortest.
SAMPLES_SPREAD = 1.3


def _profile_widths_of(
    colour: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    segments: list[npt.NDArray[np.int64]],
    reaches: npt.NDArray[np.float64],
    samples_of: npt.NDArray[np.intp],
) -> npt.NDArray[np.float64]:
    """:func:`_profile_widths` of segments (3 points or more) whose profiles take
    ``samples_of`` samples."""
    measured = range(len(segments))
    sizes = np.array([len(points) for points in segments])
    points = np.concatenate(segments)
    owner = np.repeat(np.arange(len(measured)), sizes)
    directions = _directions(points, owner, len(measured))
    # Neighbouring profiles all but repeat each other: every other one on longer segments.
    position = np.arange(len(points)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    kept = (sizes[owner] <= 12) | (position % 2 == 0)
    points, owner = points[kept], owner[kept]
    samples = samples_of[owner]
    most = int(samples.max())
    normals = directions[owner][:, ::-1].astype(np.float32) * np.array(
        [1.0, -1.0], dtype=np.float32
    )
    offsets = np.arange(most, dtype=np.float32)[None, :] * np.float32(0.5) - reaches[owner][
        :, None
    ].astype(np.float32)
    rows = points[:, 0:1].astype(np.float32) + offsets * normals[:, 0:1]
    cols = points[:, 1:2].astype(np.float32) + offsets * normals[:, 1:2]
    profiles = light_evened_distance(colour, rows, cols)
    sampled = np.arange(most)[None, :] < samples[:, None]
    # The baseline: the median of the first and last sixth (at least 2 samples each side).
    edge = np.maximum(2, samples // 6)
    step = np.arange(int(edge.max()))[None, :]
    in_edge = step < edge[:, None]
    left = np.take_along_axis(profiles, np.minimum(step, most - 1), axis=1)
    right = np.take_along_axis(
        profiles, np.clip(samples[:, None] - edge[:, None] + step, 0, most - 1), axis=1
    )
    sides = np.sort(
        np.concatenate([np.where(in_edge, left, np.inf), np.where(in_edge, right, np.inf)], axis=1),
        axis=1,
    )
    each = np.arange(len(profiles))
    baseline = 0.5 * (sides[each, edge - 1] + sides[each, edge])
    above = np.clip(profiles - baseline[:, None], 0, None)
    # The plateau: the 92nd percentile of what is above the baseline (unsampled places sort
    # first, below every sample).
    ordered = np.sort(np.where(sampled, above, -1.0), axis=1)
    plateau = ordered[each, most - samples + (0.92 * (samples - 1)).astype(np.intp)]
    valid = plateau > 1e-3
    per_profile = np.where(sampled, above, 0.0).sum(axis=1)[valid] * 0.5 / plateau[valid]
    return _medians(per_profile, owner[valid], len(segments))


def _medians(
    values: npt.NDArray[Any], owner: npt.NDArray[np.integer[Any]], count: int
) -> npt.NDArray[np.float64]:
    """The median of each owner's values (0 for an owner with none)."""
    order = np.lexsort((values, owner))
    values, owner = values[order].astype(np.float64), owner[order]
    counts = np.bincount(owner, minlength=count)
    firsts = np.cumsum(counts) - counts
    found = counts > 0
    medians = np.zeros(count)
    lower = (firsts + (counts - 1) // 2)[found]
    upper = (firsts + counts // 2)[found]
    medians[found] = 0.5 * (values[lower] + values[upper])
    return medians


def analyze(
    rgb: npt.NDArray[Any],
    um_per_px: float,
    vellus_threshold_um: float = DEFAULT_VELLUS_THRESHOLD_UM,
    follicular_unit_um: float = DEFAULT_FOLLICULAR_UNIT_UM,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Analysis:
    """Analyse one RGB image at a known scale."""
    return analyze_with_contrast(
        rgb, um_per_px, vellus_threshold_um, follicular_unit_um, max_pixels
    ).analysis


@dataclass(frozen=True)
class AnalysisWithContrast:
    """An analysis and the hair-contrast image it worked on, with the weakest contrast it
    kept (visit comparison looks for each hair in the other visit's contrast image)."""

    analysis: Analysis
    contrast: npt.NDArray[np.float32]
    low_threshold: float


def analyze_with_contrast(
    rgb: npt.NDArray[Any],
    um_per_px: float,
    vellus_threshold_um: float = DEFAULT_VELLUS_THRESHOLD_UM,
    follicular_unit_um: float = DEFAULT_FOLLICULAR_UNIT_UM,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> AnalysisWithContrast:
    """:func:`analyze`, keeping the contrast image instead of computing it again."""
    started = time.perf_counter()
    check_inputs(rgb, um_per_px, max_pixels)
    params = _Params(um_per_px)
    height, width = rgb.shape[:2]
    views = _contrast(rgb)
    thresholds = _thresholds(views.hairlike)
    hairs = _find_hairs(views.hairlike, thresholds, views, rgb, params, vellus_threshold_um)
    hairs = _orient(hairs, params.px(follicular_unit_um), params.px(HAIR_STREAM_UM))
    hairs = _follicular_units(hairs, params.px(follicular_unit_um))
    units: dict[str, int] = {"1": 0, "2": 0, "3": 0, "4": 0}
    sizes: dict[int, int] = {}
    for hair in hairs:
        sizes[hair.follicular_unit] = sizes.get(hair.follicular_unit, 0) + 1
    for size in sizes.values():
        units[str(min(size, 4))] += 1
    terminal = [h for h in hairs if h.terminal]
    spread_px = edge_spread_px(
        views.diff,
        views.gain,
        np.array([(h.x_px, h.y_px) for h in terminal]).reshape(-1, 2),
        np.array([(h.end_x_px, h.end_y_px) for h in terminal]).reshape(-1, 2),
        np.array([params.px(h.diameter_um) for h in terminal]),
    )
    analysis = Analysis(
        width,
        height,
        um_per_px,
        vellus_threshold_um,
        tuple(hairs),
        time.perf_counter() - started,
        units,
        None if spread_px is None else spread_px * um_per_px,
    )
    return AnalysisWithContrast(analysis, views.hairlike, thresholds[0])


def _find_hairs(
    contrast: npt.NDArray[np.float32],
    thresholds: tuple[float, float],
    views: _Contrast,
    rgb: npt.NDArray[np.uint8],
    params: _Params,
    vellus_threshold_um: float,
) -> list[Hair]:
    """The hairs standing out in ``contrast`` (measured on ``views`` of ``rgb``)."""
    height, width = contrast.shape
    mask, flake_zone = _hair_mask(contrast, thresholds, views, rgb, params)
    count, labels, stats = _components(mask)
    min_len_px = params.px(MIN_COUNTED_SHAFT_UM)
    side = 2 * round(params.px(NEARBY_UM) / 2) + 1
    nearby = cv2.dilate(contrast, np.ones((side, side), dtype=np.uint8))
    fainter = cv2.subtract(contrast, (LOCAL_CORE_FRACTION * nearby).astype(np.float32))
    core = _greater(np.asarray(fainter, dtype=np.float32), 0.0)
    shapes = np.zeros((height, width), dtype=np.uint8)  # each shape's core
    skeleton = np.zeros((height, width), dtype=np.uint8)
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < max(4.0, min_len_px):
            continue
        crop_labels = labels[y : y + h, x : x + w]
        # Faint pixels joined to a shape by hysteresis (skin texture, the halo of a
        # follicular opening) would grow spurs on its skeleton, and blurred edges between
        # touching hairs would join them: keep the shape's core.
        component = (crop_labels == label) & (core[y : y + h, x : x + w] > 0)
        shapes[y : y + h, x : x + w][component] = 1
        skeleton[y : y + h, x : x + w] |= _skeleton(component, (y, x), params, (height, width))
    chains = _candidates(skeleton, shapes, labels, params)
    hairs = _hairs_from(
        chains, (views.diff, views.gain), params, vellus_threshold_um, (height, width)
    )
    hairs = _join_broken(hairs, params, contrast)
    hairs = _drop_bridges(hairs, params)
    hairs = _drop_faint(hairs, contrast)
    pale = np.median(views.brighter(*_along_shafts(hairs, (height, width))), axis=1) > 0
    hairs = [h for h, p in zip(hairs, pale, strict=True) if not (p and _within(h, flake_zone))]
    hairs = _split_bundles(hairs, params)
    return [
        replace(h, terminal=h.diameter_um >= vellus_threshold_um)
        for h in hairs
        if h.diameter_um >= MIN_DIAMETER_UM and h.length_um >= MIN_COUNTED_SHAFT_UM
    ]


def _skeleton(
    component: npt.NDArray[np.bool_],
    origin: tuple[int, int],
    params: _Params,
    shape: tuple[int, int],
) -> npt.NDArray[np.uint8]:
    """One shape's skeleton (its crop)."""
    oy, ox = origin
    height, width = shape
    h, w = component.shape
    # A shape cut by the frame goes on beyond it: extend it outward before thinning so its
    # skeleton runs to the frame instead of stopping half a width short of it.
    reach = math.ceil(params.px(MAX_HAIR_DIAMETER_UM))
    top, left = (reach if oy == 0 else 0), (reach if ox == 0 else 0)
    bottom = reach if oy + h >= height else 0
    right = reach if ox + w >= width else 0
    padded = cv2.copyMakeBorder(
        component.astype(np.uint8), top, bottom, left, right, cv2.BORDER_REPLICATE
    )
    skeleton = np.asarray(skeletonize(padded), dtype=np.uint8)  # type: ignore[no-untyped-call]
    return skeleton[top : top + h, left : left + w]


def _candidates(
    skeleton: npt.NDArray[np.uint8],
    shapes: npt.NDArray[np.uint8],
    owner: npt.NDArray[np.int32],
    params: _Params,
) -> list[tuple[_Chain, float]]:
    """The skeleton chains that may be hairs, each with how far across it its profiles must
    reach (from its shape's width at the chain's middle)."""
    # The width of a shape cut by the frame is read as if it went on beyond it.
    reach = math.ceil(params.px(MAX_HAIR_DIAMETER_UM))
    padded = cv2.copyMakeBorder(shapes, reach, reach, reach, reach, cv2.BORDER_REPLICATE)
    mask_dt = cv2.distanceTransform(np.pad(padded, 1), cv2.DIST_L2, 5)
    mask_dt = mask_dt[
        1 + reach : 1 + reach + shapes.shape[0], 1 + reach : 1 + reach + shapes.shape[1]
    ]
    by_shape: dict[int, list[_Chain]] = {}
    chains = _chains(skeleton, owner, spur_px=params.px(100))
    _with_directions([chain for chain, _ in chains])
    for chain, label in chains:
        by_shape.setdefault(label, []).append(chain)
    found = [
        chain
        for _, chains in sorted(by_shape.items())
        for chain in _merge_collinear(chains, max_gap_px=params.px(60))
        if (chain.length_px + params.px(MAX_HAIR_DIAMETER_UM)) * params.um_per_px
        >= MIN_COUNTED_SHAFT_UM
    ]
    widest = params.px(MAX_HAIR_DIAMETER_UM)
    middles = [_thirds(chain.points)[0] for chain in found]
    points = np.concatenate(middles) if middles else np.zeros((0, 2), dtype=np.int64)
    owner = np.repeat(np.arange(len(middles)), [len(m) for m in middles])
    # Twice the distance from the skeleton to the shape's edge, along the chain's middle.
    rough = 2.0 * _medians(mask_dt[points[:, 0], points[:, 1]], owner, len(middles))
    return [
        (chain, min(w, widest) * 0.9 + 3.0) for chain, w in zip(found, rough.tolist(), strict=True)
    ]


def _thirds(points: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], ...]:
    """A chain's middle half (away from the tapered exit and the cut end), where its width is
    read, and the parts near each end, which tell the exit (the narrower) from the cut end."""
    n = len(points)
    middle = points[int(n * 0.25) : max(int(n * 0.75), int(n * 0.25) + 1)]
    head = points[max(1, n // 12) : max(2, n // 5)]
    tail = points[n - max(2, n // 5) : n - max(1, n // 12)]
    return middle, head, tail


def _hairs_from(
    chains: list[tuple[_Chain, float]],
    colour: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    params: _Params,
    vellus_threshold_um: float,
    shape: tuple[int, int],
) -> list[Hair]:
    """Measure every chain (all profiles of the image at once) and keep those that are
    shafts."""
    if not chains:
        return []
    height, width = shape
    segments = [part for chain, _ in chains for part in _thirds(chain.points)]
    reaches = [reach for _, reach in chains for _ in range(3)]
    widths = _profile_widths(colour, segments, reaches).reshape(-1, 3)
    # (all chains at once: one by one, the small array operations cost more than the sums)
    width_px = np.maximum(widths[:, 0], 0.5)
    ends = np.array([chain.points[[0, -1]] for chain, _ in chains], dtype=np.float64)
    axis = ends[:, 1] - ends[:, 0]
    axis /= np.maximum(np.hypot(axis[:, 0], axis[:, 1]), 1e-9)[:, None]
    at_frame = _at_frame(ends, (height, width))
    # A skeleton stops about half a width short of each end the shaft has in the frame.
    length_px = np.array([chain.length_px for chain, _ in chains])
    for which, sign in ((0, -1.0), (1, 1.0)):
        inside = ~at_frame[:, which]
        ends[inside, which] += sign * axis[inside] * width_px[inside, None] / 2
        length_px[inside] += width_px[inside] / 2
    ends = np.clip(ends, 0, [height - 1, width - 1])
    shaft = (length_px * params.um_per_px >= MIN_COUNTED_SHAFT_UM) & (
        (length_px >= 3.0 * width_px) | at_frame.any(axis=1)  # else a dot or blob
    )
    reverse = widths[:, 1] > widths[:, 2]  # the exit is the narrower end
    found = []
    for k in np.flatnonzero(shaft).tolist():
        exit_pt, end_pt = (ends[k, 1], ends[k, 0]) if reverse[k] else (ends[k, 0], ends[k, 1])
        diameter = float(width_px[k]) * params.um_per_px
        found.append(
            Hair(
                x_px=float(exit_pt[1]),
                y_px=float(exit_pt[0]),
                end_x_px=float(end_pt[1]),
                end_y_px=float(end_pt[0]),
                length_um=float(length_px[k]) * params.um_per_px,
                diameter_um=diameter,
                terminal=diameter >= vellus_threshold_um,
            )
        )
    return found


#: Pieces of one shape are joined into one hair when they run within this angle...
JOIN_WITHIN_DEG = 12.0


def _crossing(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Whether unit vectors ``a`` and ``b`` (broadcast) are more than
    :data:`JOIN_WITHIN_DEG` apart either way round: too far apart to join, ruled out all at
    once before the one-by-one tests (with a margin, so that rounding never rules out a pair
    those tests would join)."""
    cosine = np.abs(a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1])
    return np.asarray(cosine < math.cos(math.radians(JOIN_WITHIN_DEG)) - 1e-9)


def _merge_collinear(chains: list[_Chain], max_gap_px: float) -> list[_Chain]:
    """Join pieces of one hair broken by a gap, a flake or a crossing hair."""
    # Each pass starts again after a join; pairs already found not to join are not tried
    # again (by identity: every chain ever made is kept alive, so no identity is reused).
    if len(chains) < 2:
        return chains
    made = list(chains)
    apart: set[tuple[int, int]] = set()
    # Pairs that do not run within the join's angle of each other, all at once (most pairs).
    directions = np.array([chain.direction for chain in chains]).reshape(-1, 2)
    rows, cols = np.nonzero(np.triu(_crossing(directions[:, None], directions[None, :]), 1))
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        apart.add((id(chains[i]), id(chains[j])))
    merged = True
    while merged and len(chains) > 1:
        merged = False
        for i in range(len(chains)):
            for j in range(i + 1, len(chains)):
                pair = (id(chains[i]), id(chains[j]))
                if pair in apart:
                    continue
                joined = _join(chains[i], chains[j], max_gap_px)
                if joined is None:
                    apart.add(pair)
                else:
                    made.append(joined)
                    chains = [c for k, c in enumerate(chains) if k not in (i, j)] + [joined]
                    merged = True
                    break
            if merged:
                break
    return chains


def _join(a: _Chain, b: _Chain, max_gap_px: float) -> _Chain | None:
    if len(a.points) < 4 or len(b.points) < 4:
        return None
    da, db = a.direction, b.direction
    if abs(float(np.dot(da, db))) < math.cos(math.radians(JOIN_WITHIN_DEG)):
        return None
    best: tuple[float, npt.NDArray[np.int64]] | None = None
    for pa in (a.points, a.points[::-1]):
        for pb in (b.points, b.points[::-1]):
            gap = pb[0].astype(np.float64) - pa[-1].astype(np.float64)
            distance = float(np.hypot(*gap))
            if distance > max_gap_px:
                continue
            lateral = abs(float(gap[0] * da[1] - gap[1] * da[0]))
            along = float(np.dot(gap, pa[-1] - pa[0]))
            # b must carry on the way a was heading: two hairs leaving one opening in a V
            # have close ends too, but head in opposite directions from them.
            heading_a = (pa[-1] - pa[0]).astype(np.float64)
            heading_b = (pb[-1] - pb[0]).astype(np.float64)
            onward = float(np.dot(heading_a, heading_b)) / max(
                float(np.hypot(*heading_a) * np.hypot(*heading_b)), 1e-9
            )
            if (
                lateral <= 3.0
                and along >= 0
                and onward >= math.cos(math.radians(JOIN_WITHIN_DEG))
                and (best is None or distance < best[0])
            ):
                best = (distance, np.concatenate([pa, pb]))
    return None if best is None else _Chain(best[1])


def _within(hair: Hair, zone: npt.NDArray[np.uint8]) -> bool:
    """Whether the hair's ends and middle all lie in the zone."""
    height, width = zone.shape
    points = (
        (hair.x_px, hair.y_px),
        (hair.end_x_px, hair.end_y_px),
        ((hair.x_px + hair.end_x_px) / 2, (hair.y_px + hair.end_y_px) / 2),
    )
    return all(
        zone[min(max(round(y), 0), height - 1), min(max(round(x), 0), width - 1)] > 0
        for x, y in points
    )


def _along_shafts(
    hairs: list[Hair], shape: tuple[int, int]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """16 pixels (rows, cols) along each hair's axis, one hair per row."""
    ends = np.array([[h.y_px, h.x_px, h.end_y_px, h.end_x_px] for h in hairs]).reshape(-1, 4)
    return _pixels_along(ends, 16, shape)


def _pixels_along(
    ends: npt.NDArray[np.float64], count: int, shape: tuple[int, int]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """``count`` pixels (rows, cols) evenly along each segment (row0, col0, row1, col1) of
    ``ends``, inside an image of ``shape``; one segment per row."""
    height, width = shape
    steps = np.linspace(0.0, 1.0, count)[None, :]
    rows = ends[:, 0:1] + (ends[:, 2:3] - ends[:, 0:1]) * steps
    cols = ends[:, 1:2] + (ends[:, 3:4] - ends[:, 1:2]) * steps
    return (
        rows.round().astype(np.intp).clip(0, height - 1),
        cols.round().astype(np.intp).clip(0, width - 1),
    )


#: Clipped hairs grow back to 0.3 mm and more: a piece under half that running from one
#: shaft to another is the skeleton of a pile linking them across, not a hair.
BRIDGE_UM = 150.0


def _distance_to_segments(
    points: npt.NDArray[np.float64], starts: npt.NDArray[np.float64], ends: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Distance from each point (rows) to each segment (columns; ``starts`` to ``ends``)."""
    d = ends - starts
    length2 = np.maximum((d * d).sum(axis=1), 1e-9)
    rel = points[:, None, :] - starts[None, :, :]
    t = np.clip((rel * d[None]).sum(axis=2) / length2[None], 0.0, 1.0)
    return np.asarray(np.hypot(*(rel - t[..., None] * d[None]).transpose(2, 0, 1)))


def _drop_bridges(hairs: list[Hair], params: _Params) -> list[Hair]:
    """Drop pieces shorter than BRIDGE_UM whose both ends lie on other shafts."""
    if len(hairs) < 3:
        return hairs
    starts = np.array([[h.x_px, h.y_px] for h in hairs])
    ends = np.array([[h.end_x_px, h.end_y_px] for h in hairs])
    half = np.array([h.diameter_um / params.um_per_px / 2 for h in hairs])
    short = np.flatnonzero(np.array([h.length_um < BRIDGE_UM for h in hairs]))
    if len(short) == 0:
        return hairs
    dist_start = _distance_to_segments(starts[short], starts, ends)
    dist_end = _distance_to_segments(ends[short], starts, ends)
    itself = (np.arange(len(short)), short)  # (a piece's ends lie on its own shaft)
    dist_start[itself] = dist_end[itself] = np.inf
    on_start = (dist_start <= half[None] + 2.0).any(axis=1)
    on_end = (dist_end <= half[None] + 2.0).any(axis=1)
    bridges = set(short[on_start & on_end].tolist())
    return [h for k, h in enumerate(hairs) if k not in bridges]


def _shaft_contrast(hairs: list[Hair], contrast: npt.NDArray[np.float32]) -> npt.NDArray[Any]:
    """Each hair's median contrast along its axis."""
    rows, cols = _along_shafts(hairs, (contrast.shape[0], contrast.shape[1]))
    return np.asarray(np.median(contrast[rows, cols], axis=1), dtype=np.float64)


def _drop_faint(hairs: list[Hair], contrast: npt.NDArray[np.float32]) -> list[Hair]:
    """Drop candidates much fainter than this image's hairs: skin mottling and the edges of
    erythema pass a noise threshold in small patches, but are neither as distinct as a hair
    nor, when short, as elongated."""
    height, width = contrast.shape
    shaft = _shaft_contrast(hairs, contrast)
    typical = float(np.median(shaft)) if len(hairs) >= 5 else 0.0
    kept = []
    for hair, value in zip(hairs, shaft.tolist(), strict=True):
        relative = value / typical if typical > 0 else 1.0
        ends = ((hair.y_px, hair.x_px), (hair.end_y_px, hair.end_x_px))
        cut_by_frame = bool(_at_frame(np.array(ends, dtype=np.float64), (height, width)).any())
        stubby = hair.length_um < STUBBY_RATIO * hair.diameter_um and not cut_by_frame
        short = hair.length_um < SHORT_SHAFT_UM
        floor = (MIN_SHAFT_CONTRAST_SD + (SHORT_SHAFT_EXTRA_SD if short else 0.0)) * SKIN_SD
        if value < floor or relative < FAINT_FRACTION or (stubby and relative < 2 * FAINT_FRACTION):
            continue
        kept.append(hair)
    return kept


def _split_bundles(hairs: list[Hair], params: _Params) -> list[Hair]:
    """Count touching, parallel hairs that thresholding saw as one wide shaft.

    Hairs of one follicular unit often lie side by side; the profile across them integrates
    both, so a "hair" much wider than the image's typical hair is read as several, each given
    its share of the width.
    """
    # The typical terminal hair: where many hairs are miniaturised (the scalps this is for),
    # the median of all would call every healthy hair two.
    shafts = [h.diameter_um for h in hairs if h.length_um >= 200.0]
    terminal = [d for d in shafts if d >= DEFAULT_VELLUS_THRESHOLD_UM]
    typical = terminal if len(terminal) >= 5 else shafts
    if len(typical) < 5:
        return hairs
    single = float(np.median(typical))
    result: list[Hair] = []
    for hair in hairs:
        if hair.length_um < hair.diameter_um and hair.diameter_um >= BUNDLE_FACTOR * single:
            continue  # a blob the frame cuts (no shaft shows), too wide for one hair: a dot
        count = round(hair.diameter_um / single)
        if hair.diameter_um < BUNDLE_FACTOR * single or count < 2:
            result.append(hair)
            continue
        count = min(count, 4)
        dx, dy = hair.end_x_px - hair.x_px, hair.end_y_px - hair.y_px
        norm = math.hypot(dx, dy) or 1.0
        share = hair.diameter_um / count
        step = share / params.um_per_px
        for k in range(count):
            offset = (k - (count - 1) / 2) * step
            ox, oy = -dy / norm * offset, dx / norm * offset
            result.append(
                replace(
                    hair,
                    x_px=hair.x_px + ox,
                    y_px=hair.y_px + oy,
                    end_x_px=hair.end_x_px + ox,
                    end_y_px=hair.end_y_px + oy,
                    diameter_um=share,
                )
            )
    return result


def _join_broken(
    hairs: list[Hair], params: _Params, contrast: npt.NDArray[np.float32]
) -> list[Hair]:
    """Join pieces of one shaft that thresholding split into separate shapes, or that a
    hair lying across it cut in two (where ``contrast`` shows a shaft all across the gap)."""
    from scipy.spatial import cKDTree  # loads on first analysis, not when the server starts

    max_gap = params.px(MAX_HAIR_DIAMETER_UM)
    while len(hairs) > 1:
        ends = np.array(
            [[h.x_px, h.y_px] for h in hairs] + [[h.end_x_px, h.end_y_px] for h in hairs],
            dtype=np.float64,
        )
        axes = ends[len(hairs) :] - ends[: len(hairs)]
        axes /= np.maximum(np.hypot(*axes.T), 1e-9)[:, None]
        # (each pair of ends, lower end index first, as the hairs they belong to)
        close = np.sort(cKDTree(ends).query_pairs(max_gap, output_type="ndarray"), axis=1)
        close %= len(hairs)
        close = close[close[:, 0] != close[:, 1]]
        candidates = sorted(
            set(map(tuple, close[~_crossing(axes[close[:, 0]], axes[close[:, 1]])].tolist()))
        )
        used: set[int] = set()
        merged: list[Hair] = []
        for i, j in candidates:
            if i in used or j in used:
                continue
            joined = _join_pair(hairs[i], hairs[j], max_gap, params, contrast)
            if joined is not None:
                used.update((i, j))
                merged.append(joined)
        if not merged:
            break
        hairs = [h for k, h in enumerate(hairs) if k not in used] + merged
    return hairs


SHORT_GAP_UM = 60.0  # pieces this close are joined whatever lies between them


def _faintest_between(
    start: npt.NDArray[np.float64], stop: npt.NDArray[np.float64], contrast: npt.NDArray[Any]
) -> float:
    """The lowest contrast on the line from ``start`` to ``stop`` (x, y), 9 samples."""
    ends = np.array([[start[1], start[0], stop[1], stop[0]]], dtype=np.float64)
    rows, cols = _pixels_along(ends, 9, (contrast.shape[0], contrast.shape[1]))
    return float(contrast[rows, cols].min())


def _join_pair(
    a: Hair,
    b: Hair,
    max_gap_px: float,
    params: _Params,
    contrast: npt.NDArray[np.float32],
) -> Hair | None:
    pa = np.array([[a.x_px, a.y_px], [a.end_x_px, a.end_y_px]])
    pb = np.array([[b.x_px, b.y_px], [b.end_x_px, b.end_y_px]])
    da, db = pa[1] - pa[0], pb[1] - pb[0]
    la, lb = float(np.hypot(*da)), float(np.hypot(*db))
    if la < 1 or lb < 1:
        return None
    ua, ub = da / la, db / lb
    if abs(float(np.dot(ua, ub))) < math.cos(math.radians(JOIN_WITHIN_DEG)):
        return None
    # the closest pair of ends must be a short gap, in line with both pieces
    ends = [(ia, ib, float(np.hypot(*(pb[ib] - pa[ia])))) for ia in (0, 1) for ib in (0, 1)]
    ia, ib, gap = min(ends, key=lambda e: e[2])
    if gap > max_gap_px:
        return None
    heading_a = (pa[ia] - pa[1 - ia]) / la  # towards the gap
    heading_b = (pb[1 - ib] - pb[ib]) / lb  # away from it
    if float(np.dot(heading_a, heading_b)) < math.cos(math.radians(JOIN_WITHIN_DEG)):
        return None  # a V from one opening, not one shaft broken in two
    if (
        gap > params.px(SHORT_GAP_UM)
        and _faintest_between(pa[ia], pb[ib], contrast) < MIN_SHAFT_CONTRAST_SD * SKIN_SD
    ):
        return None  # skin shows in a wider gap: two hairs in line
    width_px = max(a.diameter_um, b.diameter_um) / params.um_per_px
    for point in (pb[0], pb[1]):
        offset = point - pa[0]
        if abs(float(offset[0] * ua[1] - offset[1] * ua[0])) > 0.5 * width_px + 2.0:
            return None
    # the pieces must not overlap along the line (that would be two parallel hairs)
    along = [float(np.dot(p - pa[0], ua)) for p in pb]
    if min(along) < la - 2 and max(along) > 2:
        return None
    far = [pa[1 - ia], pb[1 - ib]]
    length_um = a.length_um + b.length_um + gap * params.um_per_px
    diameter = (a.diameter_um * a.length_um + b.diameter_um * b.length_um) / (
        a.length_um + b.length_um
    )
    return Hair(
        float(far[0][0]),
        float(far[0][1]),
        float(far[1][0]),
        float(far[1][1]),
        length_um,
        diameter,
        a.terminal if a.length_um >= b.length_um else b.terminal,
    )


#: Hairs this close together grow about the same way (the scalp's hair stream)...
HAIR_STREAM_UM = 1500.0
#: ...and outvote a hair's own exit cue (each other hair's end meeting one of its ends counts
#: this much against the neighbours' agreement, -1 to 1) unless they disagree among
#: themselves, as around a whorl.
UNIT_VOTE_WEIGHT = 0.3


def _flipped(hair: Hair) -> Hair:
    """The hair with its ends swapped (built directly: ``replace`` is several times slower)."""
    return Hair(
        hair.end_x_px,
        hair.end_y_px,
        hair.x_px,
        hair.y_px,
        hair.length_um,
        hair.diameter_um,
        hair.terminal,
        hair.follicular_unit,
    )


def _orient(hairs: list[Hair], unit_px: float, stream_px: float) -> list[Hair]:
    """Which end of each hair is its exit. Hairs of one unit leave the skin together, so an
    end where other hairs' ends meet is an exit; and hairs grow the way the hairs around
    them do (as far as those were told by their ends)."""
    from scipy.spatial import cKDTree  # (loaded on first analysis, as elsewhere)

    if len(hairs) < 2:
        return hairs
    starts = np.array([[h.x_px, h.y_px] for h in hairs], dtype=np.float64)
    ends = np.array([[h.end_x_px, h.end_y_px] for h in hairs], dtype=np.float64)
    every_end = cKDTree(np.concatenate([starts, ends]))
    axes = ends - starts
    lengths = np.hypot(*axes.T)
    # (other hairs' ends only: a hair's own near end is always there, its far end when short)
    own = 1.0 + (lengths <= unit_px)
    votes = (every_end.query_ball_point(starts, unit_px, return_length=True) - own) - (
        every_end.query_ball_point(ends, unit_px, return_length=True) - own
    )
    axes /= np.maximum(lengths, 1e-9)[:, None]
    growing = axes * np.sign(votes)[:, None]  # exit to cut end where the ends tell; else 0
    pairs = cKDTree((starts + ends) / 2).query_pairs(stream_px, output_type="ndarray")
    streams = np.zeros_like(axes)
    np.add.at(streams, pairs[:, 0], growing[pairs[:, 1]])
    np.add.at(streams, pairs[:, 1], growing[pairs[:, 0]])
    agreement = (axes * streams).sum(axis=1) / np.maximum(np.hypot(*streams.T), 1e-9)
    flips = UNIT_VOTE_WEIGHT * votes + agreement < 0
    return [_flipped(h) if flip else h for h, flip in zip(hairs, flips.tolist(), strict=True)]


def _follicular_units(hairs: list[Hair], distance_px: float) -> list[Hair]:
    """Group hairs whose exit points lie within ``distance_px`` (single linkage)."""
    from scipy.spatial import cKDTree

    points = np.array([[h.x_px, h.y_px] for h in hairs], dtype=np.float64).reshape(-1, 2)
    close = cKDTree(points).query_pairs(distance_px, output_type="ndarray")
    units = linked_groups(len(hairs), close.tolist())
    return [
        Hair(h.x_px, h.y_px, h.end_x_px, h.end_y_px, h.length_um, h.diameter_um, h.terminal, unit)
        for h, unit in zip(hairs, units, strict=True)
    ]
