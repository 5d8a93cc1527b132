"""Participation counts: a person's signals per ISO week and community (bot/insight).

Every signal is counted in `participation_count`, except narrations: a narration is counted
by its own row (`narration.community`, set when it is stored: the community it was told in,
"" for none), so recording one is one INSERT. The readers here add the two up, so the figures
are those of one table. A narration row leaves its count behind in `participation_count`
when it goes (its message deleted, the retention purge), and narrations of purged weeks stop
counting with them (`purge_before`). Rows with `community` None (stored before this, or by a
bot without the participation feature) were counted in `participation_count` or not at all.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import ColumnElement, Date, cast, delete, literal, union_all, update
from sqlalchemy import select as sa_select
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.engine import Database, dialect_insert, table_of
from bot.store.tables.asks import Question
from bot.store.tables.core import Narration
from bot.store.tables.insight import ParticipationCount
from bot.store.tables.rhythms import Contribution

KEY = ["workspace_id", "user_id", "week", "community", "signal"]
Activity = tuple[str, date, str, int]  # (user, week, community, highest level)
# A narration's signal and its level (bot.insight.signals: CREATE; a test holds them equal).
NARRATION_SIGNAL, NARRATION_LEVEL = "narration", 3


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def week_start(dialect: str, column: Any) -> ColumnElement[Any]:
    """The Monday (UTC) of the ISO week of a timestamp column, as a date."""
    if dialect == "postgresql":
        return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)
    # SQLite keeps UTC timestamps as text ("2026-11-15 23:59:59.999999"): its day (whole:
    # date() would round such a time up to the next day), six days back, on to a Monday
    return func.date(func.substr(column, 1, 10), "-6 days", "weekday 1")


def counted_narrations(dialect: str, workspace_id: str, *where: Any) -> Any:
    """A workspace's narrations that count, one row each: (user_id, week, community)."""
    n = Narration
    return (
        sa_select(
            col(n.author_id).label("user_id"),
            week_start(dialect, col(n.created_at)).label("week"),
            col(n.community).label("community"),
        )
        .where(col(n.workspace_id) == workspace_id, col(n.community).is_not(None), *where)
        .subquery("counted")
    )


def narration_counts(dialect: str, workspace_id: str, *where: Any) -> Any:
    """The counts narrations give, in `participation_count`'s columns (no workspace)."""
    c = counted_narrations(dialect, workspace_id, *where).c
    return sa_select(
        c.user_id,
        c.week,
        c.community,
        literal(NARRATION_SIGNAL).label("signal"),
        literal(NARRATION_LEVEL).label("level"),
        func.count().label("count"),
    ).group_by(c.user_id, c.week, c.community)


async def fold_narrations(s: AsyncSession, dialect: str, workspace_id: str, *where: Any) -> None:
    """Before narrations are deleted: add the counts they give to `participation_count` (in
    the caller's transaction), so the figures stay as they were."""
    table = table_of(ParticipationCount)
    counts = narration_counts(dialect, workspace_id, *where).subquery("counts")
    rows = sa_select(
        literal(workspace_id),
        counts.c.user_id,
        counts.c.week,
        counts.c.community,
        counts.c.signal,
        counts.c.level,
        counts.c.count,
    ).where(counts.c.count > 0)
    statement = dialect_insert(dialect, table).from_select(
        ["workspace_id", "user_id", "week", "community", "signal", "level", "count"], rows
    )
    statement = statement.on_conflict_do_update(
        index_elements=KEY, set_={"count": table.c.count + statement.excluded.count}
    )
    await s.exec(statement)


