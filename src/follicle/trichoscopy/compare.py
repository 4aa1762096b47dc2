"""Baseline against follow-up at one marked site: register, then match hair to hair.

Counting each visit on its own and subtracting adds both visits' errors; matching the same
hairs across visits measures the change directly (Bokhari et al. 2022 brought the error of the
change under 1 % this way). Registration uses ORB features with a RANSAC similarity fit, so a
shift, a small rotation and a change of light between the visits do not matter. Only hairs that
both images see (the common field) are compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from follicle.trichoscopy.analyze import (
    DEFAULT_VELLUS_THRESHOLD_UM,
    Analysis,
    AnalysisError,
    AnalysisWithContrast,
    Hair,
    analyze_with_contrast,
)
from follicle.trichoscopy.groups import linked_groups
from follicle.trichoscopy.hair import PatchOutlines

#: A matched hair counts as thicker or thinner beyond twice the per-hair diameter error the
#: benchmark measures (about 5 um), so measurement noise is not reported as change.
DIAMETER_CHANGE_UM = 10.0
MATCH_DISTANCE_UM = 75.0
#: A hair is still there at the other visit when at least this share of its shaft, carried
#: over by the registration, shows hair contrast in the other image.
PRESENT_FRACTION = 0.5
#: ...unless it shows there less than this share of its own contrast (median along the
#: shaft) and no hair is found along it: what shows is the edge of a neighbour lying on its
#: path (a hair of its unit, one crossing it). (The change error is flat from 0.35 to 0.5 on
#: the benchmark's pairs; above, thinned hairs start to count as lost.)
FADED_FRACTION = 0.4
#: A detection whose straight shaft shows in less than this share of it even in its own
#: image is not a clean single hair, and does not count as a loss or a gain...
RELIABLE_SHAFT = 0.6
#: ...nor does one lying mostly (at least this share of its shaft) in a patch its own
#: image set aside as dandruff: each visit has flakes of its own, and what is found at the
#: edge of one (a straight stretch of it, a piece of grey hair piled against it) is not
#: looked for the same way at the other visit (session 23: 27 of 74 false losses and gains
#: on the benchmark's pairs, 3 of 1,456 true ones).
IN_SET_ASIDE_SHARE = 0.5
COMMON_MARGIN_PX = 20.0


@dataclass(frozen=True)
class Registration:
    matrix: npt.NDArray[np.float64]  # baseline pixels -> follow-up pixels
    dx_px: float
    dy_px: float
    rotation_deg: float
    inliers: int

    def as_contract(self) -> dict[str, float]:
        return {
            "dx_px": round(self.dx_px, 1),
            "dy_px": round(self.dy_px, 1),
            "rotation_deg": round(self.rotation_deg, 2),
        }


@dataclass(frozen=True)
class Comparison:
    baseline: Analysis
    followup: Analysis
    registration: Registration
    matched: int
    lost: int
    new: int
    thickened: int
    thinned: int
    change_in_terminal: int
    change_in_mean_diameter_um: float | None

    @property
    def change_in_count(self) -> int:
        return self.new - self.lost

    def as_contract(self, baseline_name: str, followup_name: str) -> dict[str, Any]:
        change = self.change_in_mean_diameter_um
        return {
            "baseline": self.baseline.as_contract(baseline_name),
            "followup": self.followup.as_contract(followup_name),
            "registration": self.registration.as_contract(),
            "matched": self.matched,
            "lost": self.lost,
            "new": self.new,
            "thickened": self.thickened,
            "thinned": self.thinned,
            "change_in_count": self.change_in_count,
            "change_in_terminal": self.change_in_terminal,
            "change_in_mean_diameter_um": None if change is None else round(change, 1),
        }


def _grey(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return np.asarray(
        cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(grey), dtype=np.uint8
    )


def register(baseline: npt.NDArray[np.uint8], followup: npt.NDArray[np.uint8]) -> Registration:
    """Similarity transform (shift, rotation, scale ~1) from baseline to follow-up pixels."""
    orb = cv2.ORB_create(nfeatures=4000)  # type: ignore[attr-defined]
    kp1, des1 = orb.detectAndCompute(_grey(baseline), None)
    kp2, des2 = orb.detectAndCompute(_grey(followup), None)
    if des1 is None or des2 is None or len(kp1) < 8 or len(kp2) < 8:
        raise AnalysisError("the two images have too little detail to register")
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des1, des2, k=2)
    good = [m for m, *rest in pairs if rest and m.distance < 0.8 * rest[0].distance]
    if len(good) < 8:
        raise AnalysisError("the two images do not show the same site (too few common features)")
    src = np.array([kp1[m.queryIdx].pt for m in good], dtype=np.float32)
    dst = np.array([kp2[m.trainIdx].pt for m in good], dtype=np.float32)
    matrix, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0
    )
    if matrix is None or inliers is None or int(inliers.sum()) < 8:
        raise AnalysisError("the two images could not be registered")
    height, width = baseline.shape[:2]
    centre = np.array([width / 2, height / 2, 1.0])
    moved = matrix @ centre
    return Registration(
        matrix=np.asarray(matrix, dtype=np.float64),
        dx_px=float(moved[0] - centre[0]),
        dy_px=float(moved[1] - centre[1]),
        rotation_deg=math.degrees(math.atan2(matrix[0, 1], matrix[0, 0])),
        inliers=int(inliers.sum()),
    )


def _midpoints(hairs: tuple[Hair, ...]) -> npt.NDArray[np.float64]:
    return np.array(
        [[(h.x_px + h.end_x_px) / 2, (h.y_px + h.end_y_px) / 2] for h in hairs]
    ).reshape(-1, 2)


def _exits(hairs: tuple[Hair, ...]) -> npt.NDArray[np.float64]:
    return np.array([[h.x_px, h.y_px] for h in hairs]).reshape(-1, 2)


def _apply(
    matrix: npt.NDArray[np.float64], points: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    if not len(points):
        return points
    moved: npt.NDArray[np.float64] = points @ matrix[:, :2].T + matrix[:, 2]
    return moved


def _inside(
    points: npt.NDArray[np.float64], width: int, height: int, margin: float = COMMON_MARGIN_PX
) -> npt.NDArray[np.bool_]:
    inside: npt.NDArray[np.bool_] = (
        (points[:, 0] >= margin)
        & (points[:, 0] < width - margin)
        & (points[:, 1] >= margin)
        & (points[:, 1] < height - margin)
    )
    return inside


_SHAFT_STEPS = np.linspace(0.15, 0.85, 15)


def _shaft_samples(hairs: tuple[Hair, ...], indices: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    """Points along each hair's shaft (hairs x samples x 2), its ends left out."""
    if not len(indices):
        return np.zeros((0, len(_SHAFT_STEPS), 2))
    ends = np.array(
        [
            [hairs[int(i)].x_px, hairs[int(i)].y_px, hairs[int(i)].end_x_px, hairs[int(i)].end_y_px]
            for i in indices
        ],
        dtype=np.float64,
    )
    start, stop = ends[:, None, :2], ends[:, None, 2:]
    return np.asarray(start + _SHAFT_STEPS[None, :, None] * (stop - start))


