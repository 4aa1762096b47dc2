"""From the hair mask to measured candidate shafts: each shape thinned (to the frame when the
frame cuts it), its chains kept when long enough, each measured across its middle half, and its
exit told from its cut end (the narrower end)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt
from skimage.morphology import skeletonize

from follicle.trichoscopy.chains import (
    Chain,
    merge_collinear,
    on_frame_edge,
    skeleton_chains,
    with_directions,
)
from follicle.trichoscopy.hair import (
    MAX_HAIR_DIAMETER_UM,
    MIN_COUNTED_SHAFT_UM,
    Hair,
    Scale,
)
from follicle.trichoscopy.widths import medians, profile_widths


def thinned(
    component: npt.NDArray[np.bool_],
    origin: tuple[int, int],
    params: Scale,
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


def candidates(
    skeleton: npt.NDArray[np.uint8],
    shapes: npt.NDArray[np.uint8],
    owner: npt.NDArray[np.int32],
    params: Scale,
) -> list[tuple[Chain, float]]:
    """The skeleton chains that may be hairs, each with how far across it its profiles must
    reach (from its shape's width at the chain's middle)."""
    # The width of a shape cut by the frame is read as if it went on beyond it.
    reach = math.ceil(params.px(MAX_HAIR_DIAMETER_UM))
    padded = cv2.copyMakeBorder(shapes, reach, reach, reach, reach, cv2.BORDER_REPLICATE)
    mask_dt = cv2.distanceTransform(np.pad(padded, 1), cv2.DIST_L2, 5)
    mask_dt = mask_dt[
        1 + reach : 1 + reach + shapes.shape[0], 1 + reach : 1 + reach + shapes.shape[1]
    ]
    by_shape: dict[int, list[Chain]] = {}
    chains = skeleton_chains(skeleton, owner, spur_px=params.px(100))
    with_directions([chain for chain, _ in chains])
    for chain, label in chains:
        by_shape.setdefault(label, []).append(chain)
    found = [
        chain
        for _, chains in sorted(by_shape.items())
        for chain in merge_collinear(chains, max_gap_px=params.px(60))
        if (chain.length_px + params.px(MAX_HAIR_DIAMETER_UM)) * params.um_per_px
        >= MIN_COUNTED_SHAFT_UM
    ]
    widest = params.px(MAX_HAIR_DIAMETER_UM)
    middles = [_thirds(chain.points)[0] for chain in found]
    points = np.concatenate(middles) if middles else np.zeros((0, 2), dtype=np.int64)
    owner = np.repeat(np.arange(len(middles)), [len(m) for m in middles])
    # Twice the distance from the skeleton to the shape's edge, along the chain's middle.
    rough = 2.0 * medians(mask_dt[points[:, 0], points[:, 1]], owner, len(middles))
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


def hairs_from(
    chains: list[tuple[Chain, float]],
    colour: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    params: Scale,
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
    widths = profile_widths(colour, segments, reaches).reshape(-1, 3)
    # (all chains at once: one by one, the small array operations cost more than the sums)
    width_px = np.maximum(widths[:, 0], 0.5)
    ends = np.array([chain.points[[0, -1]] for chain, _ in chains], dtype=np.float64)
    axis = ends[:, 1] - ends[:, 0]
    axis /= np.maximum(np.hypot(axis[:, 0], axis[:, 1]), 1e-9)[:, None]
    at_frame = on_frame_edge(ends, (height, width))
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
