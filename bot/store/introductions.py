"""Introductions the bot made between colleagues, and how they turned out
(bot/features/intros.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select, update

from bot.store.engine import Database
from bot.store.tables.matching import Connection


class IntroductionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def made_before(
        self, workspace_id: str, narration_id: int | None, narrator_id: str, person_id: str
    ) -> bool:
        """Whether this narrator was introduced to this person for this narration."""
        async with self.db.session() as s:
            return (
                await s.exec(
                    select(Connection.id).where(
                        Connection.workspace_id == workspace_id,
                        Connection.narration_id == narration_id,
                        Connection.narrator_id == narrator_id,
                        Connection.person_id == person_id,
                    )
                )
            ).first() is not None

    async def add(self, connection: Connection) -> Connection:
        """Store an introduction; returned with its id."""
        async with self.db.session() as s:
            s.add(connection)
            await s.commit()
            await s.refresh(connection)
            return connection

    async def get(self, workspace_id: str, connection_id: int) -> Connection | None:
        """An introduction of this workspace (None: unknown here)."""
        async with self.db.session() as s:
            row = await s.get(Connection, connection_id)
        return row if row is not None and row.workspace_id == workspace_id else None

    async def rate(self, connection_id: int | None, helped: str, answered_at: datetime) -> bool:
        """The narrator's answer to "did it help?"; False when the introduction is gone."""
        return await self._update(connection_id, helped=helped, answered_at=answered_at)

    async def how_it_helped(self, connection_id: int | None, text: str) -> None:
        await self._update(connection_id, how_it_helped=text)

    async def _update(self, connection_id: int | None, **values: Any) -> bool:
        async with self.db.session() as s:
            result: Any = await s.exec(
                update(Connection).where(col(Connection.id) == connection_id).values(**values)
            )
            await s.commit()
        return bool(result.rowcount == 1)
