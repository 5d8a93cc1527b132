"""The inbox of every platform: the neutral event stored as it was, handled once."""

from __future__ import annotations

import asyncio

from sqlmodel import col, func, select

from bot.delivery.inbox import Inbox, event_key
from bot.events import Action, EventKind, Mentioned, event_from_json, event_to_json
from bot.store.tables import Narration, ProcessedEvent
from bot.store.tables.inbox import InboxItem
from tests.fakes import events as ev


def test_a_stored_event_comes_back_unchanged() -> None:
    event = ev.message(
        "I'm working on the intake with @anouk",
        user="bob",
        thread_id="t1",
        mentions=(Mentioned("U9", "Anouk", "@anouk"),),
        locale="nl-NL",
        timezone="Europe/Amsterdam",
        reply_hints={"response_url": "x"},
        reference={"conversation": {"id": "C1"}},
    )
    click = ev.message(
        "", event_kind=EventKind.ACTION, action=Action("ask.ack", "7", {"f": "v"}, "m1", "form")
    )
    for original in (event, click):
        assert event_from_json(event_to_json(original)) == original


async def count(core, model) -> int:
    async with core.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


async def test_an_event_from_the_inbox_is_checked_for_duplicates_once(core, port) -> None:
    """The inbox's row is the duplicate check: the core writes no claim of its own, and a
    copy of the event stored again, also after handling, is not handled twice."""

    async def handle(event):
        return await core.handle(event, claimed=True)

    inbox = Inbox(core.db, handle, platform="test", key=event_key(core.keyring), clock=core.clock)
    event = ev.message("I'm working on the inbox drill", event_id="Ev-inbox")
    assert await inbox.put(event) is True
    assert await inbox.put(event) is False
    inbox.start()
    try:
        await inbox.wait_idle()
        assert await inbox.put(event) is False  # a late retry, after handling
        await inbox.wait_idle()
    finally:
        await inbox.stop()
    await core.delivery.drain()
    assert await count(core, Narration) == 1 and len(port.sent("react")) == 1
    assert await count(core, ProcessedEvent) == 0
    async with core.db.session() as s:
        [row] = (await s.exec(select(InboxItem))).all()
    assert (row.status, row.event, row.user_id, row.lane) == ("done", None, None, "")
    assert "Ev-inbox" not in row.event_key


class Recorder:
    """A handler that records the events it handles and fails the ones told to, once."""

    def __init__(self, fail_once: set[str] = frozenset()) -> None:
        self.handled: list[str] = []
        self.fail_once = set(fail_once)

    async def __call__(self, event) -> None:
        if event.event_id in self.fail_once:
            self.fail_once.discard(event.event_id)
            raise RuntimeError("transient trouble")
        self.handled.append(event.event_id)


async def test_a_conversation_claimed_in_one_pass_waits_for_its_retried_event(core) -> None:
    """Several events of one conversation are claimed together and handled in order; when one
    fails, the ones behind it are given back and wait for its retry, still in order."""
    handle = Recorder(fail_once={"Ev1"})
    inbox = Inbox(
        core.db, handle, platform="test", key=lambda w, e: f"{w}:{e}", clock=core.clock,
        base_backoff=10.0,
    )  # fmt: skip
    for n in range(4):
        assert await inbox.put(ev.message(f"part {n}", channel="C1", event_id=f"Ev{n}"))
    assert await inbox.run_once() == 4  # one statement claims the conversation's four
    while inbox._inflight:
        await asyncio.wait(inbox._inflight)
    assert handle.handled == ["Ev0"]  # Ev1 failed: Ev2 and Ev3 were not handled before it
    async with core.db.session() as s:
        rows = list(await s.exec(select(InboxItem).order_by(col(InboxItem.id))))
    assert [r.status for r in rows] == ["sending", "pending", "pending", "pending"]
    assert await inbox.run_once() == 0  # Ev0 recorded as done; Ev1 not due, Ev2 behind it
    core.clock.advance(seconds=15)
    assert await inbox.run_once() == 3
    while inbox._inflight:
        await asyncio.wait(inbox._inflight)
    assert handle.handled == ["Ev0", "Ev1", "Ev2", "Ev3"]
    await inbox.stop()
    async with core.db.session() as s:
        assert set(await s.exec(select(InboxItem.status))) == {"done"}


async def test_a_pass_is_one_statement(core) -> None:
    """Recording the handled events as done and claiming the next ones: one UPDATE."""
    from sqlalchemy import event as sa_event

    handle = Recorder()
    inbox = Inbox(
        core.db, handle, platform="test", key=lambda w, e: f"{w}:{e}", clock=core.clock,
        concurrency=1,
    )  # fmt: skip
    for n in range(10):
        assert await inbox.put(ev.message(f"hi {n}", channel=f"C{n % 3}", event_id=f"Ev{n}"))
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    engine = core.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        passes = 0
        while len(handle.handled) < 10:
            if await inbox.run_once():
                passes += 1
            while inbox._inflight:
                await asyncio.wait(inbox._inflight)
        await inbox.run_once()  # the last `done`
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    assert handle.handled == [f"Ev{n}" for n in range(10)]
    assert passes == 2 and statements == ["UPDATE"] * 3  # 5 + 5 claimed, then done
    await inbox.stop()
