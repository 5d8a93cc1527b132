"""The report: 3C distribution per period and its movement, per community, and outcomes.

Everything here is an aggregate. A community with fewer active people than the minimum
group size in the report's window is merged into "other" (people active in several merged
communities count once there); a period or group that is still smaller is not shown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from bot.insight.levels import (
    MONTH,
    WEEK,
    LevelCounts,
    Movement,
    distribution,
    first_week,
    levels_by_period,
    movement,
    period_key,
    period_keys,
)
from bot.insight.outcomes import collect
from bot.insight.recording import week_of
from bot.store.outcomes import Scope

if TYPE_CHECKING:
    from bot.services import Services

OTHER = "other"
DEFAULT_PERIODS = {WEEK: 12, MONTH: 6}
DEFAULT_MIN_GROUP = 5


@dataclass(frozen=True)
class PeriodRow:
    key: str  # "2026-11-16" (a week's Monday) or "2026-11" (a month)
    levels: LevelCounts | None  # None: fewer active people than the minimum group size
    movement: Movement | None  # from the period before; None for the first or when too small


@dataclass(frozen=True)
class GroupRow:
    community: str  # a channel id, or OTHER
    name: str
    levels: LevelCounts | None  # over the whole window; None when too small (only "other")


@dataclass
class Report:
    workspace_id: str
    period: str
    scope: str | None  # None (whole workspace), a community's channel id, or OTHER
    scope_name: str | None
    min_group: int
    start: datetime
    end: datetime
    periods: list[PeriodRow]
    groups: list[GroupRow]
    merged: list[str]  # names of the communities merged into "other"
    outcomes: dict[str, int | float | None]
    trend: dict[str, list[int]]  # outcome name -> count per period (same order as periods)
    window: LevelCounts | None = None  # levels over the whole window, for the scope
    asked_for: str | None = None  # the community asked for, when it was merged into "other"

    @property
    def latest(self) -> PeriodRow | None:
        return self.periods[-1] if self.periods else None

    @property
    def current_key(self) -> str:
        """The latest period's key, or the running period's when there is no period yet."""
        return self.latest.key if self.latest else period_key(week_of(self.end), self.period)

    @property
    def previous(self) -> PeriodRow | None:
        return self.periods[-2] if len(self.periods) > 1 else None

    @property
    def suppressed_periods(self) -> int:
        """Periods with some activity but fewer active people than the minimum group."""
        return sum(1 for p in self.periods if p.levels is None)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data


def _suppressed(counts: LevelCounts, min_group: int) -> LevelCounts | None:
    return counts if counts.total >= min_group else None


def _moved(m: Movement, min_group: int) -> Movement | None:
    return m if m.total >= min_group else None


async def community_names(services: Services, workspace_id: str) -> dict[str, str]:
    """Channel id -> a readable name ("#name"), for every community of the workspace."""
    from bot.communities import communities

    known = {c.channel_id: c.name for c in await services.directory.channels(workspace_id)}
    return {
        c.channel_id: f"#{known.get(c.channel_id) or c.channel_id}"
        for c in await communities(services)
        if c.workspace_id == workspace_id
    }


def resolve_community(names: dict[str, str], wanted: str) -> str | None:
    """A channel id from what someone typed: "#general", "general", "C0123", "<#C0123|x>"."""
    text = wanted.strip().strip("<>").split("|")[0].lstrip("#").lower()
    for channel_id, name in names.items():
        if text in (channel_id.lower(), name.lstrip("#").lower()):
            return channel_id
    return None


async def build_report(
    services: Services,
    workspace_id: str,
    *,
    community: str | None = None,
    period: str = WEEK,
    count: int | None = None,
    now: datetime | None = None,
) -> Report:
    now = now or services.clock.now()
    count = count or DEFAULT_PERIODS[period]
    min_group = int(
        await services.config.value(workspace_id, "insight.min_group") or DEFAULT_MIN_GROUP
    )
    keys = period_keys(week_of(now), period, count)
    first = await first_activity(services, workspace_id)
    # No periods before the workspace's first activity: they would only say "nothing".
    keys = [k for k in keys if first is not None and k >= period_key(first, period)]
    start_week = first_week(keys, period) if keys else week_of(now)
    start = datetime.combine(start_week, time(), tzinfo=UTC)
    names = await community_names(services, workspace_id)
    rows = await services.participation_counts.activity(workspace_id, start_week)
    return assemble(
        workspace_id,
        rows,
        names,
        keys=keys,
        period=period,
        min_group=min_group,
        start=start,
        end=now,
        community=community,
        outcomes=await _outcomes(
            services,
            workspace_id,
            start,
            now,
            keys,
            period,
            _channels(rows, names, min_group, community),
        ),
    )


async def first_activity(services: Services, workspace_id: str) -> date | None:
    """The first week with any recorded signal in the workspace (None: none yet)."""
    return await services.participation_counts.first_week(workspace_id)


def groups_of(
    rows: list[tuple[str, date, str, int]], names: dict[str, str], min_group: int
) -> tuple[list[str], list[str]]:
    """(communities large enough to show on their own, communities merged into "other")."""
    people: dict[str, set[str]] = {c: set() for c in names}
    for user, _, community, _ in rows:
        if community:
            people.setdefault(community, set()).add(user)
    kept = sorted(
        (c for c, p in people.items() if len(p) >= min_group), key=lambda c: names.get(c, c)
    )
    merged = sorted(
        (c for c, p in people.items() if len(p) < min_group), key=lambda c: names.get(c, c)
    )
    return kept, merged


def _channels(
    rows: list[tuple[str, date, str, int]],
    names: dict[str, str],
    min_group: int,
    community: str | None,
) -> frozenset[str] | None:
    if community is None:
        return None
    kept, merged = groups_of(rows, names, min_group)
    return frozenset([community]) if community in kept else frozenset(merged)


async def _outcomes(
    services: Services,
    workspace_id: str,
    start: datetime,
    end: datetime,
    keys: list[str],
    period: str,
    channels: frozenset[str] | None,
) -> tuple[dict[str, int | float | None], dict[str, list[int]]]:
    found = collect(
        await services.outcome_queries.rows(
            Scope(workspace_id, start, end + timedelta(seconds=1), channels)
        )
    )
    index = {k: i for i, k in enumerate(keys)}
    trend: dict[str, list[int]] = {}
    for name, times in found.times.items():
        series = [0] * len(keys)
        for t in times:
            i = index.get(period_key(week_of(t), period))
            if i is not None:
                series[i] += 1
        trend[name] = series
    return found.figures, trend


def assemble(
    workspace_id: str,
    rows: list[tuple[str, date, str, int]],
    names: dict[str, str],
    *,
    keys: list[str],
    period: str,
    min_group: int,
    start: datetime,
    end: datetime,
    community: str | None,
    outcomes: tuple[dict[str, int | float | None], dict[str, list[int]]],
) -> Report:
    """The report from activity rows (pure; `build_report` does the reading)."""
    kept, merged = groups_of(rows, names, min_group)
    scope: str | None = None
    asked_for = None
    if community is not None:
        scope = community if community in kept else OTHER
        if scope == OTHER and community not in merged and community != OTHER:
            merged = [*merged, community]
        if scope == OTHER and community != OTHER:
            asked_for = names.get(community, community)
    members = {scope} if scope not in (None, OTHER) else set(merged) if scope == OTHER else None

    by_period = levels_by_period(
        (u, period_key(w, period), lv) for u, w, c, lv in rows if members is None or c in members
    )
    periods: list[PeriodRow] = []
    previous: dict[str, int] | None = None
    for key in keys:
        levels = by_period.get(key, {})
        moved = _moved(movement(previous, levels), min_group) if previous is not None else None
        periods.append(PeriodRow(key, _suppressed(distribution(levels), min_group), moved))
        previous = levels

    group_rows = [GroupRow(c, names.get(c, c), _window_levels(rows, {c}, min_group)) for c in kept]
    if merged:
        group_rows.append(GroupRow(OTHER, OTHER, _window_levels(rows, set(merged), min_group)))
    return Report(
        workspace_id=workspace_id,
        period=period,
        scope=scope,
        scope_name=names.get(scope, scope) if scope else None,
        min_group=min_group,
        start=start,
        end=end,
        periods=periods,
        groups=group_rows,
        merged=[names.get(c, c) for c in merged],
        outcomes=outcomes[0],
        trend=outcomes[1],
        window=_window_levels(rows, members, min_group),
        asked_for=asked_for,
    )


def _window_levels(
    rows: list[tuple[str, date, str, int]], members: set[str] | None, min_group: int
) -> LevelCounts | None:
    best: dict[str, int] = {}
    for user, _, community, level in rows:
        if (members is None or community in members) and level > best.get(user, 0):
            best[user] = level
    return _suppressed(distribution(best), min_group)
