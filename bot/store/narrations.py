"""Narrations: stored, edited with their message, removed with it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.store.engine import Database
from bot.store.participation_counts import fold_narrations
from bot.store.tables import Narration


class NarrationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, narration: Narration) -> tuple[Narration, bool]:
        """Store a narration; (existing, False) when its message was stored before."""
        async with self.db.session() as s:
            s.add(narration)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
                existing = await self.by_message(
                    narration.workspace_id, narration.channel_id, narration.message_id
                )
                if existing is None:
                    raise
                return existing, False
            # no refresh: every column is set here, and the id comes back with the INSERT
            return narration, True

    async def get(self, narration_id: int) -> Narration | None:
        async with self.db.session() as s:
            return await s.get(Narration, narration_id)

    async def by_message(
        self, workspace_id: str, channel_id: str, message_id: str | None
    ) -> Narration | None:
        if message_id is None:
            return None
        async with self.db.session() as s:
            rows = await s.exec(
                select(Narration).where(
                    Narration.workspace_id == workspace_id,
                    Narration.channel_id == channel_id,
                    Narration.message_id == message_id,
                )
            )
            return rows.first()

    async def update_text(
        self, narration_id: int, text: str, topic: str, now: datetime
    ) -> Narration | None:
        async with self.db.session() as s:
            row = await s.get(Narration, narration_id)
            if row is None:
                return None
            row.text, row.topic, row.updated_at = text, topic, now
            s.add(row)
            await s.commit()
            await s.refresh(row)
            return row

    async def delete(self, narration_id: int) -> bool:
        """Remove a narration (its message was deleted); its participation count stays."""
        async with self.db.session() as s:
            row = await s.get(Narration, narration_id)
            if row is None:
                return False
            if row.community is not None:
                await fold_narrations(
                    s, self.db.dialect, row.workspace_id, col(Narration.id) == narration_id
                )
            await s.delete(row)
            await s.commit()
            return True

    async def recent(
        self, workspace_id: str, *, author_id: str | None = None, limit: int = 20
    ) -> list[Narration]:
        query = select(Narration).where(Narration.workspace_id == workspace_id)
        if author_id is not None:
            query = query.where(Narration.author_id == author_id)
        query = query.order_by(col(Narration.created_at).desc(), col(Narration.id).desc())
        async with self.db.session() as s:
            return list(await s.exec(query.limit(limit)))

    async def count(self, workspace_id: str) -> int:
        from sqlalchemy import func

        async with self.db.session() as s:
            result = await s.exec(
                select(func.count())
                .select_from(Narration)
                .where(Narration.workspace_id == workspace_id)
            )
            return int(result.one())
