"""Inbox leases under slow handling: two workers (replicas) on one database never both handle
an event because one of them was slow (a loaded machine) for longer than the lease, while
it was handling the event or waiting to write that it was done.

The handler here hangs on the first event until released; the lease runs on the test clock,
so no machine load is needed to make a lease run out.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.clock import FakeClock, utc
from bot.delivery.inbox import Inbox
from bot.events import InboundEvent
from bot.store.engine import Database
from bot.store.tables.inbox import InboxItem
from tests.fakes import events as ev

EVENTS = 3


class Replica:
    """An inbox worker whose handler records what it handled and can be made to hang."""

    def __init__(self, db: Database, clock: FakeClock, handled: Counter[str], **kwargs) -> None:
        self.handled = handled
        self.started, self.release = asyncio.Event(), asyncio.Event()
        self.hang_on: str | None = None
        self.inbox = Inbox(
            db, self.handle, platform="test", key=lambda w, e: f"{w}:{e}", clock=clock, **kwargs
        )

    async def handle(self, event: InboundEvent) -> None:
        if event.event_id == self.hang_on:
            self.started.set()
            await self.release.wait()
        self.handled[event.event_id] += 1

    async def settle(self) -> None:
        """Until every row this worker started on is handled (or given up)."""
        while self.inbox._inflight:
            await asyncio.wait(self.inbox._inflight)


async def put_events(inbox: Inbox) -> None:
    for n in range(EVENTS):  # one conversation each: a pass claims them together
        assert await inbox.put(ev.message(f"hello {n}", channel=f"C{n}", event_id=f"Ev{n}"))


async def lease_ends(db: Database) -> list[datetime]:
    async with db.session() as s:
        rows = await s.exec(select(InboxItem.claimed_until).order_by(col(InboxItem.id)))
        return [utc(t) for t in rows if t is not None]


async def renewed(db: Database, clock: FakeClock, ahead: timedelta, within: float = 10.0) -> None:
    """Wait (real time, for the renewal task) until every lease ends `ahead` of the test
    clock's now; gives up after `within` seconds (then the leases have run out)."""
    for _ in range(int(within / 0.05)):
        if all(end >= clock.now() + ahead for end in await lease_ends(db)):
            return
        await asyncio.sleep(0.05)


async def statuses(db: Database) -> list[str]:
    async with db.session() as s:
        return list(await s.exec(select(InboxItem.status).order_by(col(InboxItem.id))))


async def test_a_slow_handling_keeps_its_lease_so_another_replica_does_not_handle_it_too(
    make_core, clock: FakeClock
) -> None:
    db = make_core().db
    handled: Counter[str] = Counter()
    lease = timedelta(seconds=1)  # renewed every third of a second
    first = Replica(db, clock, handled, concurrency=1, lease=lease)
    second = Replica(db, clock, handled, lease=lease)
    first.hang_on = "Ev0"
    await put_events(first.inbox)
    assert await first.inbox.run_once() == EVENTS  # one handled (and hangs), two wait
    await first.started.wait()
    # three leases' worth of time passes while the first worker is slow but alive
    for _ in range(12):
        clock.advance(seconds=0.25)
        await renewed(db, clock, ahead=lease / 2)
    assert await second.inbox.run_once() == 0  # every row is still leased by the first
    first.release.set()
    await first.settle()
    assert handled == {f"Ev{n}": 1 for n in range(EVENTS)}
    await first.inbox.run_once()  # writes `done` for the three
    assert await statuses(db) == ["done"] * EVENTS
    await first.inbox.stop()
    await second.inbox.stop()


async def test_a_handled_event_keeps_its_lease_until_its_done_is_written(
    make_core, clock: FakeClock
) -> None:
    """`done` is written by the worker's next pass; until then the row stays leased."""
    db = make_core().db
    handled: Counter[str] = Counter()
    lease = timedelta(seconds=1)
    first = Replica(db, clock, handled, lease=lease)
    second = Replica(db, clock, handled, lease=lease)
    await put_events(first.inbox)
    assert await first.inbox.run_once() == EVENTS
    await first.settle()  # handled; no pass since, so not yet recorded as done
    assert await statuses(db) == ["sending"] * EVENTS
    for _ in range(12):
        clock.advance(seconds=0.25)
        await renewed(db, clock, ahead=lease / 2)
    assert await second.inbox.run_once() == 0
    assert await first.inbox.run_once() == 0  # records `done`, nothing left to claim
    assert await statuses(db) == ["done"] * EVENTS
    assert handled == {f"Ev{n}": 1 for n in range(EVENTS)}
    await first.inbox.stop()
    await second.inbox.stop()


async def test_a_worker_that_lost_its_leases_while_stalled_does_not_handle_the_rows_it_waited_on(
    make_core, clock: FakeClock
) -> None:
    db = make_core().db
    handled: Counter[str] = Counter()
    lease = timedelta(seconds=30)  # no renewal within this test's few seconds
    first = Replica(db, clock, handled, concurrency=1, lease=lease)
    second = Replica(db, clock, handled, lease=lease)
    first.hang_on = "Ev0"
    await put_events(first.inbox)
    assert await first.inbox.run_once() == EVENTS
    await first.started.wait()
    clock.advance(seconds=31)  # the first worker stalled past its leases: the second takes over
    assert await second.inbox.run_once() == EVENTS
    await second.settle()
    first.release.set()
    await first.settle()
    # The handling the first worker had started cannot be called back; the rows it had not
    # started on are the second worker's alone.
    assert handled == {"Ev0": 2, "Ev1": 1, "Ev2": 1}
    await second.inbox.run_once()
    await first.inbox.run_once()  # its `done` for Ev0 is not written: the claim is not its own
    async with db.session() as s:
        rows = list(await s.exec(select(InboxItem).order_by(col(InboxItem.id))))
    assert [
        (
            r.status,
            r.claim_token is not None and r.claim_token.startswith(second.inbox.queue.worker_id),
        )
        for r in rows
    ] == [("done", True)] * EVENTS
    await first.inbox.stop()
    await second.inbox.stop()
