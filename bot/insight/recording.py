"""Recording participation: one upsert per signal into the person's weekly count."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.clock import utc
from bot.insight.signals import level_of
from bot.store.engine import Database
from bot.store.participation_counts import ParticipationCountRepo


def week_of(when: datetime | date) -> date:
    """The Monday (UTC) of the ISO week `when` falls in."""
    day = utc(when).date() if isinstance(when, datetime) else when
    return day - timedelta(days=day.weekday())


async def record(
    db: Database,
    workspace_id: str,
    user_id: str,
    signal: str,
    *,
    when: datetime,
    community: str | None = None,
    count: int = 1,
) -> None:
    """Count one signal (e.g. "reaction") of a person in the week of `when`.

    `community` is the community's channel id, or None for signals outside communities.
    Concurrent calls add up: the count is incremented in the database, not read and written.
    """
    await ParticipationCountRepo(db).add(
        workspace_id,
        user_id,
        week=week_of(when),
        community=community or "",
        signal=signal,
        level=level_of(signal),
        count=count,
    )
