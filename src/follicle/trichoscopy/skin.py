"""Each pixel against the skin under it: the first step of the analysis.

The skin is estimated by a weighted blur that leaves out whatever stands out from it, and each
pixel's colour difference from it is whitened by the skin's own colour variation (its
Mahalanobis distance): skin texture and light vary mostly in brightness, so blond hair on
light-brown skin, which differs mostly in colour, stands out as clearly as black hair on pale
skin. Pixels with a clipped channel are judged by the other two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.sampling import channel_norm

MEAN_CHANNELS = np.full((1, 3), 1.0 / 3.0, dtype=np.float32)
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
#: How many times the skin is estimated, each without what stood out from the previous
#: estimate. Two leave hair out where it covers a small share of the frame; where pale hair
#: covers much of it, the estimate frees itself of the hair a little each round (a dense grey
#: 4 x 3 mm field: the skin's spread 30, 26, 22 grey levels over three rounds, against 20, 9
#: and 3 on the whole image) and takes about :data:`MANY_SKIN_ROUNDS` (analyze.py).
SKIN_ROUNDS = 2
MANY_SKIN_ROUNDS = 6


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


def skin_whitening(
    diff: npt.NDArray[Any], floor_sd: float, plain: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.float32]:
    """A colour transform under which the skin's own variation is round and of standard
    deviation :data:`SKIN_SD`, so the length of a transformed difference says how unlike
    skin a pixel is (its Mahalanobis distance).

    Skin texture and lighting vary mostly in brightness; blond hair on light-brown skin
    differs mostly in blue-yellow, and would hide among brightness variation of the same size.
    ``diff`` is a sample of colour differences from the skin estimate; the skin's spread is
    taken from the 85 % of them closest to it, with at least ``floor_sd`` in every direction,
    leaving out those ``plain`` (of the sample's shape) marks as having stood out from the
    skin's previous estimate: where hair or flakes cover more than a seventh of the frame
    (dense blond hair, a small crop), they would be taken for the skin's own variation, and
    hair of their colour would stand out less (blond type III scalps were counted 15-20 % low).
    """
    flat = diff.reshape(-1, 3).astype(np.float64)
    columns = flat.T
    squared = columns[0] * columns[0] + columns[1] * columns[1] + columns[2] * columns[2]
    closest = int(0.85 * (len(squared) - 1))
    near = squared < np.partition(squared, closest)[closest]
    if plain is not None:
        near &= plain.ravel()
    weight = near.astype(np.float64)
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
class SkinContrast:
    """Each pixel against its local skin: how unlike it (finds hairs), the colour difference
    and light-evening gain (measure them; their brightness tells pale blobs)."""

    hairlike: npt.NDArray[np.float32]  # whitened distance from the skin: finds the hairs
    diff: npt.NDArray[np.float32]  # colour difference from the skin, unblurred: measures...
    gain: npt.NDArray[np.float32]  # ...once evened out for uneven light (see profile_widths)

    def brighter(self, rows: Any, cols: Any) -> npt.NDArray[np.float64]:
        """Signed brightness against the skin, evened out for light, at these pixels (index
        arrays or slices): pale blobs (dandruff) are brighter than the skin."""
        return np.asarray(self.diff[rows, cols].mean(axis=-1) * self.gain[rows, cols])


def skin_contrast(
    rgb: npt.NDArray[np.uint8],
    inside: npt.NDArray[np.uint8] | None = None,
    rounds: int = SKIN_ROUNDS,
) -> SkinContrast:
    """Hair contrast against the local skin, corrected for uneven light; with ``inside`` (1
    where the scalp is seen: field.py), the skin is judged only there and nothing outside
    stands out. The skin is estimated ``rounds`` times, each without what stood out from
    the previous estimate."""
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
    seen = _Seen(inside, quarter, size)
    skin = _skin_colour(quarter, seen.quarter, size, 3.0)
    skin_level = float(np.median(seen.on_grid(cv2.transform(skin, MEAN_CHANNELS))))
    floor_sd = math.hypot(SKIN_SD_FLOOR_SHARE * skin_level, ROUNDING_SD)
    plain = np.ones(quarter.shape[:2], dtype=np.bool_)
    for _ in range(rounds):  # re-estimate without hairs and blobs: they would pull it their way
        diff = cv2.subtract(quarter, _resized(skin, quarter))
        whitening = skin_whitening(
            seen.at_quarter(diff[::2, ::2], 2), floor_sd, seen.at_quarter(plain[::2, ::2], 2)
        )
        hairlike = channel_norm(cv2.transform(diff, whitening))
        outlier = (hairlike > BACKGROUND_OUTLIER_SD * SKIN_SD).astype(np.uint8)
        weight = 1.0 - cv2.dilate(outlier, np.ones((3, 3), np.uint8)).astype(np.float32)
        skin = _skin_colour(quarter, seen.weighted(weight), size, 3.0)
        plain = weight > 0  # (what did not stand out: the skin's spread is judged on it)
    # The skin's variation as seen at half size (sensor noise averaged over 2x2 pixels).
    sample = half[::4, ::4] - _resized(skin, half)[::4, ::4]  # (the grid of quarter[::2, ::2])
    plain_sample = np.ones(sample.shape[:2], dtype=np.bool_)  # (it may be a row or column more)
    rows, cols = plain[::2, ::2].shape
    plain_sample[:rows, :cols] = plain[::2, ::2][: sample.shape[0], : sample.shape[1]]
    whitening = skin_whitening(
        seen.at_quarter(sample, 2), floor_sd, seen.at_quarter(plain_sample, 2)
    )
    # Relative to the local skin brightness, so vignetting and uneven light do not hide hairs
    # at the edges of the field.
    luminance = cv2.transform(skin, MEAN_CHANNELS)
    gain = cv2.resize(
        float(np.median(seen.on_grid(luminance))) / np.maximum(luminance, 8.0),
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
    if inside is not None:
        hairlike[inside == 0] = 0.0
    return SkinContrast(hairlike, colour_diff, np.asarray(gain, dtype=np.float32))


class _Seen:
    """Where the scalp is seen, at the sizes the skin is estimated at (all of it when no
    field of view was found: then every step is as it was without one)."""

    def __init__(
        self,
        inside: npt.NDArray[np.uint8] | None,
        quarter: npt.NDArray[np.float32],
        grid: tuple[int, int],
    ) -> None:
        self.quarter: npt.NDArray[np.float32] | None = None
        self.grid: npt.NDArray[np.bool_] | None = None
        if inside is not None:
            size = (quarter.shape[1], quarter.shape[0])
            small = cv2.resize(inside, size, interpolation=cv2.INTER_NEAREST)
            self.quarter = np.asarray(small, dtype=np.float32)
            self.grid = np.asarray(cv2.resize(inside, grid, interpolation=cv2.INTER_NEAREST)) > 0

    def weighted(self, weight: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return weight if self.quarter is None else weight * self.quarter

    def at_quarter(self, sample: npt.NDArray[Any], step: int) -> npt.NDArray[Any]:
        """The pixels of a quarter-size image sampled every ``step`` that lie in the field."""
        if self.quarter is None:
            return sample
        seen = self.quarter[::step, ::step] > 0
        rows, cols = min(seen.shape[0], sample.shape[0]), min(seen.shape[1], sample.shape[1])
        return np.asarray(sample[:rows, :cols][seen[:rows, :cols]])

    def on_grid(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if self.grid is None else np.asarray(values[self.grid])


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
