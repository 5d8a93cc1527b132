"""The inbox: acknowledged at once, handled afterwards, durably, in order per conversation."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import select

from bot.store.tables import Narration
from bot.store.tables.inbox import InboxItem


def narration(payload, *, event_id: str, ts: str, text: str = "I'm working on the inbox"):
    body = payload("events/event_callback_message.json")
    body["event_id"] = event_id
    body["event"].update(text=text, ts=ts, event_ts=ts)
    return body


async def rows(core, model):
    async with core.db.session() as s:
        return list((await s.exec(select(model))).all())


async def inbox_rows(db):
    async with db.session() as s:
        return list((await s.exec(select(InboxItem).order_by(InboxItem.id))).all())


def plain_key(workspace_id: str, event_id: str) -> str:
    return f"{workspace_id}:{event_id}"


def inbox_for(db, handle, **kwargs):
    from bot.delivery.inbox import Inbox

    return Inbox(db, handle, platform="slack", key=plain_key, **kwargs)


async def test_slow_handling_does_not_delay_the_ack(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    real_handle = core.handle
    release = asyncio.Event()

    async def slow_handle(event, **kwargs):
        await release.wait()
        return await real_handle(event, **kwargs)

    core.handle = slow_handle
    started = time.perf_counter()
    status, _ = await slack.event(narration(payload, event_id="EvSlow", ts="1.000001"))
    assert status == 200
    assert time.perf_counter() - started < 1.0
    release.set()
    await slack_api.wait_for("reactions.add")


async def test_acknowledged_event_survives_a_restart(serve_slack, payload, slack_api, sqlite_url):
    core, slack = await serve_slack()
    await slack.runtime.inbox.stop()  # the process "dies" right after acknowledging
    assert (await slack.event(narration(payload, event_id="EvCrash", ts="2.000001")))[0] == 200
    [stored] = await rows(core, InboxItem)
    assert stored.event["event_id"] == "EvCrash" and stored.status == "pending"
    assert stored.event["kind"] == "message"  # the neutral event, translated once
    assert slack_api.calls_to("reactions.add") == []
    # the next process on the same database handles it
    _core2, slack2 = await serve_slack(sqlite_url)
    await slack_api.wait_for("reactions.add")
    await slack2.processed()
    [done] = await rows(core, InboxItem)  # kept as the duplicate check, emptied
    assert (done.status, done.event, done.user_id, done.lane) == ("done", None, None, "")
    assert "EvCrash" not in done.event_key  # a keyed hash of the event id
    assert len(await rows(core, Narration)) == 1
    # Slack's late retry of the same event is acknowledged and stops at the inbox's row
    assert (await slack2.event(narration(payload, event_id="EvCrash", ts="2.000001")))[0] == 200
    await slack2.processed()
    assert len(await rows(core, Narration)) == 1 and len(await rows(core, InboxItem)) == 1


async def test_events_of_one_conversation_are_handled_in_order(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    ts = "3.000001"
    edited = payload("events/event_callback_message_changed.json")
    edited["event_id"] = "EvOrder2"
    edited["authorizations"][0]["team_id"] = "T111"
    edited["event"]["message"].update(text="I'm working on version two", user="W111")
    edited["event"]["previous_message"].update(text="I'm working on version one", ts=ts)
    await slack.runtime.inbox.stop()  # let both wait in the inbox, then handle them together
    message = narration(payload, event_id="EvOrder1", ts=ts, text="I'm working on version one")
    assert (await slack.event(message))[0] == 200
    assert (await slack.event(edited))[0] == 200
    slack.runtime.inbox.start()
    await slack.processed()
    [stored] = await rows(core, Narration)
    assert stored.topic == "version two"  # the edit was handled after the message it edits


async def test_a_failure_is_retried_later(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    slack.runtime.inbox.base_backoff = 0.05
    real_handle = core.handle
    calls = 0

    async def flaky(event, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("transient trouble")
        return await real_handle(event, **kwargs)

    core.handle = flaky
    assert (await slack.event(narration(payload, event_id="EvFlaky", ts="4.000001")))[0] == 200
    await slack_api.wait_for("reactions.add")
    assert calls == 2


async def test_put_is_idempotent_on_both_databases(database_url, payload):
    """Group commit: concurrent copies of one event are stored once (SQLite and PostgreSQL)."""
    from adapters.slack.inbound import to_inbound
    from bot.store.engine import Database

    db = Database(database_url)
    handled: list = []

    async def handle(event):
        handled.append(event)

    inbox = inbox_for(db, handle)
    try:
        bodies = [narration(payload, event_id=f"EvP{n}", ts=f"5.{n:06d}") for n in range(3)]
        events = [to_inbound(b) for b in bodies]
        results = await asyncio.gather(
            *(inbox.put(e) for e in events),
            inbox.put(events[0]),
            inbox.put(events[1]),
        )
        assert sorted(results) == [False, False, True, True, True]
        assert await inbox.put(events[2]) is False
        inbox.start()
        await inbox.wait_idle()
        assert sorted(e.event_id for e in handled) == ["EvP0", "EvP1", "EvP2"]
        assert sorted(handled, key=lambda e: e.event_id) == events  # the same neutral events
        assert await inbox.put(events[0]) is False  # handled: a late copy is still a duplicate
    finally:
        await inbox.stop()
        await db.dispose()


async def test_a_web_replica_without_worker_leaves_handling_to_another(
    serve_slack, slack_api, payload, sqlite_url
):
    from .conftest import slack_env

    _web_core, web = await serve_slack(env=slack_env(slack_api, SLACK_INBOX_WORKER="0"))
    assert (await web.event(narration(payload, event_id="EvWeb", ts="6.000001")))[0] == 200
    await slack_api.settle(0.5)
    assert slack_api.calls_to("reactions.add") == []  # acknowledged and stored only
    worker_core, worker = await serve_slack(sqlite_url)
    await slack_api.wait_for("reactions.add")
    await worker.processed()
    assert len(await rows(worker_core, Narration)) == 1


async def test_failed_rows_are_purged_and_erased_with_the_person(sqlite_url, payload):
    from adapters.slack.inbound import to_inbound
    from bot.clock import FakeClock
    from bot.store.engine import Database
    from bot.store.personal_data import PersonalData

    db = Database(sqlite_url)
    clock = FakeClock()

    async def always_fails(event):
        raise RuntimeError("broken handler")

    inbox = inbox_for(db, always_fails, clock=clock, max_attempts=1)
    try:
        for n, user in enumerate(("W111", "W222")):
            body = narration(payload, event_id=f"EvF{n}", ts=f"7.{n:06d}")
            body["event"]["user"] = user
            await inbox.put(to_inbound(body))
            await inbox.run_once()
            await asyncio.gather(*inbox._inflight)
        failed = await inbox_rows(db)
        assert [(r.user_id, r.status) for r in failed] == [("W111", "failed"), ("W222", "failed")]
        # the person asks to be forgotten: their stored delivery goes
        await PersonalData(db).forget("slack:T111", "W111")
        assert [r.user_id for r in await inbox_rows(db)] == ["W222"]
        clock.advance(days=8)
        assert await inbox.purge() == 1
    finally:
        await inbox.stop()
        await db.dispose()


async def test_a_pass_claims_only_what_the_free_slots_can_take(sqlite_url, payload):
    """A long backlog across many conversations: a pass leases as many rows as there are free
    slots (plus a small prefetch), not one per conversation, and the rest stay pending."""
    from adapters.slack.inbound import to_inbound
    from bot.delivery.inbox import PREFETCH
    from bot.store.engine import Database

    db = Database(sqlite_url)
    release = asyncio.Event()
    handled: list[str] = []

    async def handle(event):
        await release.wait()
        handled.append(event.event_id)

    inbox = inbox_for(db, handle, concurrency=2)
    try:
        for n in range(20):
            body = narration(payload, event_id=f"EvB{n}", ts=f"8.{n:06d}")
            body["event"]["channel"] = f"C{n:03d}"  # 20 conversations
            assert await inbox.put(to_inbound(body))
        assert await inbox.run_once() == 2 + PREFETCH
        assert await inbox.run_once() == 0  # no free slot: nothing more is leased
        statuses = [r.status for r in await inbox_rows(db)]
        assert statuses.count("sending") == 2 + PREFETCH
        assert statuses.count("pending") == 20 - 2 - PREFETCH
        release.set()
        inbox.start()
        await inbox.wait_idle()
        assert sorted(handled) == sorted(f"EvB{n}" for n in range(20))
        assert {r.status for r in await inbox_rows(db)} == {"done"}
    finally:
        await inbox.stop()
        await db.dispose()


async def test_events_stored_by_the_version_before_are_moved_and_handled(
    serve_slack, slack_api, payload, sqlite_url
):
    """A backlog left in `slack_inbox` (raw bodies) by the previous version: the next start
    translates it into the inbox of every platform and handles it; nothing is left behind."""
    from bot.store.tables.slack import SlackInboxItem

    from .conftest import slack_env

    web_core, _web = await serve_slack(env=slack_env(slack_api, SLACK_INBOX_WORKER="0"))
    body = narration(
        payload, event_id="EvLegacy", ts="9.000001", text="I'm working on the upgrade drill"
    )
    now = web_core.clock.now()
    async with web_core.db.session() as s:
        s.add(
            SlackInboxItem(
                workspace_id="slack:T111",
                event_id="EvLegacy",
                lane="slack:T111:C111",
                user_id="W111",
                body=body,
                bot_user_id="UBOT",
                status="pending",
                attempts=0,
                not_before=now,
                received_at=now,
            )
        )
        await s.commit()
    worker_core, worker = await serve_slack(sqlite_url)  # the new version starts
    await slack_api.wait_for("reactions.add")
    await worker.processed()
    assert [n.topic for n in await rows(worker_core, Narration)] == ["the upgrade drill"]
    assert await rows(worker_core, SlackInboxItem) == []
    [moved] = await rows(worker_core, InboxItem)
    assert moved.status == "done" and moved.event is None
