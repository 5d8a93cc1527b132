"""Workspaces, people and channels: who and where, as last seen on the platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.cache import TTLCache
from bot.ports import PersonInfo
from bot.store.engine import Database
from bot.store.tables import Channel, Person, Workspace


class Directory:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._known_workspaces: set[str] = set()
        self._channels: TTLCache[tuple[str, str], tuple[str, str | None]] = TTLCache(ttl=300.0)

    async def ensure_workspace(self, workspace_id: str, platform: str) -> None:
        """Create the tenant row on first contact (cached; idempotent across replicas)."""
        if workspace_id in self._known_workspaces:
            return
        async with self.db.session() as s:
            if await s.get(Workspace, workspace_id) is None:
                s.add(Workspace(id=workspace_id, platform=platform))
                try:
                    await s.commit()
                except IntegrityError:
                    await s.rollback()  # another replica created it first
        self._known_workspaces.add(workspace_id)

    async def workspace_ids(self) -> list[str]:
        """Every workspace the bot knows."""
        async with self.db.session() as s:
            return list(await s.exec(select(Workspace.id)))

    async def workspace(self, workspace_id: str) -> Workspace | None:
        async with self.db.session() as s:
            return await s.get(Workspace, workspace_id)

    async def person(self, workspace_id: str, user_id: str) -> Person | None:
        async with self.db.session() as s:
            return await s.get(Person, (workspace_id, user_id))

    async def remember_person(self, workspace_id: str, info: PersonInfo, now: datetime) -> Person:
        """Store what the platform says about a person. A concurrent insert by another replica
        is retried once as an update; any other integrity error is a bug and raises."""
        for attempt in (1, 2):
            async with self.db.session() as s:
                row = await s.get(Person, (workspace_id, info.user_id))
                if (
                    row is not None
                    and (row.display_name, row.is_platform_admin)
                    == (info.display_name, info.is_admin)
                    and (info.timezone in (None, row.timezone))
                    and (info.locale in (None, row.locale))
                ):
                    return row  # unchanged: no write, so no timestamp tells when they were here
                if row is None:
                    row = Person(workspace_id=workspace_id, user_id=info.user_id)
                row.display_name = info.display_name
                row.timezone = info.timezone or row.timezone
                row.locale = info.locale or row.locale
                row.is_platform_admin = info.is_admin
                row.updated_at = now
                s.add(row)
                try:
                    await s.commit()
                except IntegrityError:
                    if attempt == 2:
                        raise
                    await s.rollback()
                    continue
                return row
        raise AssertionError("unreachable")

    async def channel(self, workspace_id: str, channel_id: str) -> Channel | None:
        async with self.db.session() as s:
            return await s.get(Channel, (workspace_id, channel_id))

    async def remember_channel(
        self, workspace_id: str, channel_id: str, kind: str, name: str | None, now: datetime
    ) -> None:
        key = (workspace_id, channel_id)
        if self._channels.get(key) == (kind, name) or (
            name is None and (self._channels.get(key) or ("", None))[0] == kind
        ):
            return  # known and unchanged
        async with self.db.session() as s:
            row = await s.get(Channel, key)
            if row is not None and row.kind == kind and (name is None or row.name == name):
                self._channels.set(key, (kind, row.name))
                return
            row = row or Channel(workspace_id=workspace_id, channel_id=channel_id)
            row.kind = kind
            row.name = name or row.name
            row.updated_at = now
            s.add(row)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
        self._channels.set(key, (kind, name))

    async def channels(self, workspace_id: str) -> list[Channel]:
        async with self.db.session() as s:
            rows = await s.exec(select(Channel).where(Channel.workspace_id == workspace_id))
            return list(rows)

    async def people(self, workspace_id: str) -> list[Person]:
        async with self.db.session() as s:
            rows = await s.exec(select(Person).where(Person.workspace_id == workspace_id))
            return list(rows)
