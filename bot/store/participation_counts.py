"""Participation counts: a person's signals per ISO week and community (bot/insight)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, func, select

from bot.store.engine import Database, dialect_insert
from bot.store.tables.insight import ParticipationCount

KEY = ["workspace_id", "user_id", "week", "community", "signal"]
Activity = tuple[str, date, str, int]  # (user, week, community, highest level)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class ParticipationCountRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, workspace_id: str, user_id: str, *, week: date, community: str,
                  signal: str, level: int, count: int = 1) -> None:
        """Add `count` to a week's signal in one upsert: concurrent calls add up."""
        table: Any = ParticipationCount.__table__  # type: ignore[attr-defined]
        statement = dialect_insert(self.db.dialect, table).values(
            workspace_id=workspace_id, user_id=user_id, week=week, community=community,
            signal=signal, level=level, count=count)
        statement = statement.on_conflict_do_update(
            index_elements=KEY, set_={"count": table.c.count + count})
        async with self.db.session() as s:
            await s.exec(statement)
            await s.commit()

    async def of_person(self, workspace_id: str, user_id: str,
                        since: date) -> list[ParticipationCount]:
        """A person's counts from the week `since` on."""
        async with self.db.session() as s:
            return list(await s.exec(select(ParticipationCount).where(
                ParticipationCount.workspace_id == workspace_id,
                ParticipationCount.user_id == user_id,
                col(ParticipationCount.week) >= since)))

    async def communities_of(self, workspace_id: str, user_id: str) -> set[str]:
        """The communities (channel ids) where a person has taken part at all."""
        async with self.db.session() as s:
            rows = await s.exec(select(ParticipationCount.community).where(
                ParticipationCount.workspace_id == workspace_id,
                ParticipationCount.user_id == user_id).distinct())
            return {c for c in rows if c}

    async def first_week(self, workspace_id: str) -> date | None:
        """The first week with any recorded signal in the workspace (None: none yet)."""
        async with self.db.session() as s:
            found = (await s.exec(select(func.min(ParticipationCount.week)).where(
                ParticipationCount.workspace_id == workspace_id))).one()
        return None if found is None else _date(found)

    async def activity(self, workspace_id: str, since: date) -> list[Activity]:
        """(user, week, community, highest level) from the week `since` on."""
        async with self.db.session() as s:
            found = await s.exec(
                select(ParticipationCount.user_id, ParticipationCount.week,
                       ParticipationCount.community, func.max(ParticipationCount.level))
                .where(ParticipationCount.workspace_id == workspace_id,
                       col(ParticipationCount.week) >= since)
                .group_by(ParticipationCount.user_id, ParticipationCount.week,
                          ParticipationCount.community))
            return [(u, _date(w), c, int(lv)) for u, w, c, lv in found]
