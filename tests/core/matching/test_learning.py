"""Learning from the people: "Not relevant" and an introduction that did not help lower a
pairing, "Connect me", a helpful introduction and "I've done this" raise it, each bounded;
the admin's figures count the suggestions acted on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.clock import FakeClock
from bot.insight.outcomes import matching
from bot.matching.ranking import MatchPolicy
from bot.runtime import Wolbot
from bot.store.outcomes import OutcomeQueries, Scope
from bot.store.tables.matching import Connection, MatchSuggestion
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort


def test_feedback_is_bounded_both_ways() -> None:
    policy = MatchPolicy()
    assert policy.feedback(1, 0) == 0.15
    assert policy.feedback(10, 0) == 0.45  # never more than this lower
    assert policy.feedback(0, 1) == -0.05
    assert policy.feedback(0, 10) == -0.1  # never more than this higher
    assert policy.feedback(1, 1) == pytest.approx(0.1)


async def test_signals_reach_the_engine_and_the_figures(
    core: Wolbot, port: RecordingPort, clock: FakeClock
) -> None:
    for user, text in [
        ("alice", "I'm working on moving our CI from Jenkins to GitHub Actions"),
        ("bob", "I'm working on replacing our Jenkins build server with GitHub Actions"),
    ]:
        await core.handle(ev.message(text, user=user))
        await core.delivery.drain()
    async with core.db.session() as s:
        [row] = list(await s.exec(select(MatchSuggestion)))
    await core.handle(ev.click("matching.connect", str(row.id), user="bob"))
    await core.delivery.drain()
    store = core_engine_store(core)
    _, rejected, liked = await store.filters(
        ev.WORKSPACE,
        "bob",
        clock.now(),
        window=timedelta(days=7),
        per_person=3,
        pair_window=timedelta(days=30),
    )
    assert liked["alice"] == 1 and not rejected  # Connect me; the introduction is unrated
    async with core.db.session() as s:
        [conn] = list(await s.exec(select(Connection)))
        conn.helped = "no"
        s.add(conn)
        await s.commit()
    _, rejected, liked = await store.filters(
        ev.WORKSPACE,
        "bob",
        clock.now(),
        window=timedelta(days=7),
        per_person=3,
        pair_window=timedelta(days=30),
    )
    assert rejected["alice"] == 1 and liked["alice"] == 1
    found = matching(
        await OutcomeQueries(core.db).rows(
            Scope(ev.WORKSPACE, clock.now() - timedelta(days=1), clock.now() + timedelta(days=1))
        )
    )
    assert found.figures["suggestions"] == 1
    assert found.figures["suggestions_acted_on"] == 1
    assert found.figures["suggestions_dismissed"] == 0


def core_engine_store(core: Wolbot):  # type: ignore[no-untyped-def]
    from bot.store.matching import MatchingStore

    return MatchingStore(core.db)
