"""A small in-process cache with a time-to-live and a size bound.

Used for reads that are asked on every event but change rarely (roles, a person's own
settings, channel facts). Each replica keeps its own; a change made through this process
invalidates its entry at once, other replicas see it within `ttl` seconds.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
_MISSING = object()


class TTLCache(Generic[K, V]):
    def __init__(self, ttl: float, max_entries: int = 50_000) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K, default: V | None = None) -> V | None:
        hit = self._items.get(key)
        if hit is None or time.monotonic() - hit[0] >= self.ttl:
            return default
        self._items.move_to_end(key)
        return hit[1]

    def __contains__(self, key: K) -> bool:
        hit = self._items.get(key)
        return hit is not None and time.monotonic() - hit[0] < self.ttl

    def set(self, key: K, value: V) -> None:
        self._items[key] = (time.monotonic(), value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()
