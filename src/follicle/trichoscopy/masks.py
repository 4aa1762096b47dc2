"""Which pixels are hair: a hysteresis threshold on the skin contrast, with pale shapes wider
than a hair (dandruff, scale) taken out and grey hair piled up kept."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.bubbles import without_bubble_rims
from follicle.trichoscopy.hair import (
    MAX_HAIR_DIAMETER_UM,
    PatchOutlines,
    Scale,
    simplified_outline,
)
from follicle.trichoscopy.skin import MEAN_CHANNELS, SkinContrast

FLAKE_MAX_CHROMA = 0.45  # colour spread over brightness: flakes are nearly neutral
#: Edges within a pale blob sharing one direction at least this much (0-1): hair piled up.
PILE_COHERENCE = 0.6
#: Pixels in or around a flake darker than the skin by more than this (grey levels, evened
#: for light) are a hair lying on it: black and brown shafts are darker by 100 or more, while
#: skin showing between a flake's lobes reads up to 30 darker (the flake pulls the skin's
#: estimate up there) and made false hairs at smaller margins.
ON_FLAKE_DARKER = 40.0
#: Within a pale blob judged a flake, the parts whose edges run one way over about a hair's
#: width around (the structure tensor's scale) at least this much are grey hair piled
#: against it, kept (session 22: with the flake's lobes in the same blob, the whole was
#: judged amorphous and a unit's grey hairs were lost with it).
PILE_WINDOW_UM = 60.0
PILE_LOCAL_COHERENCE = 0.7
#: ... but only on an image whose hair is pale: at least this share of its shaft-like shapes'
#: pixels paler than the skin (grey hair from type II skin up, blond on type IV-VI: 0.40-0.99
#: on the benchmark; dark hair, and grey or blond on the palest skin, 0-0.36). On dark hair a
#: straight stretch of a flake's edge is only that.
PALE_HAIR_SHARE = 0.38
#: A shape is shaft-like when it is at least this many times as long as wide (from its
#: second moments) and touches no shape wider than a hair: on a bare scalp the only pale
#: shapes are flakes, round, or their rims.
SHAFT_ELONGATION = 3.0


def quantiles(values: npt.NDArray[Any], *qs: float) -> list[float]:
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


def hysteresis_thresholds(
    contrast: npt.NDArray[np.float32], inside: npt.NDArray[np.uint8] | None = None
) -> tuple[float, float]:
    """From the contrast's own statistics (in the field of view, ``inside``, when given)."""
    sample = contrast[::4, ::4]
    if inside is not None:
        sample = sample[inside[::4, ::4] > 0]
    floor, upper = quantiles(sample, 0.5, 0.75)
    spread = upper - floor
    low = max(floor + 3.0 * max(spread, 0.5), 5.0)
    high = max(floor + 6.0 * max(spread, 0.5), 10.0)
    return low, high


@dataclass(frozen=True)
class HairMask:
    """Which pixels are hair (1), where the lobes of the pale patches taken out may reach
    (1), and those patches' outlines (x, y), which the overlay shows: a clinician can see
    what was left out as dandruff or scale (grey hair piled up is sometimes among it)."""

    mask: npt.NDArray[np.uint8]
    flake_zone: npt.NDArray[np.uint8]
    set_aside: PatchOutlines
    air_bubbles: PatchOutlines = ()


