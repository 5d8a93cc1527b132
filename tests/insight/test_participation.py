"""The observer records the right signal for each event, `/wol stats`, `/wol me stats`, the
weekly report, dashboard links, and privacy (export and erasure cover the weekly counts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.events import Action, ConversationKind, EventKind
from bot.features.participation import WEEKLY_JOB
from bot.insight import access, record
from bot.insight.report import build_report
from bot.messages import OutboundMessage
from bot.ports import DeliveryError, Destination, Sent
from bot.store.tables import OutboxItem
from bot.store.tables.insight import DashboardToken, ParticipationCount
from bot.store.tables.rhythms import DialogueRound
from tests.fakes import events as ev
from tests.fakes.chat import Record, RecordingPort

WS = ev.WORKSPACE
SETTINGS = {
    "workspaces": {
        WS: {"admins": ["alice"], "managers": ["mia"], "channels": {"C1": {"kind": "dialogue"}}}
    },
    "env": {
        "WOLBOT_PUBLIC_URL": "https://bot.example.org",
        "WOLBOT_SECRET_KEY": "test-secret-key-0123456789",
    },
}
MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@dataclass
class FilePort(RecordingPort):
    files: list[tuple[Destination, str, bytes]] = field(default_factory=list)

    async def send_file(
        self, dest: Destination, filename: str, content: bytes, message: OutboundMessage
    ) -> Sent:
        self.files.append((dest, filename, content))
        self.records.append(Record("file", dest, message))
        return Sent(message_id=f"F{len(self.files)}", channel_id=dest.channel_id)


@pytest.fixture
def fport() -> FilePort:
    return FilePort()


@pytest.fixture
async def icore(make_core, fport, clock):
    clock.set(MONDAY)
    core = make_core(fport, **SETTINGS)
    await core.start(deliver=False, schedule=False)
    return core


async def run(core, event) -> None:
    await core.handle(event)
    await core.delivery.drain()


async def counts(core) -> dict[tuple[str, str, str], int]:
    """Every count of the workspace, as the figures read them (a narration counts by its own
    row, the other signals in `participation_count`)."""
    found: dict[tuple[str, str, str], int] = {}
    for r in await core.participation_counts.rows(WS):
        key = (r.user_id, r.signal, r.community)
        found[key] = found.get(key, 0) + r.count
    return found


async def test_each_event_gives_its_signal(icore) -> None:
    await run(icore, ev.message("I'm working on the onboarding guide", user="ann"))
    await run(icore, ev.message("nice", user="bob", thread_id="m-root"))
    await run(
        icore,
        ev.message(
            "",
            user="bob",
            event_kind=EventKind.REACTION_ADDED,
            action=Action(action_id="reaction", value="+1"),
        ),
    )
    await run(icore, ev.message("", user="cem", event_kind=EventKind.HOME_OPENED, channel="D-cem"))
    await run(icore, ev.click("matching.done", "1", user="dan"))
    await run(icore, ev.click("matching.connect", "1", user="eve"))
    await run(icore, ev.click("checkin.skip", "", user="eve"))  # a setting, not participation
    await run(icore, ev.dm("hi", user="fay"))  # not a narration: too short
    await run(icore, ev.message("a bot says hi", user="bot", is_from_bot=True, thread_id="x"))
    assert await counts(icore) == {
        ("ann", "narration", "C1"): 1,
        ("bob", "reply", "C1"): 1,
        ("bob", "reaction", "C1"): 1,
        ("cem", "home", ""): 1,
        ("dan", "offer", "C1"): 1,
        ("eve", "click", "C1"): 1,
    }


async def test_an_answer_to_a_dialogue_round_is_creating(icore) -> None:
    async with icore.db.session() as s:
        s.add(
            DialogueRound(
                workspace_id=WS,
                channel_id="C1",
                occurrence="manual:1",
                set_id="general",
                prompt_id="p1",
                language="en",
                text="What did you learn?",
                posted_key="k1",
                message_id="Q1",
                posted_at=MONDAY,
                closes_at=MONDAY + timedelta(days=2),
            )
        )
        await s.commit()
    await run(icore, ev.message("That pairing beats reading docs.", user="gus", thread_id="Q1"))
    assert await counts(icore) == {("gus", "dialogue_answer", "C1"): 1}


async def test_counts_add_up_and_stay_per_week(icore, clock) -> None:
    for day in range(3):
        await record(icore.db, WS, "ann", "reaction", when=MONDAY + timedelta(days=day))
    await record(icore.db, WS, "ann", "reaction", when=MONDAY + timedelta(days=7))
    async with icore.db.session() as s:
        rows = sorted((str(r.week), r.count) for r in await s.exec(select(ParticipationCount)))
    assert rows == [("2026-11-16", 3), ("2026-11-23", 1)]
    with pytest.raises(ValueError):
        await record(icore.db, WS, "ann", "lurking", when=MONDAY)


async def test_stats_are_for_managers_only(icore, fport) -> None:
    await run(icore, ev.command("stats", user="bob"))
    assert "for admins and community managers" in fport.sent()[-1].text
    assert fport.files == []


async def test_stats_give_a_summary_and_a_chart(icore, fport) -> None:
    for i in range(6):
        await record(
            icore.db, WS, f"u{i}", "reaction" if i < 2 else "home", when=MONDAY, community="C1"
        )
    await record(icore.db, WS, "u0", "narration", when=MONDAY, community="C1")
    await run(icore, ev.command("stats", user="mia"))
    texts = [r.text for r in fport.sent()]
    assert any(
        "6 active people: 4 (67%) consumed, 1 (17%) contributed, 1 (17%) created" in t
        for t in texts
    ), texts
    assert any("I've sent you the chart" in t for t in texts)
    ((dest, name, png),) = fport.files
    assert dest.channel_id == "D-mia" and name.endswith(".png") and png[:8] == b"\x89PNG\r\n\x1a\n"
    await run(icore, ev.command("cijfers C1 maand", user="alice"))
    assert "Deelname in #C1" in fport.sent()[-2].text or "Deelname" in fport.sent()[-2].text
    await run(icore, ev.command("stats #nope", user="alice"))
    assert "I don't know the community #nope" in fport.sent()[-1].text


@pytest.mark.parametrize("ephemeral_as_dm", [True, False])
async def test_the_chart_waits_for_its_figures_where_both_land_in_the_dm(
    make_core, clock, ephemeral_as_dm: bool
) -> None:
    """Where an answer to one person is a DM (Teams), the chart is not sent before its
    figures, also while they are retried; elsewhere (Slack: the figures are only-you in the
    channel, the chart in the DM) nothing holds the chart back, as before."""
    port = FilePort()
    port.ephemeral_as_dm = ephemeral_as_dm  # type: ignore[attr-defined]
    clock.set(MONDAY)
    core = make_core(port, **SETTINGS)
    await core.start(deliver=False, schedule=False)
    port.fail_next(DeliveryError("internal_error"))  # the figures' first attempt
    await run(core, ev.command("stats", user="mia"))
    assert (port.files != []) is not ephemeral_as_dm
    clock.advance(seconds=10)
    await core.delivery.drain()
    kinds = ["chart" if r.op == "file" else r.text[:23] for r in port.records]
    if ephemeral_as_dm:
        assert kinds.index("Participation in the wh") < kinds.index("chart"), kinds
    assert len(port.files) == 1


NOTES = {
    "en": {
        "stats": "I've sent you the chart in a direct message.",
        "dashboard": "I've sent you a sign-in link in a direct message.",
        "privacy export": "I'm sending your data to you in a direct message.",
    },
    "nl": {
        "cijfers": "De grafiek staat in een privébericht voor je klaar.",
        "dashboard": "Ik heb je een inloglink gestuurd in een privébericht.",
        "privacy exporteer": "Ik stuur je gegevens in een privébericht.",
    },
}


@pytest.mark.parametrize("where", ["channel", "dm"])
@pytest.mark.parametrize("ephemeral_as_dm", [True, False])
@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_a_note_that_something_went_by_dm_only_where_it_is_read_elsewhere(
    make_core, clock, lang: str, ephemeral_as_dm: bool, where: str
) -> None:
    """ "I've sent you … in a direct message" (`Context.note_sent_by_dm`) is said only where
    the answer is read outside that DM: asked in a channel on a platform with only-you
    messages (Slack). Not when asked in the DM, nor where the answer itself is a message in
    the DM (Teams: `ephemeral_as_dm`), beside what was sent."""
    port = FilePort()
    port.ephemeral_as_dm = ephemeral_as_dm  # type: ignore[attr-defined]
    clock.set(MONDAY)
    settings = {**SETTINGS, "workspaces": {WS: {**SETTINGS["workspaces"][WS], "language": lang}}}
    core = make_core(port, **settings)
    await core.start(deliver=False, schedule=False)
    for command, note in NOTES[lang].items():
        before = len(port.records)
        if where == "dm":
            event = ev.command(command, user="mia", channel="D-mia", kind=ConversationKind.DM)
        else:
            event = ev.command(command, user="mia")
        await run(core, event)
        told = [r.text for r in port.records[before:]]
        assert any(told), command  # what was asked for came
        assert (note in told) is (where == "channel" and not ephemeral_as_dm), (command, told)


async def test_my_own_stats(icore, fport) -> None:
    await record(icore.db, WS, "bob", "home", when=MONDAY - timedelta(days=7))
    await record(icore.db, WS, "bob", "reaction", when=MONDAY, count=3)
    await record(icore.db, WS, "bob", "reply", when=MONDAY)
    await record(icore.db, WS, "eve", "narration", when=MONDAY)
    await run(icore, ev.command("me stats", user="bob"))
    text = fport.sent()[-1].text
    assert "This week: contribute. Last week: consume." in text
    assert "You moved up a level." in text
    assert "reacted (3×), replied in a thread (1×)" in text
    assert "shared what you are working on" not in text  # eve's narration is hers alone
    assert fport.sent()[-1].dest.ephemeral_user == "bob"


async def test_weekly_report_goes_to_managers_who_opted_in(icore, fport, clock) -> None:
    await run(icore, ev.command("stats weekly on", user="mia"))
    await run(icore, ev.command("stats weekly on", user="bob"))  # a member: refused
    assert "Stop with /wol stats weekly off" in fport.sent()[-2].text
    clock.set(datetime(2026, 11, 23, 7, 5, tzinfo=UTC))
    ran = await icore.scheduler.run_due(clock.now(), job_ids=[WEEKLY_JOB])
    assert [j for j, _ in ran] == [WEEKLY_JOB]
    await icore.delivery.drain()
    assert [d.channel_id for d, _, _ in fport.files] == ["D-mia"]
    assert "Your weekly participation figures" in fport.records[-1].text
    assert "Participation in the whole workspace" in fport.records[-1].text
    await run(icore, ev.command("stats weekly on C1", user="mia"))  # one community instead
    await run(icore, ev.command("stats weekly on #nope", user="mia"))
    assert "I don't know the community #nope" in fport.sent()[-1].text
    clock.set(datetime(2026, 11, 30, 7, 5, tzinfo=UTC))
    await icore.scheduler.run_due(clock.now(), job_ids=[WEEKLY_JOB])
    await icore.delivery.drain()
    assert "#C1 has fewer than 5 active people" in fport.records[-1].text  # its own scope
    await run(icore, ev.command("stats weekly off", user="mia"))
    assert "No more weekly figures" in fport.sent()[-1].text


async def test_dashboard_link_for_managers_only_and_single_use(icore, fport, clock) -> None:
    await run(icore, ev.command("dashboard", user="bob"))
    assert "for admins and community managers" in fport.sent()[-1].text
    await run(icore, ev.command("dashboard", user="mia"))
    dm, note = fport.sent()[-2:]
    assert dm.dest.channel_id == "D-mia" and "sign-in link in a direct message" in note.text
    link = next(
        p.url
        for b in dm.message.blocks
        for p in getattr(b, "parts", ())
        if getattr(p, "type", "") == "link"
    )
    async with icore.db.session() as s:  # the link left the outbox once delivered
        assert "dashboard/login" not in str((await s.exec(select(OutboxItem))).all())
    assert link.startswith("https://bot.example.org/dashboard/login/")
    token = link.rsplit("/", 1)[1]
    async with icore.db.session() as s:
        stored = (await s.exec(select(DashboardToken))).one()
    assert stored.token_hash == access.digest(token) and token not in str(stored.model_dump())
    assert await access.redeem(icore, "not-a-token") is None
    redeemed = await access.redeem(icore, token)
    assert redeemed is not None and redeemed[1].user_id == "mia"
    assert await access.viewer(icore, redeemed[0]) is not None
    assert await access.redeem(icore, token) is None  # reused
    late = await access.create_link(icore, WS, "mia", "test", "en")
    clock.advance(seconds=access.LINK_TTL.total_seconds() + 1)
    assert await access.redeem(icore, late.rsplit("/", 1)[1]) is None  # expired
    clock.advance(seconds=access.SESSION_TTL.total_seconds())
    assert await access.viewer(icore, redeemed[0]) is None  # the session expired


async def test_export_and_erasure_cover_the_counts(icore, fport) -> None:
    await record(icore.db, WS, "bob", "reaction", when=MONDAY)
    await record(icore.db, WS, "ann", "reaction", when=MONDAY)
    exported = await icore.personal_data.export(WS, "bob")
    assert [r["signal"] for r in exported["participation_count"]] == ["reaction"]
    await icore.personal_data.forget(WS, "bob")
    assert set(await counts(icore)) == {("ann", "reaction", "")}


async def test_old_counts_and_expired_links_are_purged(icore, clock) -> None:
    from bot.features.participation import PURGE_JOB

    await record(icore.db, WS, "ann", "reaction", when=MONDAY - timedelta(days=400))
    await record(icore.db, WS, "ann", "reaction", when=MONDAY - timedelta(days=300))
    await access.create_link(icore, WS, "mia", "test", "en")
    clock.set(datetime(2026, 11, 18, 3, 30, tzinfo=UTC))  # the nightly purge
    assert [j for j, _ in await icore.scheduler.run_due(clock.now(), job_ids=[PURGE_JOB])]
    async with icore.db.session() as s:
        weeks = [str(r.week) for r in await s.exec(select(ParticipationCount))]
        assert (await s.exec(select(DashboardToken))).all() == []
    assert weeks == ["2026-01-19"]


DURF = {
    "workspaces": {
        WS: {
            "admins": ["alice"],
            "managers": ["mona"],
            "channels": {"DURF": {"kind": "durf-te-vragen", "anonymous": True}},
        }
    },
    "env": {"WOLBOT_SECRET_KEY": "test-secret-key-0123456789"},
}


async def test_named_questions_answers_and_thanks_count_anonymous_ones_never(
    make_core, fport, clock
) -> None:
    clock.set(MONDAY)
    core = make_core(fport, **DURF)
    await core.start(deliver=False, schedule=False)
    await run(
        core, ev.message("How do I request leave?", user="ann", channel="DURF", message_id="q1")
    )
    await run(core, ev.command("ask How do I book a meeting room?", user="bob", channel="C7"))
    await run(
        core, ev.command("ask anon Is it normal to feel unsure about AI?", user="cem", channel="C7")
    )
    await run(core, ev.message("Via the HR portal.", user="dan", channel="DURF", thread_id="q1"))
    await run(core, ev.command("thanks @dan for the answer", user="ann", channel="DURF"))
    await run(core, ev.command("ask reply 2 Thank you!", user="cem", channel="D-cem"))
    await run(core, ev.click("ask.answered", "2:x", user="cem", channel="D-cem"))
    found = await counts(core)
    assert found[("ann", "question", "DURF")] == 1
    assert found[("bob", "question", "")] == 1  # asked from a channel that is no community
    assert found[("dan", "answer", "DURF")] == 1
    assert found[("ann", "thanks", "DURF")] == 1
    assert not [k for k in found if k[0] == "cem"]


def test_a_narration_counts_at_the_level_insight_gives_it() -> None:
    from bot.insight.signals import level_of
    from bot.store.participation_counts import NARRATION_LEVEL, NARRATION_SIGNAL

    assert level_of(NARRATION_SIGNAL) == NARRATION_LEVEL


async def narration_rows_in_the_table(core) -> int:
    async with core.db.session() as s:
        rows = await s.exec(
            select(ParticipationCount).where(ParticipationCount.signal == "narration")
        )
        return sum(r.count for r in rows)


async def test_a_narration_counts_by_its_own_row_and_its_count_outlives_the_message(
    icore, clock
) -> None:
    """Storing a narration is its count (no write to `participation_count`); a retry counts
    nothing more; when the message is deleted its count stays, as the figures had it."""
    from bot.store.personal_export import PersonalExport

    said = ev.message("I'm working on the onboarding guide", user="ann", message_id="m-ann")
    await run(icore, said)
    await run(icore, ev.message(said.text, user="ann", message_id="m-ann"))  # a copy
    assert await counts(icore) == {("ann", "narration", "C1"): 1}
    assert await narration_rows_in_the_table(icore) == 0
    export = await PersonalExport(icore.db).build(
        WS, "ann", clock.now(), retention_days=365, audit_days=365
    )
    assert [(p["signal"], p["count"]) for p in export["participation"]] == [("narration", 1)]
    clock.advance(days=1)
    await run(
        icore, ev.message("", user="ann", message_id="m-ann", event_kind=EventKind.MESSAGE_DELETED)
    )
    assert await counts(icore) == {("ann", "narration", "C1"): 1}
    assert await narration_rows_in_the_table(icore) == 1
    report = await build_report(icore.services, WS)
    assert report.current_key is not None
    assert await icore.participation_counts.first_week(WS) == MONDAY.date()


async def test_the_retention_purge_keeps_the_counts_of_the_narrations_it_removes(
    icore, clock
) -> None:
    await run(icore, ev.message("I'm working on the onboarding guide", user="ann"))
    await run(icore, ev.message("I'm working on the intake form", user="ann"))
    clock.advance(days=3)
    _, removed = await icore.personal_data.purge(
        WS, clock.now(), retention_days=2, audit_retention_days=30
    )
    assert len(removed) == 2
    assert await counts(icore) == {("ann", "narration", "C1"): 2}
    assert await narration_rows_in_the_table(icore) == 2


async def test_narrations_of_purged_weeks_stop_counting_with_them(icore, clock) -> None:
    """The participation purge forgets old weeks; a narration of such a week that is still
    kept (its own retention runs separately) no longer counts either."""
    clock.set(MONDAY - timedelta(days=300))
    await run(icore, ev.message("I'm working on the old plan", user="ann"))
    clock.set(MONDAY)
    await run(icore, ev.message("I'm working on the new plan", user="ann"))
    assert await counts(icore) == {("ann", "narration", "C1"): 2}
    await icore.participation_counts.purge_before(WS, MONDAY.date() - timedelta(days=7))
    assert await counts(icore) == {("ann", "narration", "C1"): 1}
    assert await icore.participation_counts.first_week(WS) == MONDAY.date()


async def test_a_narration_counts_in_its_utc_week(icore, clock) -> None:
    """The week a narration counts in is computed by the database: the same Monday (UTC) as
    `week_of`, at the edges of a week too."""
    from bot.insight import week_of

    monday = MONDAY.replace(hour=0)
    moments = [monday - timedelta(microseconds=1), monday, monday + timedelta(days=6, hours=23)]
    for n, moment in enumerate(moments):
        clock.set(moment)
        await run(icore, ev.message(f"I'm working on part {n}", user="ann"))
    weeks = sorted(
        (r.week, r.count) for r in await icore.participation_counts.rows(WS, user_id="ann")
    )
    assert weeks == [(week_of(moments[0]), 1), (week_of(moments[1]), 2)]
    assert week_of(moments[0]) == (monday - timedelta(days=7)).date()