def _contrast_at(points: npt.NDArray[Any], contrast: npt.NDArray[np.float32]) -> npt.NDArray[Any]:
    """The contrast at each point (hairs x samples); 0 outside the image."""
    flat = points.reshape(-1, 2).astype(np.float32)
    values = cv2.remap(
        contrast,
        flat[:, 0:1],
        flat[:, 1:2],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return np.asarray(values.reshape(points.shape[:2]))


def _present(
    own: AnalysisWithContrast,
    indices: npt.NDArray[np.int64],
    matrix: npt.NDArray[np.float64],
    other: AnalysisWithContrast,
    um_per_px: float,
) -> set[int]:
    """Which of these hairs of ``own`` still show as hair where the registration puts them
    in ``other``, judged against how well the same straight shaft shows in its own image,
    on the part of the shaft both images see (a hair whose exit both see may run out of
    the other's frame)."""
    if not len(indices):
        return set()
    hairs = own.analysis.hairs
    points = _shaft_samples(hairs, indices)
    moved = _apply(matrix, points.reshape(-1, 2)).reshape(points.shape)
    height, width = own.contrast.shape[:2]
    o_height, o_width = other.contrast.shape[:2]
    seen = _inside(points.reshape(-1, 2), width, height, 0.0).reshape(points.shape[:2])
    seen &= _inside(moved.reshape(-1, 2), o_width, o_height, 0.0).reshape(points.shape[:2])
    samples = np.maximum(seen.sum(axis=1), 1)
    mine = _contrast_at(points, own.contrast)
    theirs = _contrast_at(moved, other.contrast)
    own_share = ((mine > own.low_threshold) & seen).sum(axis=1) / samples
    set_aside = _in_set_aside(points, own.analysis.set_aside_patches, (height, width))
    other_share = ((theirs > other.low_threshold) & seen).sum(axis=1) / samples
    # (along the part both see; nan where they see none of it, which compares False)
    with np.errstate(invalid="ignore"):
        faded = np.nanmedian(np.where(seen, theirs, np.nan), axis=1) < FADED_FRACTION * (
            np.nanmedian(np.where(seen, mine, np.nan), axis=1)
        )
    return {
        i
        for k, i in enumerate(indices.tolist())
        # A detection whose straight shaft barely shows even in its own image is not a
        # clean single hair; it is not allowed to count as a loss or a gain.
        if own_share[k] < RELIABLE_SHAFT
        or set_aside[k] >= IN_SET_ASIDE_SHARE
        or (
            other_share[k] >= PRESENT_FRACTION * own_share[k]
            and not (
                faded[k] and not _found_along(hairs[i], matrix, other.analysis.hairs, um_per_px)
            )
        )
    }


def _in_set_aside(
    points: npt.NDArray[Any], patches: PatchOutlines, shape: tuple[int, int]
) -> npt.NDArray[np.float64]:
    """The share of each hair's points (hairs x samples) lying in one of ``patches``.

    >>> points = np.array([[[2.0, 2.0], [8.0, 2.0], [12.0, 2.0], [16.0, 2.0]]])
    >>> _in_set_aside(points, (((0, 0), (9, 0), (9, 9), (0, 9)),), (20, 20)).tolist()
    [0.5]
    """
    if not patches:
        return np.zeros(points.shape[0])
    inside = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(inside, [np.array(p, dtype=np.int32).reshape(-1, 1, 2) for p in patches], 1)
    cols = np.clip(np.rint(points[..., 0]).astype(np.intp), 0, shape[1] - 1)
    rows = np.clip(np.rint(points[..., 1]).astype(np.intp), 0, shape[0] - 1)
    return np.asarray(inside[rows, cols].mean(axis=1), dtype=np.float64)


def _found_along(
    hair: Hair, matrix: npt.NDArray[np.float64], others: tuple[Hair, ...], um_per_px: float
) -> bool:
    """Whether a hair of ``others`` lies along ``hair`` carried over by ``matrix``."""
    ends = _apply(matrix, np.array([[hair.x_px, hair.y_px], [hair.end_x_px, hair.end_y_px]]))
    carried = replace(
        hair, x_px=ends[0, 0], y_px=ends[0, 1], end_x_px=ends[1, 0], end_y_px=ends[1, 1]
    )
    middle = ends.mean(axis=0)
    reach_px = hair.length_um / um_per_px
    return any(
        _same_shaft(carried, other, um_per_px)
        for other in others
        if math.hypot(
            (other.x_px + other.end_x_px) / 2 - middle[0],
            (other.y_px + other.end_y_px) / 2 - middle[1],
        )
        <= reach_px
    )


#: Two detections are one shaft when they run within this angle of each other, less than a
#: shaft's width apart, and overlap or leave a gap along it no longer than this (a hair read
#: in two pieces either side of one crossing it)...
SAME_SHAFT_DEG = 15.0
SAME_SHAFT_GAP_UM = 150.0
#: ...or when the shorter lies wholly on the longer's shaft (a piece branching off a hair's
#: skeleton, a hair read as two side by side) and within this angle of it.
ON_SHAFT_DEG = 45.0


def _distinct_shafts(hairs: tuple[Hair, ...], indices: list[int], um_per_px: float) -> int:
    """How many shafts these detections make: a lost (or new) hair read in pieces is one loss
    (or gain), however it came apart (see :data:`SAME_SHAFT_DEG`)."""
    links = (
        (a, b)
        for a in range(len(indices))
        for b in range(a + 1, len(indices))
        if _same_shaft(hairs[indices[a]], hairs[indices[b]], um_per_px)
    )
    return len(set(linked_groups(len(indices), links)))


def _same_shaft(a: Hair, b: Hair, um_per_px: float) -> bool:
    if a.length_um < b.length_um:
        a, b = b, a
    start = np.array([a.x_px, a.y_px], dtype=np.float64)
    axis = np.array([a.end_x_px, a.end_y_px], dtype=np.float64) - start
    length = float(np.hypot(*axis))
    other = np.array([b.end_x_px - b.x_px, b.end_y_px - b.y_px], dtype=np.float64)
    other_length = float(np.hypot(*other))
    if length < 1.0 or other_length < 1.0:
        return False
    axis /= length
    sine = abs(float(axis[0] * other[1] - axis[1] * other[0])) / other_length
    ends = np.array([[b.x_px, b.y_px], [b.end_x_px, b.end_y_px]]) - start
    along = ends @ axis
    across = ends[:, 0] * axis[1] - ends[:, 1] * axis[0]
    width_px = max(a.diameter_um, b.diameter_um) / um_per_px + 1.0  # (+ rounding)
    on_line = float(np.abs(across).max()) <= width_px  # (a's line, beyond its ends too)
    on_shaft = (
        on_line
        and sine <= math.sin(math.radians(ON_SHAFT_DEG))
        and float(along.min()) >= -width_px
        and float(along.max()) <= length + width_px
    )
    gap = max(float(along.min()) - length, -float(along.max()), 0.0)
    in_line = (
        on_line
        and sine <= math.sin(math.radians(SAME_SHAFT_DEG))
        and gap * um_per_px <= SAME_SHAFT_GAP_UM
    )
    return on_shaft or in_line


def compare(
    baseline_rgb: npt.NDArray[np.uint8],
    followup_rgb: npt.NDArray[np.uint8],
    um_per_px: float,
    vellus_threshold_um: float = DEFAULT_VELLUS_THRESHOLD_UM,
) -> Comparison:
    """Analyse both visits and measure the change hair by hair in their common field."""
    base_run = analyze_with_contrast(baseline_rgb, um_per_px, vellus_threshold_um)
    follow_run = analyze_with_contrast(followup_rgb, um_per_px, vellus_threshold_um)
    return compare_analysed(base_run, follow_run, register(baseline_rgb, followup_rgb))


def compare_analysed(
    base_run: AnalysisWithContrast,
    follow_run: AnalysisWithContrast,
    registration: Registration,
) -> Comparison:
    """:func:`compare` on images already analysed (with their contrast) and registered: one
    image compared with several (a visit's repeats) is analysed once."""
    base, follow = base_run.analysis, follow_run.analysis
    um_per_px = base.um_per_px
    height, width = base_run.contrast.shape[:2]
    f_height, f_width = follow_run.contrast.shape[:2]
    inverse = np.asarray(cv2.invertAffineTransform(registration.matrix), dtype=np.float64)

    base_mid = _midpoints(base.hairs)
    follow_mid = _midpoints(follow.hairs)
    follow_in_base = _apply(inverse, follow_mid)
    base_exit = _exits(base.hairs)
    follow_exit = _exits(follow.hairs)
    base_exit_in_follow = _apply(registration.matrix, base_exit)
    follow_exit_in_base = _apply(inverse, follow_exit)
    base_common = (
        np.flatnonzero(
            _inside(base_exit, width, height) & _inside(base_exit_in_follow, f_width, f_height)
        )
        if len(base_mid)
        else np.array([], dtype=int)
    )
    follow_common = (
        np.flatnonzero(
            _inside(follow_exit, f_width, f_height) & _inside(follow_exit_in_base, width, height)
        )
        if len(follow_mid)
        else np.array([], dtype=int)
    )

    # Hair by hair, in the image: is each baseline hair still there, each follow-up hair new?
    kept = _present(base_run, base_common, registration.matrix, follow_run, um_per_px)
    already = _present(follow_run, follow_common, inverse, base_run, um_per_px)
    # Two detections along one shaft (a hair read in two pieces, or once more beside itself)
    # are one hair lost or gained.
    lost = _distinct_shafts(base.hairs, sorted(set(base_common.tolist()) - kept), um_per_px)
    new = _distinct_shafts(follow.hairs, sorted(set(follow_common.tolist()) - already), um_per_px)

    pairs: list[tuple[int, int]] = []
    kept_idx = np.array(sorted(kept), dtype=int)
    already_idx = np.array(sorted(already), dtype=int)
    if len(kept_idx) and len(already_idx):
        distance = np.hypot(
            base_mid[kept_idx, None, 0] - follow_in_base[None, already_idx, 0],
            base_mid[kept_idx, None, 1] - follow_in_base[None, already_idx, 1],
        )
        limit = MATCH_DISTANCE_UM / um_per_px
        cost = np.where(distance <= limit, distance, 1e6)
        rows, cols = linear_sum_assignment(cost)
        pairs = [
            (int(kept_idx[r]), int(already_idx[c]))
            for r, c in zip(rows, cols, strict=True)
            if cost[r, c] < 1e6
        ]
    thickened = sum(
        1
        for b, f in pairs
        if follow.hairs[f].diameter_um - base.hairs[b].diameter_um >= DIAMETER_CHANGE_UM
    )
    thinned = sum(
        1
        for b, f in pairs
        if base.hairs[b].diameter_um - follow.hairs[f].diameter_um >= DIAMETER_CHANGE_UM
    )
    terminal_before = sum(1 for i in base_common if base.hairs[i].terminal)
    terminal_after = sum(1 for i in follow_common if follow.hairs[i].terminal)
    mean_before = [base.hairs[i].diameter_um for i in base_common]
    mean_after = [follow.hairs[i].diameter_um for i in follow_common]
    change = (
        float(np.mean(mean_after) - np.mean(mean_before)) if mean_before and mean_after else None
    )
    return Comparison(
        baseline=base,
        followup=follow,
        registration=registration,
        matched=len(kept),
        lost=lost,
        new=new,
        thickened=thickened,
        thinned=thinned,
        change_in_terminal=terminal_after - terminal_before,
        change_in_mean_diameter_um=change,
    )
