"""Thanks between colleagues (`/wol thanks`), with a daily limit per giver."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, func, select

from bot.store.engine import Database
from bot.store.limits import Limits
from bot.store.tables.asks import Thanks


class ThanksRepo:
    def __init__(self, db: Database, limits: Limits) -> None:
        self.db = db
        self.limits = limits

    async def give(
        self, workspace_id: str, giver_id: str, thanks: list[Thanks], *, since: datetime, limit: int
    ) -> bool:
        """Store the giver's thanks unless that would bring what they gave since `since`
        past `limit`: counted and written under one lock, so replicas together keep to the
        limit. False when it would."""
        key = f"thanks:{workspace_id}:{giver_id}"
        async with self.db.session() as s, self.limits.exclusive(s, key):
            given = (
                await s.exec(
                    select(func.count())
                    .select_from(Thanks)
                    .where(
                        Thanks.workspace_id == workspace_id,
                        Thanks.giver_id == giver_id,
                        col(Thanks.created_at) > since,
                    )
                )
            ).one()
            if given + len(thanks) > limit:
                return False
            s.add_all(thanks)
            await s.commit()
            return True
