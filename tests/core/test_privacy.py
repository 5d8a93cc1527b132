"""AVG/GDPR: export, erasure (checked by scanning every table), retention, consent."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from bot.features.privacy import RETENTION_JOB, purge_all
from bot.store.tables import Narration, OutboxItem, metadata
from bot.store.tables.admin import PersonSettings
from bot.visibility import Place, may_show
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

WS = ev.WORKSPACE
YAML = {"workspaces": {WS: {"admins": ["alice"]}}}


@pytest.fixture
async def pcore(make_core, port):
    port.people["mallory"] = __import__("bot.ports", fromlist=["PersonInfo"]).PersonInfo(
        user_id="mallory", display_name="Mallory Zuidema", timezone="Europe/Amsterdam"
    )
    core = make_core(port, **YAML)
    await core.start(deliver=False)
    return core


async def run(core, event) -> None:
    await core.handle(event)
    await core.delivery.drain()


async def seed(core) -> None:
    await run(core, ev.message("I'm working on the Zuidema tender", user="mallory"))
    await run(core, ev.dm("the private roadmap for the board, quietly", user="mallory"))
    await run(core, ev.command("me checkins mon,thu 09:30", user="mallory"))
    await run(core, ev.command("config roles grant @mallory manager", user="alice"))
    await run(core, ev.command("config set retention.days 200", user="alice"))
    await run(core, ev.message("I'm working on the canteen menu", user="bob"))
    await run(core, ev.message("Working on a reply to mallory about the tender", user="bob"))


async def test_export_holds_the_persons_data_and_nobody_elses(pcore, port) -> None:
    await seed(pcore)
    await run(pcore, ev.command("privacy export", user="mallory"))
    files = [r for r in port.sent() if r.dest.channel_id == "D-mallory"]
    assert "everything I keep about you" in files[0].text
    parts = [
        r
        for r in port.sent()
        if r.message and r.message.blocks[-1].type == "quote" and "wolbot-export-" in r.text
    ]
    data = json.loads("".join(r.message.blocks[0].text for r in parts))
    assert {n["text"] for n in data["narrations"]} == {
        "I'm working on the Zuidema tender",
        "the private roadmap for the board, quietly",
    }
    assert {n["where"]["kind"] for n in data["narrations"]} == {"public", "dm"}
    assert all(n["kept_until"] and n["said_at"] for n in data["narrations"])
    assert data["settings"]["your_choices"]["checkin_days"] == "mon,thu"
    assert data["settings"]["roles"][0]["role"] == "manager"
    assert data["you"]["name"] == "Mallory Zuidema"
    assert "Narrations: 2" in data["summary"] and "Narrations: 2" in files[0].text
    assert "canteen" not in json.dumps(data)
    async with pcore.db.session() as s:  # the copy in the outbox was cleared once sent
        row = (await s.exec(select(OutboxItem).where(OutboxItem.op == "file"))).one()
    assert row.status == "sent" and row.payload == {}


async def scan(core, needles: tuple[str, ...]) -> list[str]:
    """Every cell of every table that contains one of the needles."""
    found = []
    async with core.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = (await conn.execute(text(f'SELECT * FROM "{table.name}"'))).mappings().all()
            for row in rows:
                for column, value in row.items():
                    cell = json.dumps(value, default=str) if not isinstance(value, str) else value
                    if any(n in cell for n in needles):
                        found.append(f"{table.name}.{column} = {cell[:80]}")
    return found


async def test_forget_leaves_nothing_personal_behind(pcore, port) -> None:
    await seed(pcore)
    await run(pcore, ev.command("privacy forget", user="mallory"))
    confirm = port.sent()[-1].message.blocks[-1].elements[0]
    assert confirm.action_id == "privacy.forget.confirm"
    # somebody else cannot press mallory's button
    await run(pcore, ev.click(confirm.action_id, confirm.value, user="bob"))
    assert "Only the person whose data it is" in port.sent()[-1].text
    assert await scan(pcore, ("mallory", "Mallory", "Zuidema tender"))
    await run(pcore, ev.click(confirm.action_id, confirm.value, user="mallory"))
    assert "I erased" in port.sent("update")[-1].text  # in place of the confirmation
    leftovers = [
        c
        for c in await scan(pcore, ('"mallory"', "mallory", "Mallory Zuidema", "Zuidema tender"))
        if "a reply to mallory" not in c
    ]  # bob's own words, not mallory's data
    assert leftovers == []
    async with pcore.db.session() as s:
        authors = set(await s.exec(select(Narration.author_id)))
    assert authors == {"bob"}


async def test_forget_matches_exact_ids_not_prefixes(pcore, port, clock) -> None:
    """Forgetting `mallory` leaves `mallory2` (an id that starts the same) untouched."""
    from bot.store.tables.admin import AuditEntry, ScheduledOccurrence

    for user in ("mallory", "mallory2"):
        await run(pcore, ev.command(f"config roles grant @{user} manager", user="alice"))
        await pcore.scheduler.claim(f"checkin:{WS}:{user}", clock.now())
    await pcore.personal_data.forget(WS, "mallory")
    async with pcore.db.session() as s:
        jobs = set(await s.exec(select(ScheduledOccurrence.job_id)))
        targets = set(await s.exec(select(AuditEntry.target)))
    assert jobs == {f"checkin:{WS}:mallory2"}
    assert targets == {"(erased) manager", "mallory2 manager"}


async def test_retention_purges_old_narrations_per_workspace(pcore, port, clock) -> None:
    await run(pcore, ev.message("I'm working on last year's audit"))
    clock.advance(days=150)
    await run(pcore, ev.message("I'm working on this year's audit"))
    await run(pcore, ev.command("config set retention.days 100"))
    from bot.store.tables.asks import Thanks
    from bot.store.tables.rhythms import Contribution, DialogueRound

    async with pcore.db.session() as s:  # a year-old answer and thanks go too
        old = clock.now().replace(year=clock.now().year - 1)
        s.add(
            DialogueRound(
                workspace_id=WS,
                channel_id="C1",
                occurrence="x",
                set_id="general",
                prompt_id="gen-001",
                language="en",
                text="q?",
                posted_key="k",
                posted_at=old,
            )
        )
        await s.commit()
        s.add(
            Contribution(
                workspace_id=WS,
                round_id=1,
                author_id="bob",
                text="a",
                message_id="m",
                created_at=old,
            )
        )
        s.add(
            Thanks(
                workspace_id=WS,
                channel_id="C1",
                giver_id="a",
                receiver_id="b",
                reason="r",
                created_at=old,
            )
        )
        await s.commit()
    report = await purge_all(pcore, clock.now())
    assert report[WS]["narration"] == 1
    assert report[WS]["contribution"] == 1 and report[WS]["kudos"] == 1
    async with pcore.db.session() as s:
        topics = list(await s.exec(select(Narration.topic)))
    assert topics == ["this year's audit"]


async def test_the_retention_job_runs_once_per_day_across_two_cores(make_core, clock) -> None:
    first, second = make_core(RecordingPort()), make_core(RecordingPort())
    clock.set(clock.now().replace(hour=3, minute=20))

    def retention(ran):
        return [job for job, _ in ran if job == RETENTION_JOB]

    ran_first = await first.scheduler.run_due(clock.now())
    ran_second = await second.scheduler.run_due(clock.now())
    assert retention(ran_first) == [RETENTION_JOB] and retention(ran_second) == []
    clock.advance(hours=2)
    assert retention(await first.scheduler.run_due(clock.now())) == []
    clock.advance(days=1)
    assert retention(await second.scheduler.run_due(clock.now())) == [RETENTION_JOB]


async def test_missed_runs_beyond_the_grace_period_are_dropped(make_core, clock) -> None:
    core = make_core(RecordingPort())
    clock.set(clock.now().replace(hour=3, minute=20))
    await core.scheduler.run_due(clock.now())
    clock.advance(days=3)  # the bot was down for three days; on start (as Wolbot.start does):
    assert await core.scheduler.log_dropped(clock.now()) == 2
    ran = await core.scheduler.run_due(clock.now())
    assert [j for j, _ in ran].count(RETENTION_JOB) == 1  # only the latest, within its grace


async def test_me_settings_and_consent(pcore, port, clock) -> None:
    await run(pcore, ev.command("me", user="bob"))
    text = port.sent()[-1].text
    assert "suggest me as someone who may know: on (workspace default)" in text
    assert "weekly check-in: off (workspace default)" in text
    await run(pcore, ev.command("me matching off", user="bob"))
    await run(pcore, ev.command("me checkins tue 08:15", user="bob"))
    await run(pcore, ev.command("me pause 7", user="bob"))
    me = await pcore.personal.get(WS, "bob")
    assert (me.suggest_me, me.checkins, me.checkin_days, me.checkin_time) == (
        False,
        True,
        "tue",
        "08:15",
    )
    assert me.paused(clock.now()) and not me.paused(clock.now() + timedelta(days=8))
    await run(pcore, ev.command("ik taal nl", user="bob"))
    assert "Opgeslagen." in port.sent()[-1].text
    await run(pcore, ev.command("me nonsense", user="bob"))
    assert "Dat begreep ik niet." in port.sent()[-1].text


async def test_workspace_consent_defaults_come_from_app_yaml(make_core, port) -> None:
    core = make_core(
        port, workspaces={WS: {"defaults": {"checkins": True, "introductions": False}}}
    )
    me = await core.personal.get(WS, "zoe")
    assert me.checkins is True and me.introductions is False and me.suggest_me is True
    async with core.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(PersonSettings))).one() == 0


def test_visibility_rule() -> None:
    public = Place(WS, "C1", "public")
    private = Place(WS, "G1", "private")
    dm = Place(WS, "D1", "dm", audience_user_id="ann")
    assert may_show(public, "ann", Place(WS, "C2", "public"))
    assert not may_show(public, "ann", Place("other:T2", "C2", "public"))
    assert not may_show(private, "ann", Place(WS, "C1", "public"))
    assert not may_show(private, "ann", Place(WS, "G2", "private"))
    assert may_show(private, "ann", Place(WS, "G1", "private"))
    assert not may_show(dm, "ann", Place(WS, "C1", "public"))
    assert not may_show(dm, "ann", Place(WS, "D2", "dm", audience_user_id="bob"))
    assert may_show(dm, "ann", Place(WS, "D1", "dm", audience_user_id="ann"))
