"""Participation counts: a person's signals per ISO week and community (bot/insight)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import delete
from sqlmodel import col, func, select

from bot.store.engine import Database, dialect_insert, table_of
from bot.store.tables.asks import Question
from bot.store.tables.insight import ParticipationCount
from bot.store.tables.rhythms import Contribution

KEY = ["workspace_id", "user_id", "week", "community", "signal"]
Activity = tuple[str, date, str, int]  # (user, week, community, highest level)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class ParticipationCountRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        workspace_id: str,
        user_id: str,
        *,
        week: date,
        community: str,
        signal: str,
        level: int,
        count: int = 1,
    ) -> None:
        """Add `count` to a week's signal in one upsert: concurrent calls add up."""
        table = table_of(ParticipationCount)
        statement = dialect_insert(self.db.dialect, table).values(
            workspace_id=workspace_id,
            user_id=user_id,
            week=week,
            community=community,
            signal=signal,
            level=level,
            count=count,
        )
        statement = statement.on_conflict_do_update(
            index_elements=KEY, set_={"count": table.c.count + count}
        )
        async with self.db.session() as s:
            await s.exec(statement)
            await s.commit()

    async def purge_before(self, workspace_id: str, week: date) -> None:
        """Forget a workspace's counts of the weeks before `week` (retention)."""
        async with self.db.session() as s:
            await s.exec(
                delete(ParticipationCount).where(
                    col(ParticipationCount.workspace_id) == workspace_id,
                    col(ParticipationCount.week) < week,
                )
            )
            await s.commit()

    async def replied_to(
        self, workspace_id: str, message_id: str | None, channel_id: str, thread_id: str | None
    ) -> Literal["round", "question"] | None:
        """What a reply in a thread answers: a dialogue round (the reply is stored as its
        answer), a durf-te-vragen question (the thread is under it), or neither."""
        async with self.db.session() as s:
            answer = (
                await s.exec(
                    select(Contribution.id).where(
                        Contribution.workspace_id == workspace_id,
                        Contribution.message_id == message_id,
                    )
                )
            ).first()
            if answer is not None:
                return "round"
            question = (
                await s.exec(
                    select(Question.id).where(
                        Question.workspace_id == workspace_id,
                        Question.channel_id == channel_id,
                        Question.message_id == thread_id,
                    )
                )
            ).first()
        return "question" if question is not None else None

    async def asked_by(
        self,
        workspace_id: str,
        user_id: str,
        *,
        in_message: tuple[str, str | None] | None = None,
        since: datetime | None = None,
    ) -> bool:
        """Whether a person asked a durf-te-vragen question by name: the one in the message
        (channel id, message id), or any since a moment."""
        query = select(Question.id).where(
            Question.workspace_id == workspace_id, Question.asker_id == user_id
        )
        if in_message is not None:
            query = query.where(
                Question.channel_id == in_message[0], Question.message_id == in_message[1]
            )
        if since is not None:
            query = query.where(col(Question.created_at) >= since)
        async with self.db.session() as s:
            return (await s.exec(query)).first() is not None

    async def of_person(
        self, workspace_id: str, user_id: str, since: date
    ) -> list[ParticipationCount]:
        """A person's counts from the week `since` on."""
        async with self.db.session() as s:
            return list(
                await s.exec(
                    select(ParticipationCount).where(
                        ParticipationCount.workspace_id == workspace_id,
                        ParticipationCount.user_id == user_id,
                        col(ParticipationCount.week) >= since,
                    )
                )
            )

    async def communities_of(self, workspace_id: str, user_id: str) -> set[str]:
        """The communities (channel ids) where a person has taken part at all."""
        async with self.db.session() as s:
            rows = await s.exec(
                select(ParticipationCount.community)
                .where(
                    ParticipationCount.workspace_id == workspace_id,
                    ParticipationCount.user_id == user_id,
                )
                .distinct()
            )
            return {c for c in rows if c}

    async def first_week(self, workspace_id: str) -> date | None:
        """The first week with any recorded signal in the workspace (None: none yet)."""
        async with self.db.session() as s:
            found = (
                await s.exec(
                    select(func.min(ParticipationCount.week)).where(
                        ParticipationCount.workspace_id == workspace_id
                    )
                )
            ).one()
        return None if found is None else _date(found)

    async def activity(self, workspace_id: str, since: date) -> list[Activity]:
        """(user, week, community, highest level) from the week `since` on."""
        async with self.db.session() as s:
            found = await s.exec(
                select(
                    col(ParticipationCount.user_id),
                    col(ParticipationCount.week),
                    col(ParticipationCount.community),
                    func.max(ParticipationCount.level),
                )
                .where(
                    col(ParticipationCount.workspace_id) == workspace_id,
                    col(ParticipationCount.week) >= since,
                )
                .group_by(
                    col(ParticipationCount.user_id),
                    col(ParticipationCount.week),
                    col(ParticipationCount.community),
                )
            )
            return [(u, _date(w), c, int(lv)) for u, w, c, lv in found]