async def participation_rows(
    s: AsyncSession,
    dialect: str,
    workspace_id: str,
    *,
    user_id: str | None = None,
    since: date | None = None,
) -> list[ParticipationCount]:
    """Counts (narrations' included) of a workspace, or of one person, from the week `since`
    on, read in the caller's session; a key may come twice (counted in `participation_count`
    before narrations counted themselves, and by the narrations): add them up."""
    p, n = ParticipationCount, Narration
    stored = sa_select(
        col(p.user_id), col(p.week), col(p.community), col(p.signal), col(p.level), col(p.count)
    ).where(col(p.workspace_id) == workspace_id)
    narrations: list[Any] = []
    if user_id is not None:
        stored = stored.where(col(p.user_id) == user_id)
        narrations.append(col(n.author_id) == user_id)
    if since is not None:
        stored = stored.where(col(p.week) >= since)
        narrations.append(col(n.created_at) >= datetime.combine(since, time(), tzinfo=UTC))
    query = union_all(stored, narration_counts(dialect, workspace_id, *narrations))
    conn = await s.connection()
    return [
        ParticipationCount(
            workspace_id=workspace_id,
            user_id=user,
            week=_date(week),
            community=community,
            signal=signal,
            level=int(level),
            count=int(count),
        )
        for user, week, community, signal, level, count in (await conn.execute(query)).all()
    ]


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
        """Forget a workspace's counts of the weeks before `week` (retention), those of
        narrations included (their rows stay until their own retention purge)."""
        async with self.db.session() as s:
            await s.exec(
                delete(ParticipationCount).where(
                    col(ParticipationCount.workspace_id) == workspace_id,
                    col(ParticipationCount.week) < week,
                )
            )
            await s.exec(
                update(Narration)
                .where(
                    col(Narration.workspace_id) == workspace_id,
                    col(Narration.community).is_not(None),
                    col(Narration.created_at) < datetime.combine(week, time(), tzinfo=UTC),
                )
                .values(community=None)
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

    async def rows(
        self, workspace_id: str, *, user_id: str | None = None, since: date | None = None
    ) -> list[ParticipationCount]:
        """Counts (narrations' included): see `participation_rows`."""
        async with self.db.session() as s:
            return await participation_rows(
                s, self.db.dialect, workspace_id, user_id=user_id, since=since
            )

    async def of_person(
        self, workspace_id: str, user_id: str, since: date
    ) -> list[ParticipationCount]:
        """A person's counts from the week `since` on."""
        return await self.rows(workspace_id, user_id=user_id, since=since)

    async def communities_of(self, workspace_id: str, user_id: str) -> set[str]:
        """The communities (channel ids) where a person has taken part at all."""
        return {r.community for r in await self.rows(workspace_id, user_id=user_id) if r.community}

    async def first_week(self, workspace_id: str) -> date | None:
        """The first week with any recorded signal in the workspace (None: none yet)."""
        weeks = union_all(
            sa_select(func.min(ParticipationCount.week).label("week")).where(
                col(ParticipationCount.workspace_id) == workspace_id
            ),
            sa_select(
                func.min(counted_narrations(self.db.dialect, workspace_id).c.week).label("week")
            ),
        )
        async with self.db.session() as s:
            conn = await s.connection()
            found = [_date(w) for (w,) in (await conn.execute(weeks)).all() if w is not None]
        return min(found, default=None)

    async def activity(self, workspace_id: str, since: date) -> list[Activity]:
        """(user, week, community, highest level) from the week `since` on."""
        p = ParticipationCount
        stored = (
            sa_select(col(p.user_id), col(p.week), col(p.community), func.max(p.level))
            .where(col(p.workspace_id) == workspace_id, col(p.week) >= since)
            .group_by(col(p.user_id), col(p.week), col(p.community))
        )
        c = counted_narrations(
            self.db.dialect,
            workspace_id,
            col(Narration.created_at) >= datetime.combine(since, time(), tzinfo=UTC),
        ).c
        narrations = sa_select(
            c.user_id, c.week, c.community, literal(NARRATION_LEVEL).label("level")
        ).distinct()
        highest: dict[tuple[str, date, str], int] = {}
        async with self.db.session() as s:
            conn = await s.connection()
            for user, week, community, level in (
                await conn.execute(union_all(stored, narrations))
            ).all():
                key = (user, _date(week), community)
                highest[key] = max(highest.get(key, 0), int(level))
        return [(u, w, c, level) for (u, w, c), level in highest.items()]
