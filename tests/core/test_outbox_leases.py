"""Outbox leases under a slow platform: two workers (replicas) on one database never both send
a row because one of them was slow (a loaded machine) for longer than the lease.

The platform here is a port whose first request hangs until released; the lease runs on the
test clock, so no machine load is needed to make a lease run out.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.clock import FakeClock, utc
from bot.config import DeliveryConfig
from bot.delivery.worker import DeliveryWorker
from bot.messages import OutboundMessage
from bot.ports import Destination, Sent
from bot.store.tables import OutboxItem
from tests.fakes.chat import RecordingPort

PEOPLE = 3


def hanging_first_send(port: RecordingPort) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the port's first `send` hang until the returned `release` is set."""
    started, release = asyncio.Event(), asyncio.Event()
    original: Callable[[Destination, OutboundMessage], Awaitable[Sent]] = port.send

    async def send(dest: Destination, message: OutboundMessage) -> Sent:
        if not started.is_set():
            started.set()
            await release.wait()
        return await original(dest, message)

    port.send = send  # type: ignore[method-assign]
    return started, release


async def queue_check_ins(core) -> None:
    for i in range(PEOPLE):
        await core.outbox.send_dm(
            "test", "test:T1", (f"U{i}",), OutboundMessage.text(f"check-in {i}"), key=f"checkin:{i}"
        )


def sends_per_person(port: RecordingPort) -> Counter[str]:
    return Counter(r.dest.channel_id for r in port.sent() if r.dest is not None)


async def lease_ends(core) -> list[datetime]:
    async with core.db.session() as s:
        rows = await s.exec(select(OutboxItem.claimed_until).order_by(col(OutboxItem.id)))
        return [utc(t) for t in rows if t is not None]


async def renewed(core, clock: FakeClock, ahead: timedelta, within: float = 10.0) -> None:
    """Wait (real time, for the renewal task) until every lease ends `ahead` of the test
    clock's now; gives up after `within` seconds (then the leases have run out)."""
    for _ in range(int(within / 0.05)):
        if all(end >= clock.now() + ahead for end in await lease_ends(core)):
            return
        await asyncio.sleep(0.05)


async def test_a_slow_send_keeps_its_lease_so_another_replica_does_not_send_it_too(
    make_core, clock: FakeClock
) -> None:
    port = RecordingPort()
    core = make_core(port)
    started, release = hanging_first_send(port)
    config = DeliveryConfig(lease_seconds=1)  # renewed every third of a second
    first = DeliveryWorker(core.db, core.outbox, {"test": port}, clock, config, concurrency=1)
    second = DeliveryWorker(core.db, core.outbox, {"test": port}, clock, config)
    await queue_check_ins(core)
    assert await first.run_once() == PEOPLE  # one is sent (and hangs), two wait for the slot
    await started.wait()
    # three leases' worth of time passes while the first worker is slow but alive
    for _ in range(12):
        clock.advance(seconds=0.25)
        await renewed(core, clock, ahead=first.lease / 2)
    assert await second.run_once() == 0  # every row is still leased by the first worker
    release.set()
    await first.drain()
    await second.drain()
    assert sends_per_person(port) == {f"D-U{i}": 1 for i in range(PEOPLE)}
    await first.stop()


async def test_a_worker_that_lost_its_leases_while_stalled_does_not_send_the_rows_it_waited_on(
    make_core, clock: FakeClock
) -> None:
    port = RecordingPort()
    core = make_core(port)
    started, release = hanging_first_send(port)
    config = DeliveryConfig(lease_seconds=30)  # no renewal within this test's few seconds
    first = DeliveryWorker(core.db, core.outbox, {"test": port}, clock, config, concurrency=1)
    second = DeliveryWorker(core.db, core.outbox, {"test": port}, clock, config)
    await queue_check_ins(core)
    assert await first.run_once() == PEOPLE
    await started.wait()
    clock.advance(seconds=31)  # the first worker stalled past its leases: the second takes over
    assert await second.run_once() == PEOPLE
    await second.drain()
    release.set()
    await first.drain()
    # The request the first worker had already made cannot be called back (at least once);
    # the rows it had not started on are the second worker's alone.
    assert sends_per_person(port) == {"D-U0": 2, "D-U1": 1, "D-U2": 1}
    async with core.db.session() as s:
        rows = list(await s.exec(select(OutboxItem).order_by(col(OutboxItem.id))))
    assert [
        (r.status, r.claim_token is not None and r.claim_token.startswith(second.worker_id))
        for r in rows
    ] == [("sent", True)] * PEOPLE
    await first.stop()