def hair_mask(
    contrast: npt.NDArray[np.float32],
    thresholds: tuple[float, float],
    views: SkinContrast,
    rgb: npt.NDArray[np.uint8],
    params: Scale,
) -> HairMask:
    """Hysteresis threshold, then remove pale shapes wider than any hair (dandruff, scale),
    noting where the lobes of those shapes may reach and their outlines.

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
    mask, bubbles = without_bubble_rims(mask, params)
    blobs = _wider_than(mask, radius)
    rim = max(3, radius // 3)  # a flake's blurred edge, removed with it
    flake_cores = np.zeros_like(mask)
    hairs_on_flakes = np.zeros_like(mask)
    blob_outlines, _ = cv2.findContours(blobs, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    set_aside: list[tuple[tuple[int, int], ...]] = []
    piles = np.zeros_like(mask)
    pale_hair: bool | None = None  # (worked out for the first blob judged a flake)
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
        flake = inside & (brightness >= -ON_FLAKE_DARKER)
        if pale_hair is None:
            pale_hair = _pale_share(mask, blobs, views) >= PALE_HAIR_SHARE
        if pale_hair:
            # Pale hair piled against the flake: its shafts' edges run one way there.
            coherence = local_coherence(rgb[around], params.px(PILE_WINDOW_UM))
            piled = paler & (
                coherence[y - top : y - top + h, x - left : x - left + w] >= PILE_LOCAL_COHERENCE
            )
            flake &= ~piled
            piles[y : y + h, x : x + w][piled] = 1
        flake_cores[y : y + h, x : x + w][flake] = 1
        hairs_on_flakes[around][brightness_around < -ON_FLAKE_DARKER] = 1
        set_aside.append(simplified_outline(outline))
    if not flake_cores.any():
        return HairMask(np.asarray(mask, dtype=np.uint8), flake_cores, tuple(set_aside), bubbles)
    remove = cv2.dilate(flake_cores, np.ones((2 * rim + 1, 2 * rim + 1), np.uint8))
    remove[(hairs_on_flakes > 0) | (piles > 0)] = 0
    mask = np.asarray(cv2.subtract(mask, remove), dtype=np.uint8)  # (both 0 or 1)
    # A flake's lobes reach beyond the part of it a hair-wide square fits in; a shape lying
    # wholly within that reach is a lobe, while a hair crossing the flake goes beyond it.
    zone = cv2.dilate(flake_cores, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
    zone[piles > 0] = 0  # (a piled hair is pale and may lie wholly within the lobes' reach)
    return HairMask(
        np.asarray(mask, dtype=np.uint8),
        np.asarray(zone, dtype=np.uint8),
        tuple(set_aside),
        bubbles,
    )


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


def _pale_share(
    mask: npt.NDArray[np.uint8], blobs: npt.NDArray[np.uint8], views: SkinContrast
) -> float:
    """The share of the shaft-like shapes' pixels (every fourth row and column) paler than
    the skin: how pale this image's hair is (0 when no shape is shaft-like). The shapes are
    taken at half scale (every other row and column): four times fewer pixels to label and
    measure, and a vellus hair is still two pixels wide."""
    half = np.ascontiguousarray(mask[::2, ::2])
    count, found = cv2.connectedComponents(half, connectivity=8, ltype=cv2.CV_32S)
    labels = np.asarray(found, dtype=np.int32)
    shaft_like = elongation(labels, count) >= SHAFT_ELONGATION
    shaft_like[np.unique(labels[blobs[::2, ::2] > 0])] = False
    shaft_like[0] = False
    rows, cols = np.nonzero(shaft_like[labels[::2, ::2]])
    if not rows.size:
        return 0.0
    return float(np.mean(views.brighter(rows * 4, cols * 4) > 0))


def elongation(labels: npt.NDArray[np.int32], count: int) -> npt.NDArray[np.float64]:
    """Each labelled shape's length over its width, from its second moments (label 0, the
    background, included).

    >>> labels = np.zeros((20, 40), np.int32)
    >>> labels[5:9, 4:36] = 1  # 32 x 4 px
    >>> labels[12:18, 10:16] = 2  # a square
    >>> elongation(labels, 3)[1:].round(1).tolist()  # (8 and a little more: pixels are discrete)
    [8.3, 1.0]
    """
    rows, cols = np.nonzero(labels)
    label = labels[rows, cols]
    x, y = cols.astype(np.float64), rows.astype(np.float64)
    pixels = np.maximum(np.bincount(label, minlength=count), 1).astype(np.float64)
    mean_x = np.bincount(label, x, count) / pixels
    mean_y = np.bincount(label, y, count) / pixels
    xx = np.bincount(label, x * x, count) / pixels - mean_x**2
    yy = np.bincount(label, y * y, count) / pixels - mean_y**2
    xy = np.bincount(label, x * y, count) / pixels - mean_x * mean_y
    half_trace = (xx + yy) / 2
    spread = np.sqrt(np.maximum(half_trace**2 - (xx * yy - xy**2), 0.0))
    across = np.maximum(half_trace - spread, 1e-6)
    return np.asarray(np.sqrt((half_trace + spread) / across), dtype=np.float64)


def local_coherence(rgb: npt.NDArray[np.uint8], sigma_px: float) -> npt.NDArray[np.float32]:
    """How much the brightness edges around each pixel (a Gaussian window of ``sigma_px``)
    share one direction, 0 (every way, or no edge) to 1 (all parallel): the structure
    tensor's coherence.

    >>> rgb = np.zeros((40, 40, 3), np.uint8)
    >>> rgb[:, 15:25] = 200  # a straight shaft
    >>> round(float(local_coherence(rgb, 4.0)[20, 14]), 2)
    1.0
    >>> rgb[10:30, 10:30] = 200  # a square: edges two ways at its corner
    >>> float(local_coherence(rgb, 4.0)[10, 10]) < 0.5
    True
    """
    gx, gy = _brightness_gradients(rgb)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), sigma_px)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), sigma_px)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), sigma_px)
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / np.maximum(jxx + jyy, 1e-3)
    return np.asarray(coherence, dtype=np.float32)


def _coherence(rgb: npt.NDArray[np.uint8], inside: npt.NDArray[np.bool_]) -> float:
    """How much the brightness edges within ``inside`` (its rim left out) share one direction,
    0 (none) to 1 (all parallel): a pile of hair is made of shafts lying one way, a flake
    is amorphous."""
    interior = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if not interior.any():
        return 0.0
    across, down = _brightness_gradients(rgb)
    gx = across[interior].astype(np.float64)
    gy = down[interior].astype(np.float64)
    jxx, jyy, jxy = float(gx @ gx), float(gy @ gy), float(gx @ gy)
    return math.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / max(jxx + jyy, 1e-9)


def _brightness_gradients(
    rgb: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The brightness's Sobel gradients across and down: what the edges' directions are
    judged from."""
    grey = cv2.transform(rgb, MEAN_CHANNELS.astype(np.float64)).astype(np.float32)
    across = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    down = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    return np.asarray(across, dtype=np.float32), np.asarray(down, dtype=np.float32)


def _hysteresis(
    contrast: npt.NDArray[np.float32], low: float, high: float
) -> npt.NDArray[np.uint8]:
    """Shapes above ``low`` that reach above ``high`` somewhere (8-connected), as 1.

    Floods the weak shapes from one pixel of each strong shape: quicker than labelling every
    weak shape, most of which are skin texture.
    """
    weak = greater(contrast, low)
    filled = np.zeros((weak.shape[0] + 2, weak.shape[1] + 2), dtype=np.uint8)
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)  # 8-connected, mark the mask with 1
    for row, col in _one_pixel_each(greater(contrast, high)).tolist():
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


def greater(image: npt.NDArray[np.float32], value: float) -> npt.NDArray[np.uint8]:
    """Where the image exceeds the value (255, else 0): OpenCV's compare is several times
    quicker than numpy's on a whole image."""
    return np.asarray(cv2.compare(image, value, cv2.CMP_GT), dtype=np.uint8)  # type: ignore[call-overload]


def components(
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
