"""Levels per period, movement between periods, and the minimum group size (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

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
    transitions,
)
from bot.insight.recording import week_of
from bot.insight.report import OTHER, assemble
from bot.insight.signals import CONSUME, CONTRIBUTE, CREATE, level_of

MON = date(2026, 11, 16)


def test_weeks_start_on_monday_in_utc() -> None:
    assert week_of(datetime(2026, 11, 22, 23, 59, tzinfo=UTC)) == MON  # Sunday night
    assert week_of(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == date(2026, 11, 23)
    assert week_of(date(2026, 11, 18)) == MON


def test_a_week_belongs_to_the_month_of_its_thursday() -> None:
    assert period_key(date(2026, 8, 31), MONTH) == "2026-09"  # Thu 3 Sep
    assert period_key(date(2026, 9, 28), MONTH) == "2026-10"  # Thu 1 Oct
    assert period_key(date(2026, 9, 21), MONTH) == "2026-09"
    assert period_key(MON, WEEK) == "2026-11-16"
    assert period_keys(MON, MONTH, 3) == ["2026-09", "2026-10", "2026-11"]
    assert period_keys(MON, WEEK, 2) == ["2026-11-09", "2026-11-16"]
    assert first_week(["2026-10", "2026-11"], MONTH) == date(2026, 9, 28)
    assert first_week(["2026-09"], MONTH) == date(2026, 8, 31)


def test_the_level_is_the_highest_signal_of_the_period() -> None:
    rows = [
        ("ann", "w1", CONSUME),
        ("ann", "w1", CREATE),
        ("ann", "w1", CONTRIBUTE),
        ("bob", "w1", CONSUME),
        ("bob", "w2", CONTRIBUTE),
    ]
    assert levels_by_period(rows) == {
        "w1": {"ann": CREATE, "bob": CONSUME},
        "w2": {"bob": CONTRIBUTE},
    }
    assert level_of("reaction") == CONTRIBUTE and level_of("home") == CONSUME
    assert level_of("question") == CREATE


def test_distribution_and_funnel() -> None:
    counts = distribution({"a": 1, "b": 1, "c": 1, "d": 2, "e": 3})
    assert counts == LevelCounts(consume=3, contribute=1, create=1)
    assert counts.total == 5 and counts.share(CONSUME) == pytest.approx(0.6)
    assert [counts.at_least(lv) for lv in (CONSUME, CONTRIBUTE, CREATE)] == [5, 2, 1]
    assert LevelCounts().share(CREATE) == 0.0


def test_movement_between_periods() -> None:
    before = {"up": 1, "down": 3, "same": 2, "quiet": 1}
    after = {"up": 2, "down": 1, "same": 2, "new": 3}
    assert movement(before, after) == Movement(up=1, down=1, same=1, new=1, quiet=1)
    assert transitions(before, after) == {(1, 2): 1, (3, 1): 1, (2, 2): 1, (0, 3): 1, (1, 0): 1}
    assert movement({}, {}) == Movement()


def _rows(
    community: str, people: int, level: int = 1, week: date = MON, prefix: str = "u"
) -> list[tuple[str, date, str, int]]:
    return [(f"{prefix}{i}", week, community, level) for i in range(people)]


def _assemble(rows, community=None, min_group=5):  # type: ignore[no-untyped-def]
    names = {"C-big": "#big", "C-a": "#a", "C-b": "#b"}
    return assemble(
        "ws",
        rows,
        names,
        keys=[MON.isoformat()],
        period=WEEK,
        min_group=min_group,
        start=datetime(2026, 11, 16, tzinfo=UTC),
        end=datetime(2026, 11, 19, tzinfo=UTC),
        community=community,
        outcomes=({}, {}),
    )


def test_groups_smaller_than_the_minimum_are_merged_into_other() -> None:
    # #a and #b have 3 people each, one of them in both: "other" holds 5 different people
    rows = (
        _rows("C-big", 6)
        + _rows("C-a", 3, prefix="a")
        + _rows("C-b", 2, prefix="b")
        + [("a0", MON, "C-b", 3)]
    )
    report = _assemble(rows)
    assert [(g.community, g.levels) for g in report.groups] == [
        ("C-big", LevelCounts(consume=6)),
        (OTHER, LevelCounts(consume=4, create=1)),
    ]
    assert report.merged == ["#a", "#b"]
    only_a = _assemble(rows, community="C-a")
    assert only_a.scope == OTHER and only_a.asked_for == "#a"
    assert only_a.periods[0].levels == LevelCounts(consume=4, create=1)


def test_groups_still_too_small_are_not_shown() -> None:
    rows = _rows("C-big", 5) + _rows("C-a", 2, prefix="a")
    report = _assemble(rows)
    assert report.groups[-1] == report.groups[-1].__class__(OTHER, OTHER, None)
    assert report.periods[0].levels == LevelCounts(consume=7)  # the whole workspace
    small = _assemble(_rows("C-big", 4))
    assert small.periods[0].levels is None and small.window is None
    assert _assemble(_rows("C-big", 4), min_group=3).periods[0].levels == LevelCounts(4)


def test_a_person_counts_once_in_the_whole_workspace() -> None:
    rows = [*_rows("C-big", 5), ("u0", MON, "C-a", 3), ("u1", MON, "", 2)]
    assert _assemble(rows).periods[0].levels == LevelCounts(consume=3, contribute=1, create=1)
