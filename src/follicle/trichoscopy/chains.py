"""Skeletons into chains: split at junctions and corners, and re-joined where one branch
continues another in a straight line, so that crossing hairs and hairs sharing a follicular
opening are counted separately."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

#: Branches meeting at a junction are one shaft when one continues the other within this
#: angle: a clipped shaft hardly bends, so a sharper turn is two hairs meeting.
CONTINUES_WITHIN_DEG = 15.0
# A skeleton path straying from the line between its ends by more than this is not straight
# (the px term is the thinning's own wobble; a clipped hair's gentle curve stays within it)...
BEND_TOLERANCE_PX = 2.5
BEND_TOLERANCE_FRACTION = 0.03  # of the path's length
CORNER_DEG = 10.0  # ...and is cut where it turns by more than this


@dataclass
class Chain:
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
    return np.asarray(principal_axes(points, np.zeros(len(points), dtype=np.intp), 1)[0])


def with_directions(chains: list[Chain]) -> None:
    """Work out every chain's :attr:`Chain.direction` in one call (one by one, the many
    small array operations cost more than the sums)."""
    if not chains:
        return
    points = np.concatenate([chain.points for chain in chains])
    owner = np.repeat(np.arange(len(chains)), [len(chain.points) for chain in chains])
    for chain, direction in zip(chains, principal_axes(points, owner, len(chains)), strict=True):
        chain.__dict__["direction"] = direction  # (what the cached property would store)


def principal_axes(
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


def skeleton_chains(
    sk: npt.NDArray[np.uint8],
    owner: npt.NDArray[np.int32],
    spur_px: float,
) -> list[tuple[Chain, int]]:
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
    axes = principal_axes(pixels, pixel_labels, count)[pixel_labels]
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
        return [(Chain(b), int(o)) for b, o in zip(branches, shape_of.tolist(), strict=True)]
    # Each branch end near a junction (within 2 px): which cluster of junctions it touches.
    end_points = np.stack([pixels[firsts], pixels[stops - 1]], axis=1)  # branch, which, (r, c)
    touches = _junction_clusters(j_rows, j_cols, end_points.reshape(-1, 2)).reshape(-1, 2)
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
    chains: list[tuple[Chain, int]] = []
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
            chains.extend((Chain(piece), label) for piece in pieces)
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
    rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp], points: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The cluster of junctions (from 1) within 2 px (each way) of each of ``points`` (row,
    col), 0 for none; junction pixels whose 5x5 neighbourhoods touch are one cluster (so two
    clusters' neighbourhoods never overlap). Looked up in the neighbourhoods' pixels, sorted,
    rather than painted on an image of the frame's size (allocating and writing it took 2-3 ms
    an image).

    >>> rows, cols = np.array([10, 12, 40]), np.array([10, 12, 40])  # two clusters
    >>> _junction_clusters(rows, cols, np.array([[8, 8], [14, 14], [42, 38], [20, 20]])).tolist()
    [1, 1, 2, 0]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    junctions = np.stack([rows, cols], axis=1)
    pairs = cKDTree(junctions).query_pairs(5.0, p=np.inf, output_type="ndarray")
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
        shape=(len(junctions), len(junctions)),
    )
    _, cluster = connected_components(graph, directed=False)
    # Every neighbourhood pixel with its cluster, once each.
    offsets = np.array([(dr, dc) for dr in range(-2, 3) for dc in range(-2, 3)])
    width = int(max(cols.max(initial=0), points[:, 1].max(initial=0))) + 5  # (2 px margins)
    painted = (
        (rows[None, :] + 2 + offsets[:, :1]) * width + (cols[None, :] + 2 + offsets[:, 1:])
    ).ravel()
    labels = np.tile(cluster + 1, len(offsets))
    painted, first = np.unique(painted, return_index=True)
    labels = labels[first]
    wanted = (points[:, 0] + 2) * width + points[:, 1] + 2
    at = np.minimum(np.searchsorted(painted, wanted), len(painted) - 1)
    return np.where(painted[at] == wanted, labels[at], 0).astype(np.int64)


def on_frame_edge(points: npt.NDArray[Any], shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
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
    directions = principal_axes(pixels[starts[owner] + index], owner, len(starts))
    # Inward: from the end pixel along the segment.
    inward = np.stack(
        [pixels[firsts + n - 1] - pixels[firsts], pixels[stops - n] - pixels[stops - 1]], axis=1
    ).reshape(-1, 2)
    flip = (directions * inward).sum(axis=1) > 0
    directions[flip] *= -1.0
    return directions.reshape(-1, 2, 2)


#: Pieces of one shape are joined into one hair when they run within this angle...
JOIN_WITHIN_DEG = 12.0


def crossing(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Whether unit vectors ``a`` and ``b`` (broadcast) are more than
    :data:`JOIN_WITHIN_DEG` apart either way round: too far apart to join, ruled out all at
    once before the one-by-one tests (with a margin, so that rounding never rules out a pair
    those tests would join)."""
    cosine = np.abs(a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1])
    return np.asarray(cosine < math.cos(math.radians(JOIN_WITHIN_DEG)) - 1e-9)


def merge_collinear(chains: list[Chain], max_gap_px: float) -> list[Chain]:
    """Join pieces of one hair broken by a gap, a flake or a crossing hair."""
    # Each pass starts again after a join; pairs already found not to join are not tried
    # again (by identity: every chain ever made is kept alive, so no identity is reused).
    if len(chains) < 2:
        return chains
    made = list(chains)
    apart: set[tuple[int, int]] = set()
    # Pairs that do not run within the join's angle of each other, all at once (most pairs)...
    directions = np.array([chain.direction for chain in chains]).reshape(-1, 2)
    far_apart = crossing(directions[:, None], directions[None, :])
    # ...or whose nearest ends are further apart than the gap (with a margin for rounding).
    ends = np.array([chain.points[[0, -1]] for chain in chains], dtype=np.float64)
    gaps = np.hypot(*(ends[:, None, :, None] - ends[None, :, None, :]).transpose(4, 0, 1, 2, 3))
    far_apart |= gaps.min(axis=(2, 3)) > max_gap_px + 1e-6
    rows, cols = np.nonzero(np.triu(far_apart, 1))
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


def _join(a: Chain, b: Chain, max_gap_px: float) -> Chain | None:
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
    return None if best is None else Chain(best[1])
