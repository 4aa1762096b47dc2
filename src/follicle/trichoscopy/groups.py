"""Grouping items linked in pairs (single linkage), for follicular units and shafts."""

from __future__ import annotations

from collections.abc import Iterable


def linked_groups(count: int, links: Iterable[tuple[int, int]]) -> list[int]:
    """The group of each of ``count`` items, numbered in order of first appearance, where
    items linked directly or through others share a group.

    >>> linked_groups(5, [(0, 2), (3, 4), (2, 0)])
    [0, 1, 0, 2, 2]
    """
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        parent[find(a)] = find(b)
    numbers: dict[int, int] = {}
    return [numbers.setdefault(find(i), len(numbers)) for i in range(count)]
