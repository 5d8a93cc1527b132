"""The outbox: idempotent, retried with back-off, paced per channel, claimed once."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import select

from bot.messages import OutboundMessage
from bot.ports import DeliveryError, Destination
from bot.store.tables import OutboxItem
from tests.fakes.chat import RecordingPort

DEST = Destination(workspace_id="test:T1", channel_id="C1")


async def statuses(core) -> list[tuple[str, int]]:
    async with core.db.session() as s:
        rows = await s.exec(select(OutboxItem).order_by(OutboxItem.id))
        return [(r.status, r.attempts) for r in rows]


async def test_the_same_key_is_queued_and_delivered_once(core, port) -> None:
    msg = OutboundMessage.text("hello")
    assert await core.outbox.send("test", DEST, msg, key="k1") is True
    assert await core.outbox.send("test", DEST, msg, key="k1") is False
    await core.delivery.drain()
    await core.delivery.drain()
    assert [r.text for r in port.sent()] == ["hello"]
    assert await core.outbox.result_message_id("k1") == "M1"


async def test_transient_errors_back_off_then_deliver(core, port, clock) -> None:
    port.fail_next(DeliveryError("internal_error"), DeliveryError("timeout"))
    await core.outbox.send("test", DEST, OutboundMessage.text("retry me"), key="k2")
    await core.delivery.drain()
    assert await statuses(core) == [("pending", 1)]
    clock.advance(seconds=2)
    await core.delivery.drain()
    assert await statuses(core) == [("pending", 2)]
    clock.advance(seconds=5)
    await core.delivery.drain()
    assert await statuses(core) == [("sent", 2)]
    assert len(port.sent()) == 1


async def test_retry_after_is_honoured_without_counting_as_a_failure(core, port, clock) -> None:
    port.fail_next(DeliveryError("ratelimited", retry_after=30))
    await core.outbox.send("test", DEST, OutboundMessage.text("later"), key="k3")
    await core.delivery.drain()
    clock.advance(seconds=29)
    await core.delivery.drain()
    assert port.sent() == [] and await statuses(core) == [("pending", 0)]
    clock.advance(seconds=2)
    # the key's pause runs on the real monotonic clock; pretend its 30 s have passed too
    core.delivery.limiter = type(core.delivery.limiter)()
    await core.delivery.drain()
    assert len(port.sent()) == 1


async def test_permanent_errors_fail_once_and_tell_the_hooks(core, port) -> None:
    failed = []

    async def hook(item, reason) -> None:
        failed.append((item.idempotency_key, reason))

    core.delivery.failure_hooks.append(hook)
    port.fail_next(DeliveryError("channel_not_found", permanent=True))
    await core.outbox.send("test", DEST, OutboundMessage.text("gone"), key="k4")
    await core.delivery.drain()
    assert await statuses(core) == [("failed", 1)]
    assert failed == [("k4", "channel_not_found")]


async def test_gives_up_after_max_attempts(make_core, port, clock) -> None:
    core = make_core(port, delivery={"max_attempts": 2})
    port.fail_next(DeliveryError("boom"), DeliveryError("boom"), DeliveryError("boom"))
    await core.outbox.send("test", DEST, OutboundMessage.text("x"), key="k5")
    await core.delivery.drain()
    clock.advance(seconds=10)
    await core.delivery.drain()
    assert await statuses(core) == [("failed", 2)]


async def test_deliver_after_waits_for_its_time(core, port, clock) -> None:
    later = clock.now().replace(hour=clock.now().hour + 2)
    await core.outbox.send_dm(
        "test",
        "test:T1",
        ("bob",),
        OutboundMessage.text("follow-up"),
        key="k6",
        deliver_after=later,
    )
    await core.delivery.drain()
    assert port.sent() == []
    clock.set(later)
    await core.delivery.drain()
    assert port.sent()[0].dest.channel_id == "D-bob"


async def test_channel_pacing_spaces_requests(make_core) -> None:
    slow = RecordingPort(min_interval=0.05)
    core = make_core(slow)
    for i in range(6):
        await core.outbox.send("test", DEST, OutboundMessage.text(f"m{i}"), key=f"p{i}")
    await core.outbox.send(
        "test", Destination("test:T1", "C2"), OutboundMessage.text("other"), key="other"
    )
    started = time.monotonic()
    await core.delivery.drain()
    elapsed = time.monotonic() - started
    assert [r.text for r in slow.sent() if r.dest.channel_id == "C1"] == [f"m{i}" for i in range(6)]
    assert elapsed >= 0.05 * 5 * 0.9


async def test_two_workers_never_deliver_a_row_twice(make_core) -> None:
    shared = RecordingPort()
    first, second = make_core(shared), make_core(shared)
    for i in range(40):
        await first.outbox.send(
            "test", Destination("test:T1", f"C{i % 8}"), OutboundMessage.text(f"n{i}"), key=f"n{i}"
        )
    await asyncio.gather(first.delivery.drain(), second.delivery.drain())
    texts = sorted(r.text for r in shared.sent())
    assert texts == sorted(f"n{i}" for i in range(40))


async def test_cancel_for_recipient(core, port, clock) -> None:
    await core.outbox.send_dm(
        "test",
        "test:T1",
        ("bob",),
        OutboundMessage.text("x"),
        key="c1",
        deliver_after=clock.now().replace(year=2030),
    )
    assert await core.outbox.cancel_for_recipient("test:T1", "bob") == 1
    assert await statuses(core) == [("cancelled", 0)]


async def test_workspace_pacing_spreads_a_fan_out_over_many_channels(make_core) -> None:
    paced = RecordingPort(min_interval=1.0)
    paced.workspace_interval = 0.02  # type: ignore[attr-defined]
    core = make_core(paced)
    sent_at: list[float] = []
    original = paced.send

    async def timed_send(dest, message):
        sent_at.append(time.monotonic())
        if len(sent_at) == 5:
            time.sleep(0.3)  # noqa: ASYNC251 (a stalled event loop: the next booked slots pass)
        return await original(dest, message)

    paced.send = timed_send  # type: ignore[method-assign]
    for i in range(60):
        await core.outbox.send(
            "test", Destination("test:T1", f"C{i}"), OutboundMessage.text(f"m{i}"), key=f"w{i}"
        )
    started = time.monotonic()
    await core.delivery.drain()
    elapsed = time.monotonic() - started
    assert len(paced.sent()) == 60
    assert elapsed >= 59 * 0.02 * 0.95
    # never faster than the workspace allows, over any window of ten requests
    spans = [sent_at[i + 9] - sent_at[i] for i in range(len(sent_at) - 9)]
    assert min(spans) >= 9 * 0.02 * 0.9
    # and not held back by anything but the workspace rate (generous: a loaded CI machine)
    assert elapsed < 59 * 0.02 * 8


async def test_a_file_waits_for_the_message_it_follows(core, port, clock) -> None:
    """A chart queued `after` its figures (another rate key: the person's DM) is not sent
    while the figures back off, and is not polled for meanwhile (drain returns at once)."""
    port.fail_next(DeliveryError("internal_error"))
    figures = Destination("test:T1", "D-bob", ephemeral_user="bob")
    await core.outbox.send("test", figures, OutboundMessage.text("the figures"), key="figures")
    await core.outbox.send_file_dm(
        "test",
        "test:T1",
        "bob",
        "chart.png",
        b"\x89PNG",
        OutboundMessage.text("the chart"),
        key="chart",
        after="figures",
    )
    await core.delivery.drain(timeout=2)
    assert port.sent() == [] and await statuses(core) == [("pending", 1), ("pending", 0)]
    clock.advance(seconds=5)
    await core.delivery.drain(timeout=2)
    assert [r.text for r in port.sent()] == ["the figures", "the chart"]


async def test_a_file_goes_when_the_message_it_follows_cannot(core, port) -> None:
    """Figures that failed for good, or were never queued (answered in the click's own
    response), do not keep their chart back."""
    port.fail_next(DeliveryError("channel_not_found", permanent=True))
    figures = Destination("test:T1", "C1", ephemeral_user="bob")
    await core.outbox.send("test", figures, OutboundMessage.text("the figures"), key="figures")
    for n, after in enumerate(("figures", "never-queued")):
        await core.outbox.send_file_dm(
            "test",
            "test:T1",
            "bob",
            "chart.png",
            b"\x89PNG",
            OutboundMessage.text(f"chart {n}"),
            key=f"chart-{n}",
            after=after,
        )
    await core.delivery.drain(timeout=2)
    assert [r.text for r in port.sent()] == ["chart 0", "chart 1"]
    assert await statuses(core) == [("failed", 1), ("sent", 0), ("sent", 0)]
