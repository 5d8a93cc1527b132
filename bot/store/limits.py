"""Limits that are correctness, not caching, counted in the database so that every replica
sees the same count: a platform's cap per conversation (Teams: 1,800 messages an hour) and
the daily limits per person (thanks, anonymous questions).

`exclusive(session, key)` serialises whoever counts and then writes under one key: an
asyncio lock within the process and, on PostgreSQL, a transaction-scoped advisory lock, so
two replicas never both see "one left" and both take it. (SQLite is one process: its lock is
the asyncio one.) `take` is the sliding-window counter built on it, with one `limit_use`
row per use; the per-person limits count their own rows (thanks given, questions asked), so
no extra record of a person is kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import case, delete, text
from sqlmodel import col, func, select

from bot.clock import Clock, utc
from bot.store.engine import Database
from bot.store.tables.limits import LimitUse

log = logging.getLogger(__name__)
STRIPES = 64


class Limits:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock
        self._locks = [asyncio.Lock() for _ in range(STRIPES)]

    @asynccontextmanager
    async def exclusive(self, session: Any, key: str) -> AsyncIterator[None]:
        """Hold `key` until the block ends; commit inside it (the database lock lasts until
        the session's transaction ends)."""
        digest = hashlib.sha256(key.encode()).digest()
        async with self._locks[digest[0] % STRIPES]:
            if self.db.dialect == "postgresql":
                number = int.from_bytes(digest[:8], "big", signed=True)
                await session.exec(text("SELECT pg_advisory_xact_lock(:n)").bindparams(n=number))
            yield

    async def take(self, key: str, limit: int, window: timedelta, n: int = 1) -> float | None:
        """Use `n` of `limit` per sliding `window` under `key`: None when granted, else the
        seconds until enough earlier uses have left the window.

        The time is read once the key is ours: a use timed before a wait for the lock (a
        loaded machine, another replica holding it) would be recorded behind uses granted
        meanwhile, and counted against a window whose oldest uses the other replica had
        already removed — one sliding hour could then hold more than `limit`."""
        async with self.db.session() as s, self.exclusive(s, key):
            now = self.clock.now()
            cutoff = now - window
            inside = col(LimitUse.at) > cutoff
            count, oldest, stale = (
                await s.exec(
                    select(
                        func.coalesce(func.sum(case((inside, 1), else_=0)), 0),
                        func.min(case((inside, LimitUse.at), else_=None)),
                        func.min(LimitUse.at),
                    ).where(LimitUse.key == key)
                )
            ).one()
            if stale is not None and utc(stale) <= cutoff:  # uses that left the window
                await s.exec(
                    delete(LimitUse).where(col(LimitUse.key) == key, col(LimitUse.at) <= cutoff)
                )
            if count + n > limit:
                await s.commit()
                wait = (utc(oldest) + window - now).total_seconds() if oldest else 1.0
                return max(wait, 1.0)
            s.add_all(LimitUse(key=key, at=now) for _ in range(n))
            await s.commit()
        return None
