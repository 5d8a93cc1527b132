"""Levels per period and the movement between them: pure functions over weekly counts.

A person's level in a period is the highest level of any signal they gave in it (somebody
who reacted and also read counts as contributing); a person who gave no signal has no
level in that period (0 below), which is not the same as consuming: reading leaves no trace
on most platforms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.insight.signals import CONSUME, CONTRIBUTE, CREATE

WEEK, MONTH = "week", "month"
PERIODS = (WEEK, MONTH)


def period_key(week: date, period: str) -> str:
    """The period a week belongs to: the week itself, or the month of its Thursday (as ISO
    8601 assigns weeks to years), so every week lands in exactly one month."""
    if period == WEEK:
        return week.isoformat()
    thursday = week + timedelta(days=3)
    return f"{thursday.year:04d}-{thursday.month:02d}"


def period_keys(last_week: date, period: str, count: int) -> list[str]:
    """The `count` periods up to and including the one holding `last_week`, oldest first."""
    keys: list[str] = []
    week = last_week
    while len(keys) < count:
        key = period_key(week, period)
        if not keys or keys[-1] != key:
            keys.append(key)
        week -= timedelta(days=7)
    return keys[::-1]


def first_week(keys: list[str], period: str) -> date:
    """The first week (Monday) that belongs to the oldest of `keys`."""
    if period == WEEK:
        return date.fromisoformat(keys[0])
    year, month = (int(x) for x in keys[0].split("-"))
    first = date(year, month, 1)
    # the first Monday whose Thursday is in this month
    monday = first - timedelta(days=first.weekday())
    return monday if (monday + timedelta(days=3)).month == month else monday + timedelta(days=7)


def period_end(key: str, period: str) -> date:
    """The Monday after a period's last week (the period is complete from then on)."""
    if period == WEEK:
        return date.fromisoformat(key) + timedelta(days=7)
    year, month = (int(x) for x in key.split("-"))
    return first_week([f"{year + month // 12:04d}-{month % 12 + 1:02d}"], MONTH)


def levels_by_period(rows: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """(user, period key, level) rows -> period -> user -> highest level."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for user, key, level in rows:
        people = found[key]
        if level > people.get(user, 0):
            people[user] = level
    return dict(found)


@dataclass(frozen=True, slots=True)
class LevelCounts:
    consume: int = 0  # people whose highest level was consume
    contribute: int = 0
    create: int = 0

    @property
    def total(self) -> int:
        return self.consume + self.contribute + self.create

    def share(self, level: int) -> float:
        count = {CONSUME: self.consume, CONTRIBUTE: self.contribute, CREATE: self.create}[level]
        return count / self.total if self.total else 0.0

    def at_least(self, level: int) -> int:
        """The funnel: people who reached at least `level`."""
        return sum(
            n
            for lv, n in (
                (CONSUME, self.consume),
                (CONTRIBUTE, self.contribute),
                (CREATE, self.create),
            )
            if lv >= level
        )


def distribution(levels: Mapping[str, int]) -> LevelCounts:
    counts = {CONSUME: 0, CONTRIBUTE: 0, CREATE: 0}
    for level in levels.values():
        if level in counts:
            counts[level] += 1
    return LevelCounts(counts[CONSUME], counts[CONTRIBUTE], counts[CREATE])


@dataclass(frozen=True, slots=True)
class Movement:
    """How people's levels changed from one period to the next."""

    up: int = 0  # active in both, higher now
    down: int = 0  # active in both, lower now
    same: int = 0  # active in both, same level
    new: int = 0  # no signal before, active now
    quiet: int = 0  # active before, no signal now

    @property
    def total(self) -> int:
        return self.up + self.down + self.same + self.new + self.quiet


def movement(before: Mapping[str, int], after: Mapping[str, int]) -> Movement:
    up = down = same = new = quiet = 0
    for user in before.keys() | after.keys():
        a, b = before.get(user, 0), after.get(user, 0)
        if a == 0:
            new += 1
        elif b == 0:
            quiet += 1
        elif b > a:
            up += 1
        elif b < a:
            down += 1
        else:
            same += 1
    return Movement(up, down, same, new, quiet)


def transitions(before: Mapping[str, int], after: Mapping[str, int]) -> dict[tuple[int, int], int]:
    """(from level, to level) -> people, with 0 for "no signal"; for the movement matrix."""
    found: dict[tuple[int, int], int] = defaultdict(int)
    for user in before.keys() | after.keys():
        found[(before.get(user, 0), after.get(user, 0))] += 1
    return dict(found)
