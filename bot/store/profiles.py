"""Profile topics: the "ask me about" topics of a person (bot/features/profiles.py)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.store.engine import Database
from bot.store.tables.matching import ProfileTopic


class ProfileRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def topics(self, workspace_id: str, user_id: str) -> list[ProfileTopic]:
        """A person's topics in the order they were added."""
        async with self.db.session() as s:
            return list(
                await s.exec(
                    select(ProfileTopic)
                    .where(
                        ProfileTopic.workspace_id == workspace_id, ProfileTopic.user_id == user_id
                    )
                    .order_by(col(ProfileTopic.id))
                )
            )

    async def topic(self, topic_id: int) -> ProfileTopic | None:
        async with self.db.session() as s:
            return await s.get(ProfileTopic, topic_id)

    async def add(self, topic: ProfileTopic) -> ProfileTopic:
        """Store a topic; returned with its id."""
        async with self.db.session() as s:
            s.add(topic)
            await s.commit()
            await s.refresh(topic)
            return topic

    async def remove(self, topic_id: int) -> bool:
        async with self.db.session() as s:
            stored = await s.get(ProfileTopic, topic_id)
            if stored is None:
                return False
            await s.delete(stored)
            await s.commit()
            return True
