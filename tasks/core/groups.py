"""Connected components of linked items (union-find), each named by its smallest member."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def components(items: Sequence[str], pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The smallest member of each item's group: stable whatever order the links come in."""
    parent = {i: i for i in items}

    def root(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {i: root(i) for i in items}
