"""Who gets the weekly participation report in a direct message (`/wol stats weekly`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from bot.store.engine import Database
from bot.store.tables.insight import ReportSubscription


class ReportSubscriptionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def subscribe(
        self, workspace_id: str, user_id: str, platform: str, community: str | None, now: datetime
    ) -> None:
        """Subscribe a person, or change the community of their subscription."""
        async with self.db.session() as s:
            row = await s.get(ReportSubscription, (workspace_id, user_id)) or ReportSubscription(
                workspace_id=workspace_id, user_id=user_id, platform=platform, created_at=now
            )
            row.community = community
            s.add(row)
            await s.commit()

    async def unsubscribe(self, workspace_id: str, user_id: str) -> None:
        async with self.db.session() as s:
            row = await s.get(ReportSubscription, (workspace_id, user_id))
            if row is not None:
                await s.delete(row)
                await s.commit()

    async def all(self) -> list[ReportSubscription]:
        async with self.db.session() as s:
            return list(await s.exec(select(ReportSubscription)))
