"""Every figure of the report on a generated organisation of 2,000 people over 12 weeks,
compared with the generator's own tally."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import build
from bot.clock import FakeClock
from bot.insight.levels import MONTH, distribution, movement
from bot.insight.render import summary, to_csv, to_json
from bot.insight.report import OTHER, build_report
from bot.runtime import Wolbot
from tests.conftest import make_settings
from tests.insight.org import SETTINGS, WS, Org, generate


@pytest.fixture(scope="module")
def org_db(tmp_path_factory, sqlite_template) -> str:  # type: ignore[no-untyped-def]
    import asyncio
    import shutil

    path = tmp_path_factory.mktemp("org") / "org.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    core = build(make_settings(url, **SETTINGS))
    org = asyncio.run(_generate(core))
    pytest.org = org  # type: ignore[attr-defined]
    return url


async def _generate(core: Wolbot) -> Org:
    try:
        return await generate(core.db)
    finally:
        await core.db.dispose()


@pytest.fixture
async def org_core(org_db: str) -> AsyncIterator[tuple[Wolbot, Org]]:
    org: Org = pytest.org  # type: ignore[attr-defined]
    core = build(make_settings(org_db, **SETTINGS), clock=FakeClock(org.now))
    yield core, org
    await core.stop()


async def test_levels_per_week_match_the_generated_people(org_core) -> None:
    core, org = org_core
    report = await build_report(core, WS)
    assert [p.key for p in report.periods] == [w.isoformat() for w in org.weeks]
    for row, week in zip(report.periods, org.weeks, strict=True):
        assert row.levels == distribution(org.levels[week])
    for i in range(1, len(org.weeks)):
        expected = movement(org.levels[org.weeks[i - 1]], org.levels[org.weeks[i]])
        assert report.periods[i].movement == expected
    latest = report.periods[-1].levels
    assert latest is not None and latest.total > 900
    assert latest.consume > latest.contribute > latest.create > 0  # the 3C shape


async def test_people_move_up_halfway(org_core) -> None:
    core, org = org_core
    report = await build_report(core, WS)
    half = len(org.weeks) // 2
    ups = [p.movement.up for p in report.periods[1:]]
    assert ups[half - 1] > max(ups[: half - 2]) * 1.5  # the climbers' week stands out


async def test_small_communities_are_merged_into_other(org_core) -> None:
    core, _org = org_core
    report = await build_report(core, WS)
    names = [g.name for g in report.groups]
    assert names == ["#durf-te-vragen", "#learning", "#working-out-loud", OTHER]
    assert report.merged == ["#tiny"]
    other = report.groups[-1]
    assert other.levels is None  # "other" itself is smaller than 5: not shown
    tiny = await build_report(core, WS, community="C-tiny")
    assert tiny.scope == OTHER and tiny.asked_for == "#tiny"
    assert all(p.levels is None for p in tiny.periods)
    text = summary(tiny, core.i18n.get("en")).plain_text()
    assert "#tiny has fewer than 5 active people" in text
    assert "U0" not in text


async def test_a_community_report_counts_only_that_community(org_core) -> None:
    core, org = org_core
    report = await build_report(core, WS, community="C-learn")
    for row, week in zip(report.periods, org.weeks, strict=True):
        assert row.levels == distribution(org.community_levels["C-learn"].get(week, {}))
    assert report.outcomes["rounds"] == org.expected["rounds"]
    assert report.outcomes["narrations"] == org.expected["narrations_in"]["C-learn"]
    assert report.outcomes["questions"] in (None, 0)  # questions were asked elsewhere


async def test_each_outcome_figure(org_core) -> None:
    core, org = org_core
    report = await build_report(core, WS)
    for name, value in org.expected.items():
        if name in ("start", "narrations_in"):
            continue
        assert report.outcomes[name] == value, name
    assert sum(report.trend["narrations"]) == org.expected["narrations"]
    assert sum(report.trend["round_answers"]) == org.expected["round_answers"]


async def test_monthly_periods_and_exports(org_core) -> None:
    core, org = org_core
    report = await build_report(core, WS, period=MONTH, count=3)
    assert [p.key for p in report.periods] == ["2026-09", "2026-10", "2026-11"]
    months: dict[str, dict[str, int]] = {}
    for week in org.weeks:
        key = (week + timedelta(days=3)).isoformat()[:7]  # the month of the week's Thursday
        for user, level in org.levels[week].items():
            months.setdefault(key, {})
            months[key][user] = max(months[key].get(user, 0), level)
    assert set(months) <= {p.key for p in report.periods} | {"2026-08"}
    for row in report.periods:
        if row.key in months:
            assert row.levels == distribution(months[row.key])
    csv_text = to_csv(report)
    assert csv_text.splitlines()[0] == "section,group,period,measure,value"
    assert "outcome,workspace" in csv_text and "U0" not in csv_text
    assert '"period": "month"' in to_json(report)


async def test_dashboard_lists_rounds_and_the_question_queue(org_core) -> None:
    from bot.insight.pages import question_queue, recent_rounds
    from bot.insight.report import community_names

    core, org = org_core
    names = await community_names(core, WS)
    rounds = await recent_rounds(core, WS, names, limit=100)
    assert len(rounds) == org.expected["rounds"]
    assert sum(r.answers for r in rounds) == org.expected["round_answers"]
    assert rounds[0].posted_at > rounds[-1].posted_at and rounds[0].community == "#learning"
    assert all(len(r.top_answers) == min(3, r.answers) for r in rounds)
    queue = await question_queue(core, WS, names, limit=500)
    assert queue is not None
    share_acked = org.expected["questions_acknowledged"]
    assert len(queue.unacknowledged) == round(org.expected["questions"] * (1 - share_acked))
    assert all(not q.acknowledged for q in queue.unacknowledged)
    assert all(not q.answered for q in queue.unanswered)
