"""Pacing per rate-limit key (a channel or conversation), in real monotonic time.

Each platform says how often one key may be written to (`ChatPort.min_interval`,
seconds between requests); a 429 pauses the key until its Retry-After has passed.
"""

from __future__ import annotations

import time
from collections import OrderedDict


class RateLimiter:
    def __init__(self, max_keys: int = 50_000) -> None:
        self._next_ok: OrderedDict[str, float] = OrderedDict()
        self._max_keys = max_keys

    def wait_time(self, key: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        return max(0.0, self._next_ok.get(key, 0.0) - now)

    def reserve(self, key: str, interval: float, now: float | None = None) -> float:
        """Book the next free slot on `key`; returns when it starts (monotonic). The slot
        after it is `interval` seconds later."""
        now = time.monotonic() if now is None else now
        start = max(self._next_ok.get(key, 0.0), now)
        self._set(key, start + interval)
        return start

    def take(self, key: str, interval: float, now: float | None = None) -> float:
        """Take `key` at this moment if its interval has passed (returns 0.0; the next request
        may start `interval` later), else return how long to wait before asking again."""
        now = time.monotonic() if now is None else now
        wait = self._next_ok.get(key, 0.0) - now
        if wait > 0:
            return wait
        self._set(key, now + interval)
        return 0.0

    def pause(self, key: str, seconds: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._set(key, max(self._next_ok.get(key, 0.0), now + seconds))

    def _set(self, key: str, when: float) -> None:
        self._next_ok[key] = when
        self._next_ok.move_to_end(key)
        while len(self._next_ok) > self._max_keys:
            self._next_ok.popitem(last=False)
