"""Rhythms with a controllable clock: rounds once per occurrence, summaries, check-ins at
local time across DST changes, public holidays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from bot.events import Action, EventKind
from bot.features.checkins import run_checkins
from bot.ports import PersonInfo
from bot.store.tables import Narration
from bot.store.tables.rhythms import Contribution, DialogueRound
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

WS = ev.WORKSPACE
COMMUNITY = {
    "workspaces": {
        WS: {
            "admins": ["alice"],
            "timezone": "Europe/Amsterdam",
            "channels": {
                "C1": {
                    "kind": "dialogue",
                    "rhythm": "0 10 * * tue",
                    "timezone": "Europe/Amsterdam",
                    "language": "en",
                }
            },
        }
    }
}
TUESDAY_10_AMS = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


async def rounds_posted(core) -> int:
    async with core.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(DialogueRound))).one())


async def started(make_core, port, **settings):
    core = make_core(port, **(settings or COMMUNITY))
    await core.start(deliver=False, schedule=False)
    return core


async def test_a_round_is_posted_once_across_a_restart(make_core, port, clock) -> None:
    clock.set(TUESDAY_10_AMS)
    first = await started(make_core, port)
    ran = [j for j, _ in await first.scheduler.run_due(clock.now())]
    assert ran.count("round:test:T1:C1") == 1
    await first.delivery.drain()
    await first.stop()
    second = await started(make_core, port)  # the "restart"
    assert "round:test:T1:C1" not in [j for j, _ in await second.scheduler.run_due(clock.now())]
    await second.delivery.drain()
    questions = [
        r
        for r in port.sent()
        if "Question for this round" in r.text or "Statement for this round" in r.text
    ]
    assert len(questions) == 1 and await rounds_posted(second) == 1
    assert questions[0].dest.channel_id == "C1" and questions[0].dest.thread_id is None


async def test_two_schedulers_on_one_database_post_once(make_core, clock) -> None:
    clock.set(TUESDAY_10_AMS.replace(minute=20))  # within the grace period: caught up
    port_a, port_b = RecordingPort(), RecordingPort()
    a, b = await started(make_core, port_a), await started(make_core, port_b)
    ran = await asyncio.gather(a.scheduler.run_due(clock.now()), b.scheduler.run_due(clock.now()))
    assert sorted([j for j, _ in r].count("round:test:T1:C1") for r in ran) == [0, 1]
    await asyncio.gather(a.delivery.drain(), b.delivery.drain())
    assert len(port_a.sent()) + len(port_b.sent()) == 1
    assert await rounds_posted(a) == 1


async def test_next_round_closes_the_last_with_a_summary_of_the_most_reacted(
    make_core, port, clock
) -> None:
    clock.set(TUESDAY_10_AMS)
    core = await started(make_core, port)
    await core.scheduler.run_due(clock.now())
    await core.delivery.drain()
    question = port.sent()[0]
    answers = {
        "ann": "We moved the stand-up to the afternoon.",
        "bob": "Pairing with the data team on the dashboards taught me SQL.",
        "cem": "A patient showed me how confusing our letter was.",
    }
    for i, (user, text) in enumerate(answers.items()):
        await core.handle(
            ev.message(
                text, user=user, channel="C1", thread_id=question.message_id, message_id=f"a{i}"
            )
        )
    for voter, target in (("dan", "a1"), ("eve", "a1"), ("ann", "a2"), ("bob", "a1")):
        await core.handle(
            ev.message(
                "",
                user=voter,
                channel="C1",
                event_kind=EventKind.REACTION_ADDED,
                action=Action(action_id="reaction", value="+1", message_id=target),
            )
        )
    async with core.db.session() as s:
        rows = await s.exec(select(Contribution.author_id, Contribution.reactions))
        counts = {author: n for author, n in rows.all()}
    assert counts == {"ann": 0, "bob": 2, "cem": 1}  # bob's own reaction does not count
    clock.set(datetime(2026, 1, 13, 9, 0, tzinfo=UTC))
    await core.scheduler.run_due(clock.now())
    await core.delivery.drain()
    summaries = [r for r in port.sent() if "Round closed" in r.text]
    assert [(s.dest.thread_id, s.message.broadcast) for s in summaries] == [
        (question.message_id, True)
    ]  # one summary, in the thread and shown in the channel
    quotes = [b for b in summaries[0].message.blocks if b.type == "quote"]
    assert [q.author.user_id for q in quotes] == ["bob", "cem"]  # ann's got no reactions
    assert "3 colleagues answered." in summaries[0].text
    assert "Read along without answering?" in summaries[0].text
    assert await rounds_posted(core) == 2  # and the next question went out


async def test_questions_do_not_repeat_until_the_set_is_exhausted(make_core, port, clock) -> None:
    core = await started(make_core, port)
    community_ = (
        await __import__("bot.communities", fromlist=["communities"]).communities(
            core, kind="dialogue"
        )
    )[0]
    from bot.features.rounds import post_round, prompt_candidates

    total = len(await prompt_candidates(core, community_))
    asked = []
    for i in range(total + 1):
        row = await post_round(core, community_, f"manual:{i}", clock.now(), manual=True)
        asked.append((row.prompt_id, row.cycle))
    first_cycle = [p for p, c in asked if c == 0]
    assert len(first_cycle) == total == len(set(first_cycle))
    assert asked[-1] == (asked[0][0], 1)


async def test_admin_round_commands(make_core, port, clock) -> None:
    core = await started(make_core, port)

    async def say(text, user="alice"):
        await core.handle(ev.command(text, user=user, channel="C1"))
        await core.delivery.drain()
        return port.sent()[-1].text

    assert "rhythm every Tuesday at 10:00," in await say("round status")
    assert "will be the next question" in await say("round pin gen-003")
    assert "Posted the next question" in await say("round now")
    async with core.db.session() as s:
        assert (await s.exec(select(DialogueRound.prompt_id))).one() == "gen-003"
    assert "summary is on its way" in await say("round close")
    assert "There is no open round" in await say("round close")
    assert "Added to the questions" in await say("round add What surprised you this week?")
    assert "What surprised you this week?" in await say("round list")
    assert "will be skipped" in await say("round skip")
    clock.set(TUESDAY_10_AMS)
    await core.scheduler.run_due(clock.now())
    assert await rounds_posted(core) == 1  # the scheduled round was skipped
    assert "Only wolbot admins" in await say("round now", user="bob")
    assert "is not a dialogue community" in await say("round now #C5")


# -- check-ins ----------------------------------------------------------------------------------
CHECKINS = {
    "workspaces": {
        WS: {"defaults": {"checkins": True}, "checkins": {"days": "mon", "time": "10:00"}}
    }
}


async def people(core, *specs) -> None:
    await core.directory.ensure_workspace(WS, "test")
    for user_id, zone, country in specs:
        await core.directory.remember_person(
            WS, PersonInfo(user_id, user_id, timezone=zone), core.clock.now()
        )
        if country:
            await core.personal.update(WS, user_id, core.clock.now(), country=country)


async def checkins_between(core, port, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """Run the five-minute job from start to end; (user, UTC time) of each check-in sent."""
    sent = []
    now = start
    while now <= end:
        core.clock.set(now)
        before = len(port.sent())
        await core.scheduler.run_due(now)
        await core.delivery.drain()
        sent += [
            (r.dest.channel_id.removeprefix("D-"), now.strftime("%m-%d %H:%M"))
            for r in port.sent()[before:]
            if "What are you working on" in r.text
        ]
        now = now.replace(second=0) + __import__("datetime").timedelta(minutes=5)
    return sent


async def test_checkins_at_local_ten_across_the_dst_changes(make_core, port, clock) -> None:
    clock.set(datetime(2026, 10, 15, tzinfo=UTC))
    core = await started(make_core, port, **CHECKINS)
    await people(core, ("ams", "Europe/Amsterdam", None), ("nyc", "America/New_York", None))
    # Monday 19 Oct: both on summer time. Monday 26 Oct: Amsterdam back on CET, New York still
    # on EDT. Monday 2 Nov: both on standard time.
    got = []
    for day in (19, 26):
        got += await checkins_between(
            core,
            port,
            datetime(2026, 10, day, 7, 0, tzinfo=UTC),
            datetime(2026, 10, day, 15, 0, tzinfo=UTC),
        )
        for user in ("ams", "nyc"):  # answer, so the next one is not a "skipped" one
            await core.handle(ev.dm("the quarterly report for the board", user=user))
    got += await checkins_between(
        core,
        port,
        datetime(2026, 11, 2, 7, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 16, 0, tzinfo=UTC),
    )
    assert got == [
        ("ams", "10-19 08:00"),
        ("nyc", "10-19 14:00"),
        ("ams", "10-26 09:00"),
        ("nyc", "10-26 14:00"),
        ("ams", "11-02 09:00"),
        ("nyc", "11-02 15:00"),
    ]


async def test_koningsdag_is_skipped_in_the_netherlands_not_in_belgium(
    make_core, port, clock
) -> None:
    clock.set(datetime(2026, 4, 20, tzinfo=UTC))
    core = await started(make_core, port, **CHECKINS)
    await people(core, ("nl", "Europe/Amsterdam", "NL"), ("be", "Europe/Brussels", "BE"))
    got = await checkins_between(
        core, port, datetime(2026, 4, 27, 7, 0, tzinfo=UTC), datetime(2026, 4, 27, 9, 0, tzinfo=UTC)
    )
    assert got == [("be", "04-27 08:00")]  # Monday 27 April 2026 is King's Day


async def test_no_nagging_rules(make_core, port, clock) -> None:
    clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))  # Monday 10:00 in Amsterdam
    core = await started(make_core, port, **CHECKINS)
    await people(core, ("ann", "Europe/Amsterdam", None))
    assert (await run_checkins(core, clock.now()))["sent"] == 1
    assert (await run_checkins(core, clock.now()))["sent"] == 0  # claimed: asked once
    clock.advance(hours=4, minutes=5)
    assert (await run_checkins(core, clock.now()))["reminded"] == 1
    clock.advance(minutes=30)
    assert (await run_checkins(core, clock.now()))["reminded"] == 0  # one reminder at most
    clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))  # unanswered: counts as skipped
    counts = await run_checkins(core, clock.now())
    assert counts == {"sent": 1, "skipped": 1, "reminded": 0}
    clock.advance(hours=5)
    assert (await run_checkins(core, clock.now()))["reminded"] == 0  # none after a skipped one
    # an answer by DM becomes a check-in narration
    await core.handle(ev.dm("Preparing the migration of the patient records", user="ann"))
    await core.delivery.drain()
    async with core.db.session() as s:
        assert (await s.exec(select(Narration.source))).one() == "checkin"
    assert any("Thanks! Colleagues" in r.text for r in port.sent())


async def test_pause_and_opt_out_stop_checkins(make_core, port, clock) -> None:
    clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    core = await started(make_core, port, **CHECKINS)
    await people(core, ("ann", "Europe/Amsterdam", None), ("bob", "Europe/Amsterdam", None))
    await core.handle(ev.command("pause 10", user="ann"))
    await core.handle(ev.command("me checkins off", user="bob"))
    assert (await run_checkins(core, clock.now()))["sent"] == 0


@pytest.mark.parametrize("answer", ["checkin.skip", "checkin.off"])
async def test_checkin_buttons(make_core, port, clock, answer) -> None:
    clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    core = await started(make_core, port, **CHECKINS)
    await people(core, ("ann", "Europe/Amsterdam", None))
    await run_checkins(core, clock.now())
    await core.handle(ev.click(answer, "ann", user="ann", channel="D-ann"))
    await core.delivery.drain()
    expected = "No problem" if answer == "checkin.skip" else "Check-ins are off"
    assert expected in port.sent()[-1].text
    me = await core.personal.get(WS, "ann")
    assert me.checkins is (answer == "checkin.skip")
