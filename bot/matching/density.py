"""Neighbourhood density (hubness): how crowded the region of the vector space around an
item is, for the correction of the match score in `WorkspaceIndex.rank`
(docs/matching.md, "Neighbourhood density (hubness) correction"):

    score' = score − β · ((r_q + r_i) / 2 − c)

where r_x is the mean cosine of x to its k nearest OTHER items of the workspace. Texts in a
dense region (generic work, one sector's everyday words) score high against everything; an
isolated text (often a cross-language partner) scores low even against its true partner.

`Neighbourhoods` keeps, per item whose r was needed, its k highest cosines to the other
items, so that an addition can enter them and a removal can invalidate them without
searching again. Memory: k float32, a dict entry and a list slot per cached item, about
150 bytes at k = 10 (21 MB measured for all 100,000 items of the latency benchmark), so
at most `limit` items are kept (20,000: about 3 MB).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

# Two computations of one cosine (a matrix product and a matrix-vector product) may differ
# in the last bits: a removal invalidates an entry whose k-th cosine is this close.
_SLACK = 1e-5


class Neighbourhoods:
    """Cached k nearest cosines (to other items of one workspace), by item key."""

    def __init__(self, k: int, limit: int = 20_000) -> None:
        self.k = k
        # At most this many items cached (about 2.5 MB at k = 10): past it, the oldest
        # quarter is forgotten (computed again when needed).
        self.limit = limit
        self._row: dict[str, int] = {}
        # Row r: the item's k highest cosines, best first (-inf where the workspace has
        # fewer than k other items); free rows hold +inf, so they never lower `floor`.
        self._top = np.full((0, k), np.inf, dtype=np.float32)
        self._free: list[int] = []
        self._key: list[str] = []  # row -> key ("" for a free row)

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, key: str) -> bool:
        return key in self._row

    def top(self, key: str) -> np.ndarray:
        """The item's k highest cosines, best first (a copy)."""
        top: np.ndarray = self._top[self._row[key]].copy()
        return top

    def means(
        self,
        keys: Sequence[str],
        reduce: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(r, known): r per key, the mean of its cached cosines (NaN when it has no other
        item) or what `reduce` makes of them (a policy's floor); known: whether the key is
        cached at all."""
        rows = [self._row.get(key, -1) for key in keys]
        known = np.array([r >= 0 for r in rows], dtype=bool)
        r = np.full(len(keys), np.nan)
        if known.any():
            r[known] = (reduce or finite_means)(self._top[[x for x in rows if x >= 0]])
        return r, known

    def put(self, keys: Sequence[str], tops: np.ndarray) -> None:
        """Cache `tops` (shape (len(keys), k), rows best first) for `keys`."""
        for key, top in zip(keys, tops, strict=True):
            row = self._row.get(key)
            if row is None:
                if len(self._row) >= self.limit:
                    for old in list(itertools.islice(self._row, max(1, self.limit // 4))):
                        self.drop(old)
                row = self._free.pop() if self._free else self._grow()
                self._row[key] = row
                self._key[row] = key
            self._top[row] = top

    def drop(self, key: str) -> None:
        row = self._row.pop(key, None)
        if row is not None:
            self._top[row] = np.inf
            self._key[row] = ""
            self._free.append(row)

    def floor(self) -> float:
        """The lowest k-th cosine of any cached item (less a little slack): no item less
        close than this to every cached item can enter or leave a cached top k."""
        return float(self._top[:, -1].min()) - _SLACK if len(self._top) else math.inf

    def added(self, keys: Sequence[str], cosines: np.ndarray) -> None:
        """A new item whose cosines to the items `keys` are `cosines`: it enters the top k
        of every cached item among them that it is closer to than that item's k-th."""
        rows, cos = self._cached(keys, cosines)
        closer = cos > self._top[rows, -1]
        if closer.any():
            rows = rows[closer]
            tops = self._top[rows]
            tops[:, -1] = cos[closer]
            self._top[rows] = -np.sort(-tops, axis=1)

    def removed(self, keys: Sequence[str], cosines: np.ndarray) -> None:
        """An item whose cosines to the items `keys` are `cosines` is going: every cached
        item that had it among its k nearest is forgotten (its (k+1)-th is not known; it is
        computed again when needed)."""
        rows, cos = self._cached(keys, cosines)
        had = cos >= self._top[rows, -1] - _SLACK
        for row in rows[had].tolist():
            self.drop(self._key[row])

    def _cached(self, keys: Sequence[str], cosines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cache rows of the cached items among `keys`, and their `cosines`."""
        row = self._row.get
        rows = np.array([row(key, -1) for key in keys], dtype=np.intp)
        cached = rows >= 0
        return rows[cached], np.asarray(cosines)[cached]

    def _grow(self) -> int:
        n = len(self._top)
        grown = np.full((max(64, n + n // 2), self.k), np.inf, dtype=np.float32)
        grown[:n] = self._top
        self._top = grown
        self._key.extend([""] * (len(grown) - n))
        self._free.extend(range(len(grown) - 1, n, -1))
        return n


def finite_means(tops: np.ndarray) -> np.ndarray:
    """Row means over the finite entries (the workspace may hold fewer than k others);
    NaN for a row without any."""
    finite = np.isfinite(tops)
    count = finite.sum(axis=1)
    total = np.where(finite, tops, 0.0).sum(axis=1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
