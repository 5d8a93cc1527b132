"""A person's own participation: the only per-person view, shown to that person alone."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.insight.recording import week_of
from bot.store.engine import Database
from bot.store.participation_counts import ParticipationCountRepo


@dataclass
class MyWeek:
    week: date
    level: int = 0  # 0: no signal that week
    signals: dict[str, int] = field(default_factory=dict)


async def my_weeks(
    db: Database, workspace_id: str, user_id: str, now: datetime, weeks: int = 8
) -> list[MyWeek]:
    """The person's last `weeks` weeks, oldest first, with the signals behind each level."""
    last = week_of(now)
    first = last - timedelta(weeks=weeks - 1)
    found: dict[date, MyWeek] = {
        first + timedelta(weeks=i): MyWeek(first + timedelta(weeks=i)) for i in range(weeks)
    }
    totals: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in await ParticipationCountRepo(db).of_person(workspace_id, user_id, first):
        week = found.get(row.week)
        if week is None:
            continue
        week.level = max(week.level, row.level)
        totals[row.week][row.signal] += row.count
    for week_start, signals in totals.items():
        found[week_start].signals = dict(signals)
    return [found[k] for k in sorted(found)]


async def communities_of(db: Database, workspace_id: str, user_id: str) -> set[str]:
    """The communities (channel ids) where a person has taken part at all."""
    return await ParticipationCountRepo(db).communities_of(workspace_id, user_id)
