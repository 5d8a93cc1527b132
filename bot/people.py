"""Who a person is (name, time zone, locale, admin flag), cached with a TTL.

Platform lookups are slow and rate-limited (Slack `users.info`), so answers are kept
for `ttl` seconds per process and written to the `person` table for features that
run without a platform at hand (schedules, reports).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Mapping

from bot.clock import Clock
from bot.ports import ChatPort, PersonInfo
from bot.store.directory import Directory

log = logging.getLogger(__name__)


class PersonDirectory:
    def __init__(
        self,
        ports: Mapping[str, ChatPort],
        directory: Directory,
        clock: Clock,
        *,
        ttl: float = 900.0,
        max_entries: int = 20_000,
    ) -> None:
        self.ports, self.directory, self.clock = ports, directory, clock
        self.ttl, self.max_entries = ttl, max_entries
        self._cache: OrderedDict[tuple[str, str], tuple[float, PersonInfo]] = OrderedDict()

    async def get(
        self,
        workspace_id: str,
        user_id: str,
        platform: str,
        fallback_name: str | None = None,
        *,
        remember: bool = True,
    ) -> PersonInfo:
        """`remember=False` (an anonymous event): nothing is written or cached, so no row
        or later write is timed by it."""
        key = (workspace_id, user_id)
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            self._cache.move_to_end(key)
            return hit[1]
        info = await self._lookup(workspace_id, user_id, platform, fallback_name, remember)
        if not remember:
            return info
        self._cache[key] = (time.monotonic(), info)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return info

    def forget(self, workspace_id: str, user_id: str) -> None:
        self._cache.pop((workspace_id, user_id), None)

    async def _lookup(
        self,
        workspace_id: str,
        user_id: str,
        platform: str,
        fallback_name: str | None,
        remember: bool = True,
    ) -> PersonInfo:
        port = self.ports.get(platform)
        if port is not None:
            try:
                info = await port.lookup_person(workspace_id, user_id)
            except Exception as exc:  # a failed lookup must not stop the event
                log.warning("person lookup failed for %s/%s: %s", workspace_id, user_id, exc)
            else:
                if remember:
                    await self.directory.remember_person(workspace_id, info, self.clock.now())
                return info
        stored = await self.directory.person(workspace_id, user_id)
        if stored is not None:
            return PersonInfo(
                user_id=user_id,
                display_name=stored.display_name or user_id,
                timezone=stored.timezone,
                locale=stored.locale,
                is_admin=stored.is_platform_admin,
            )
        return PersonInfo(user_id=user_id, display_name=fallback_name or user_id)
