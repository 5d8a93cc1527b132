"""An in-process vector index: normalised float32 rows, incremental add/remove.

Small indexes are searched exactly (one matrix-vector product). Past `ivf_min` rows the
index partitions itself (an inverted-file index: k-means centroids, one contiguous matrix
per cell) and searches only the `nprobe` cells nearest to the query, so a search at 100k
narrations reads a few thousand rows instead of all of them. Not thread-safe by itself:
the engine serialises access with a lock.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

import numpy as np

_GROW = 1.25
_SHIFT = 32
_ROW = (1 << _SHIFT) - 1


K = TypeVar("K", bound=Hashable)  # what a row is known by (matching: an item's key)


class _Cell(Generic[K]):
    """One contiguous block of rows; removal swaps the last row into the hole."""

    def __init__(self, dim: int, capacity: int = 16, dtype: type = np.float32) -> None:
        self.vecs: np.ndarray = np.empty((capacity, dim), dtype=dtype)
        self.keys: list[K] = []

    def __len__(self) -> int:
        return len(self.keys)

    def append(self, key: K, vec: np.ndarray) -> int:
        n = len(self.keys)
        if n == self.vecs.shape[0]:
            grown = np.empty((max(16, int(n * _GROW)), self.vecs.shape[1]), self.vecs.dtype)
            grown[:n] = self.vecs[:n]
            self.vecs = grown
        self.vecs[n] = vec
        self.keys.append(key)
        return n

    def extend(self, keys: Sequence[K], vecs: np.ndarray) -> None:
        n, m = len(self.keys), len(keys)
        if n + m > self.vecs.shape[0]:
            size = n + m if n == 0 else int((n + m) * _GROW)  # bulk loads fit exactly
            grown = np.empty((max(16, size), self.vecs.shape[1]), self.vecs.dtype)
            grown[:n] = self.vecs[:n]
            self.vecs = grown
        self.vecs[n : n + m] = vecs
        self.keys.extend(keys)

    def pop(self, pos: int) -> K | None:
        """Remove row `pos`; returns the key that moved into `pos`, if any."""
        last = len(self.keys) - 1
        moved = None
        if pos != last:
            self.vecs[pos] = self.vecs[last]
            self.keys[pos] = self.keys[last]
            moved = self.keys[pos]
        self.keys.pop()
        return moved


class VectorIndex(Generic[K]):
    def __init__(
        self,
        dim: int,
        *,
        ivf_min: int = 20_000,
        nprobe: int = 16,
        neighbour_probe: int = 4,
        seed: int = 0,
    ):
        self.dim = dim
        self.ivf_min = ivf_min
        self.nprobe = nprobe
        # Cells read for an item's own nearest neighbours (`neighbours`): a stored item's
        # neighbours are nearly all in its own and the next cells (at 100k: the mean of the
        # 10 best cosines differs from the exact by 2e-5 on average with 4 cells).
        self.neighbour_probe = neighbour_probe
        self._rng = np.random.default_rng(seed)
        self._cells: list[_Cell[K]] = [_Cell(dim, 1024)]
        self._centroids: np.ndarray | None = None
        # key -> cell << 32 | row: one int per key instead of a tuple of two (5 MB at 100k)
        self._where: dict[K, int] = {}
        self._trained_at = 0

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: K) -> bool:
        return key in self._where

    @property
    def partitioned(self) -> bool:
        return self._centroids is not None

    def add(self, keys: Sequence[K], vecs: np.ndarray) -> None:
        """Add (or replace) rows. `vecs` must be L2-normalised, shape (len(keys), dim)."""
        vecs = np.asarray(vecs, dtype=np.float32).reshape(len(keys), self.dim)
        for key in keys:
            if key in self._where:
                self.remove(key)
        if not self._where and len(keys) >= self.ivf_min:
            self._partition(list(keys), vecs)  # a bulk load: partition straight away
            return
        if self._centroids is None:
            cell = self._cells[0]
            start = len(cell)
            cell.extend(keys, vecs)
            for i, key in enumerate(keys):
                self._where[key] = start + i
        else:
            assign = np.argmax(vecs @ self._centroids.T, axis=1)
            for key, vec, c in zip(keys, vecs, assign, strict=True):
                self._where[key] = int(c) << _SHIFT | self._cells[int(c)].append(key, vec)
        if len(self) >= self.ivf_min and len(self) >= 2 * self._trained_at:
            self.rebuild()

    def remove(self, key: K) -> bool:
        place = self._where.pop(key, None)
        if place is None:
            return False
        moved = self._cells[place >> _SHIFT].pop(place & _ROW)
        if moved is not None:
            self._where[moved] = place
        return True

    def vector(self, key: K) -> np.ndarray:
        place = self._where[key]
        row: np.ndarray = self._cells[place >> _SHIFT].vecs[place & _ROW]
        return row

    def search(self, query: np.ndarray, k: int) -> list[tuple[K, float]]:
        """The `k` rows with the highest cosine similarity to `query`, best first."""
        if not self._where or k <= 0:
            return []
        keys, flat = self.scan(query)
        if not keys:
            return []
        top = min(k, len(flat))
        best = np.argpartition(-flat, top - 1)[:top]
        best = best[np.argsort(-flat[best])]
        return [(keys[i], float(flat[i])) for i in best]

    def scan(self, query: np.ndarray, floor: float = -math.inf) -> tuple[list[K], np.ndarray]:
        """The rows a search for `query` reads (every row in exact mode, the `nprobe`
        nearest cells when partitioned): their keys and cosines to `query`; with a
        `floor`, only the rows whose cosine reaches it."""
        query = np.asarray(query, dtype=np.float32).reshape(self.dim)
        scores: list[np.ndarray] = []
        keys: list[K] = []
        for c in self._probe(query[None, :], self.nprobe)[0]:
            cell = self._cells[c]
            if not len(cell):
                continue
            sims = cell.vecs[: len(cell)] @ query
            if floor == -math.inf:
                scores.append(sims)
                keys.extend(cell.keys)
            else:
                rows = np.flatnonzero(sims >= floor)
                scores.append(sims[rows])
                keys.extend([cell.keys[i] for i in rows.tolist()])
        return keys, np.concatenate(scores) if scores else np.empty(0, np.float32)

    def neighbours(self, keys: Sequence[K], k: int, floor: np.ndarray | None = None) -> np.ndarray:
        """For each of `keys` (rows of the index), the `k` highest cosines to the OTHER rows,
        as a search from its own vector would find them (exact, or the cells it would
        probe): shape (len(keys), k), each row sorted best first, -inf where there are
        fewer than `k` others. When partitioned, each reads its `neighbour_probe` nearest
        cells. One matrix product per cell read, shared by the keys that read it (exact
        mode: one product for all). `floor`, when known: for each key a lower bound of its
        k-th highest cosine (e.g. its k-th to some rows of the index), so that only the
        cosines reaching it need to be ordered."""
        best = np.full((len(keys), k), -np.inf, dtype=np.float32)
        if not keys or k <= 0:
            return best
        places = [self._where[key] for key in keys]
        vecs = np.stack([self._cells[p >> _SHIFT].vecs[p & _ROW] for p in places])
        low = (
            np.full(len(keys), -np.inf, np.float32)
            if floor is None
            else np.asarray(floor, np.float32) - 1e-5  # two products may differ in the last bits
        )
        readers: dict[int, list[int]] = {}
        for i, cells in enumerate(self._probe(vecs, self.neighbour_probe)):
            for c in cells:
                readers.setdefault(c, []).append(i)
        for c, rows in readers.items():
            cell = self._cells[c]
            if not len(cell):
                continue
            n = len(cell)
            # (rows of the cell) x (keys reading it): OpenBLAS is several times faster this
            # way round than (keys) x (rows of the cell) for a few keys.
            sims = cell.vecs[:n] @ vecs[rows].T
            for j, i in enumerate(rows):  # never a row's own cosine
                if places[i] >> _SHIFT == c:
                    sims[places[i] & _ROW, j] = -np.inf
            bar = np.maximum(low[rows], best[rows, -1])
            above = sims >= bar
            if np.isfinite(bar).all() and above.sum() <= sims.size // 8:
                best[rows] = _top_above(sims, above, best[rows])
            else:
                merged = np.concatenate([sims, best[rows].T], axis=0)
                best[rows] = -np.sort(-np.partition(merged, n, axis=0)[n:].T, axis=1)
        return best

    def _probe(self, queries: np.ndarray, nprobe: int) -> list[list[int]]:
        """The `nprobe` cells nearest to each of `queries` (shape (n, dim))."""
        if self._centroids is None:
            return [[0]] * len(queries)
        near = queries @ self._centroids.T
        probe = max(1, min(nprobe, near.shape[1]))
        cells: list[list[int]] = np.argpartition(-near, probe - 1, axis=1)[:, :probe].tolist()
        return cells

    def rebuild(self) -> None:
        """Re-partition all rows (k-means on a sample); exact mode below `ivf_min`."""
        # Gather cell by cell (one copy per cell, not one small array per row: that
        # fragmented the heap and kept ~100 MB resident after a rebuild at 100k).
        keys = [k for cell in self._cells for k in cell.keys]
        vecs = (
            np.concatenate([cell.vecs[: len(cell)] for cell in self._cells])
            if keys
            else np.empty((0, self.dim), np.float32)
        )
        self._partition(keys, vecs)

    def _partition(self, keys: list[K], vecs: np.ndarray) -> None:
        self._trained_at = len(keys)
        if len(keys) < self.ivf_min:
            self._centroids = None
            self._cells = [_Cell(self.dim, max(1024, len(keys)))]  # room to grow a little
        else:
            nlist = max(16, int(math.sqrt(len(keys))))
            self._centroids = _kmeans(vecs, nlist, self._rng)
            self._cells = [_Cell(self.dim, 0) for _ in range(nlist)]  # filled below
        self._where.clear()
        if not keys:
            return
        if self._centroids is None:
            self._cells[0].extend(keys, vecs.astype(np.float32))
            self._where.update({k: i for i, k in enumerate(keys)})
            return
        # Each cell gets its rows as one exactly-sized array straight from the fancy index:
        # no temporary per cell, so no heap fragmentation left behind.
        assign = _assign(vecs, self._centroids)
        order = np.argsort(assign, kind="stable")
        bounds = np.searchsorted(assign[order], np.arange(len(self._cells) + 1))
        for c, cell in enumerate(self._cells):
            rows = order[bounds[c] : bounds[c + 1]]
            cell.vecs = vecs[rows]
            cell.keys = [keys[i] for i in rows]
            base = c << _SHIFT
            self._where.update({k: base | i for i, k in enumerate(cell.keys)})


def _top_above(sims: np.ndarray, above: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Per column j of `sims` (rows x keys), the k highest of its entries marked in `above`
    and of `best[j]` (k values, best first): (keys, k), best first, -inf padded. Orders
    the few marked entries instead of every column."""
    m, k = best.shape
    rows, cols = np.nonzero(above)
    cols = np.concatenate([cols, np.repeat(np.arange(m), k)])
    vals = np.concatenate([sims[rows, cols[: len(rows)]], best.ravel()])
    order = np.lexsort((-vals, cols))
    cols, vals = cols[order], vals[order]
    rank = np.arange(len(cols)) - np.searchsorted(cols, np.arange(m))[cols]
    keep = rank < k
    out = np.full((m, k), -np.inf, dtype=np.float32)
    out[cols[keep], rank[keep]] = vals[keep]
    return out


def _assign(vecs: np.ndarray, centroids: np.ndarray, block: int = 8192) -> np.ndarray:
    out = np.empty(len(vecs), dtype=np.int64)
    for start in range(0, len(vecs), block):
        out[start : start + block] = np.argmax(vecs[start : start + block] @ centroids.T, axis=1)
    return out


def _kmeans(vecs: np.ndarray, k: int, rng: np.random.Generator, iters: int = 8) -> np.ndarray:
    """Spherical k-means on a sample: centroids are unit vectors (cosine geometry)."""
    sample = vecs[rng.choice(len(vecs), size=min(len(vecs), 64 * k), replace=False)]
    centroids = sample[rng.choice(len(sample), size=k, replace=False)].copy()
    for _ in range(iters):
        assign = _assign(sample, centroids)
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, sample)
        empty = np.flatnonzero(~sums.any(axis=1))
        sums[empty] = sample[rng.choice(len(sample), size=len(empty), replace=False)]
        centroids = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return centroids.astype(np.float32)
