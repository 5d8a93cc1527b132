"""The delivery worker: claims due outbox rows and hands them to the platform's port.

Claiming is one conditional UPDATE per row (status pending → sending, with a lease),
so two replicas never deliver the same row; a row whose worker died is claimed again
when its lease expires. Rate limits are applied per key before claiming, 429s pause
the key, transient errors back off exponentially, permanent errors fail the row with
a logged reason.

Exactly once across crashes and timeouts: a row stays `sending` while the outcome of its
attempt is unknown (its worker died mid-request, or the request timed out or got a 5xx
after it may have reached the platform). Before such a row is sent again, a port that is
a `DeliveryVerifier` is asked whether the tagged message already arrived; if it did, the
row is recorded as sent. Ports without it re-send (at least once).

A claimed row may wait (for a free delivery slot, a rate limit) and its request may be slow
when the machine is loaded, longer than the lease. So the worker renews the leases of the
rows it holds every third of a lease while it works on them, and right before a request it
makes sure the row is still its own (renewing it when the last renewal is over half a lease
old): a worker whose lease was taken over by another replica does not send. A worker that
died renews nothing, and its rows are claimed again when their lease runs out.

Rows of one rate key are sent one at a time, oldest first. A row queued `after` another
(`outbox.AFTER`: a Teams chart after its figures, whose keys differ though both reach the
same personal chat) waits until that row is sent, failed for good, cancelled or erased.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case
from sqlmodel import col, func, select, update

from bot.clock import Clock, utc
from bot.config import DeliveryConfig
from bot.delivery.outbox import AFTER, Outbox, load_destination, load_message
from bot.delivery.queue import PENDING, SENDING, LeasedQueue, Leases, backoff
from bot.delivery.ratelimit import RateLimiter
from bot.errors import StoreUnavailable
from bot.messages import Form, OutboundMessage, Quote
from bot.metrics import METRICS
from bot.ports import ChatPort, DeliveryError, DeliveryVerifier, Destination, FileSender, Sent
from bot.store.engine import Database, table_of
from bot.store.tables import OutboxItem

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)  # the default of `delivery.lease_seconds`
# How much earlier than a row's `not_before` a tagged copy is looked for (clock skew).
VERIFY_MARGIN = timedelta(seconds=30)
VERIFIABLE = ("send", "dm")
# How far ahead workspace-wide slots are booked: rows whose slot starts later stay unclaimed.
HORIZON = 2.0
FailureHook = Callable[[OutboxItem, str], Awaitable[None]]


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        ports: Mapping[str, ChatPort],
        clock: Clock,
        config: DeliveryConfig,
        *,
        batch: int = 64,
        concurrency: int = 16,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db, self.outbox, self.ports, self.clock = db, outbox, ports, clock
        self.config = config
        self.lease = timedelta(seconds=config.lease_seconds)
        self.queue = LeasedQueue(db, OutboxItem, lease=self.lease)
        self.batch, self.poll_seconds = batch, poll_seconds
        self.limiter = RateLimiter()
        # when each workspace may really be written to next: booked slots say when a request
        # may start, but tasks that wake late together (a stalled loop) would otherwise burst
        self._spacing = RateLimiter()
        self.worker_id = self.queue.worker_id
        self.failure_hooks: list[FailureHook] = []
        self._slots = asyncio.Semaphore(concurrency)
        self._busy_keys: set[str] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # deliveries waiting to be recorded as sent, written together (group commit)
        self._sent: list[tuple[OutboxItem, str | None, asyncio.Future[None]]] = []
        self._recorder: asyncio.Task[None] | None = None
        # rows this worker claimed and still works on, their leases renewed (queue.Leases)
        self._held = Leases(self.queue, clock, name="delivery leases")

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="wolbot-delivery")

    async def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self.outbox.wakeup.set()
        if self._task is not None:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
            self._task = None
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=timeout)
        await self._held.stop()

    async def drain(self, timeout: float = 30.0) -> None:
        """Deliver everything due now, waiting out rate-limit pacing; rows scheduled for later
        (by `deliver_after`, back-off or Retry-After) are left for later. For the console and
        tests."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            claimed = await self.run_once()
            if self._inflight:
                await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            if claimed:
                continue
            if await self._due_now() == 0:
                return
            if loop.time() > deadline:
                raise TimeoutError("outbox not drained in time")
            await asyncio.sleep(0.01)  # due rows are held by a rate limit: let it pass

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.run_once()
                wait = await self._seconds_until_next_due()
            except StoreUnavailable as exc:
                log.warning("delivery paused, database unavailable: %s", exc)
                wait = self.poll_seconds
            except Exception:
                log.exception("delivery loop error")
                wait = self.poll_seconds
            self.outbox.wakeup.clear()
            timeout = (
                self.poll_seconds if wait is None else min(max(wait, 0.001), self.poll_seconds)
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.wakeup.wait(), timeout)

    # -- one pass ----------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Claim and start delivering due rows whose rate key is free; returns how many."""
        now = self.clock.now()
        async with self.db.session() as s:
            rows = list(
                await s.exec(
                    select(OutboxItem)
                    .where(
                        self.queue.claimable(now),
                        col(OutboxItem.not_before) <= now,
                    )
                    .order_by(col(OutboxItem.not_before), col(OutboxItem.id))
                    .limit(self.batch * 4)
                )
            )
        picked: list[tuple[OutboxItem, str, float]] = []
        # rows whose last attempt has no known outcome (lease expired, or uncertain failure)
        unconfirmed = {row.id for row in rows if row.status == "sending"}
        held: set[str] = set()  # keys skipped in this pass: later rows must not overtake
        waiting = await self._waiting(rows, now)  # rows whose leading row is not yet sent
        booked: dict[str, float] = {}  # workspace key -> seconds booked ahead in this pass
        for row in rows:
            if len(picked) >= self.batch:
                break
            if (
                row.rate_key in held
                or row.id in waiting
                or row.rate_key in self._busy_keys
                or self.limiter.wait_time(row.rate_key) > 0
            ):
                held.add(row.rate_key)
                continue
            port = self.ports.get(row.platform)
            if port is None:
                continue  # another process (with that adapter) will deliver it
            ws_key, ws_interval = self._workspace_limit(row, port)
            ahead = booked.get(ws_key, self.limiter.wait_time(ws_key))
            if ws_interval and ahead > HORIZON:
                held.add(row.rate_key)
                continue  # the workspace's budget is booked for the next seconds
            booked[ws_key] = ahead + ws_interval
            held.add(row.rate_key)  # one row per conversation per pass
            picked.append((row, ws_key, ws_interval))
        claimed_at = self.clock.now()  # the lease starts now, not when this pass began
        won = await self._claim_many([row for row, _, _ in picked], claimed_at)
        for row, ws_key, ws_interval in picked:
            if row.id not in won:
                continue  # another worker claimed it first
            self._held.hold(row.id, row.claim_token or "", claimed_at)
            self._busy_keys.add(row.rate_key)
            slot = (
                (self.limiter.reserve(ws_key, ws_interval), ws_key, ws_interval)
                if ws_interval
                else None
            )
            task = asyncio.create_task(self._deliver(row, slot, row.id in unconfirmed))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(won)

    async def _waiting(self, rows: list[OutboxItem], now: datetime) -> set[int]:
        """The rows that must follow a row still pending or being sent (`AFTER`: a chart
        after its figures), left for a later pass. One whose leading row can only go later
        (a back-off, a Retry-After) is postponed to then, so nothing polls for it meanwhile;
        one whose leading row was sent, failed for good, was cancelled or erased goes."""
        follows = {
            row.id: str(row.payload[AFTER])
            for row in rows
            if row.id is not None and row.payload.get(AFTER)
        }
        if not follows:
            return set()  # the usual pass: no query
        waiting: set[int] = set()
        async with self.db.session() as s:
            leaders = {
                leader.idempotency_key: leader
                for leader in await s.exec(
                    select(OutboxItem).where(
                        col(OutboxItem.idempotency_key).in_(set(follows.values())),
                        col(OutboxItem.status).in_((PENDING, SENDING)),
                    )
                )
            }
            for row_id, key in follows.items():
                leader = leaders.get(key)
                if leader is None:
                    continue
                waiting.add(row_id)
                if leader.status == PENDING:
                    resume = utc(leader.not_before)
                elif leader.id in self._held:
                    continue  # sent by this worker now: its end wakes the delivery loop
                else:  # another worker's, or an uncertain attempt's back-off: look again then
                    lease = leader.claimed_until
                    resume = min(
                        utc(lease) if lease is not None else now,
                        now + timedelta(seconds=self.poll_seconds),
                    )
                if resume > now:
                    await s.exec(
                        update(OutboxItem)
                        .where(col(OutboxItem.id) == row_id, col(OutboxItem.status) == PENDING)
                        .values(not_before=resume)
                    )
            await s.commit()
        return waiting

    async def _claim_many(self, rows: list[OutboxItem], now: datetime) -> set[int]:
        """Claim rows in one statement; returns the ids this worker won."""
        if not rows:
            return set()
        token, won = await self.queue.claim([row.id for row in rows if row.id is not None], now)
        for row in rows:
            row.claim_token = token
        return {row_id for (row_id,) in won}

    @staticmethod
    def _workspace_limit(row: OutboxItem, port: ChatPort) -> tuple[str, float]:
        """A platform's limit on all requests to one workspace (`ChatPort.workspace_interval`,
        seconds between requests; 0 when the platform has none)."""
        return (
            f"{row.platform}:{row.workspace_id}:*",
            float(getattr(port, "workspace_interval", 0.0) or 0.0),
        )

    async def _deliver(
        self,
        row: OutboxItem,
        slot: tuple[float, str, float] | None = None,
        unconfirmed: bool = False,
    ) -> None:
        """`slot`: the booked workspace-wide start, its key and the workspace's interval."""
        port = self.ports[row.platform]
        try:
            if slot is not None:
                await asyncio.sleep(max(0.0, slot[0] - time.monotonic()))
            async with self._slots:
                wait = self.limiter.wait_time(row.rate_key)
                if wait > 0:
                    await asyncio.sleep(wait)
                self.limiter.reserve(row.rate_key, float(getattr(port, "min_interval", 0.0)))
                if slot is not None:  # spaced at the moment of sending, whatever woke late
                    while (wait := self._spacing.take(slot[1], slot[2])) > 0:  # noqa: ASYNC110
                        await asyncio.sleep(wait)
                if not await self._held.still_ours(row.id):
                    METRICS.delivery(row.platform, "lease_lost")
                    log.warning(
                        "delivery %s (%s): its lease ran out before it was sent and "
                        "another worker has it; not sending it here",
                        row.id,
                        row.op,
                    )
                    return
                try:
                    found = await self._verify(port, row) if unconfirmed else None
                    message_id = (
                        found.message_id if found is not None else await self._perform(port, row)
                    )
                except DeliveryError as exc:
                    await self._failed(row, exc)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("delivery %s (%s) raised", row.id, row.op)
                    await self._failed(row, DeliveryError(f"{type(exc).__name__}: {exc}"))
                else:
                    if row.payload.get("erase_after_delivery"):
                        await self._erase(row)
                    else:
                        await self._record_sent(row, message_id)
        except StoreUnavailable as exc:
            log.warning("could not record delivery of %s: %s", row.id, exc)
        finally:
            self._held.release(row.id)
            self._busy_keys.discard(row.rate_key)
            self.outbox.wakeup.set()

    async def _target(self, port: ChatPort, row: OutboxItem) -> Destination:
        """Where a `send` or `dm` row goes (a DM is opened first)."""
        if row.op == "dm":
            channel = await port.open_dm(
                row.destination["workspace_id"], tuple(row.payload["user_ids"])
            )
            return load_destination({**row.destination, "channel_id": channel})
        return load_destination(row.destination)

    async def _verify(self, port: ChatPort, row: OutboxItem) -> Sent | None:
        """Whether an earlier attempt of this row, whose outcome is unknown, did arrive."""
        if row.op not in VERIFIABLE or not isinstance(port, DeliveryVerifier):
            return None
        since = utc(row.not_before) - VERIFY_MARGIN
        try:
            found = await port.find_tagged(await self._target(port, row), delivery_tag(row), since)
        except DeliveryError as exc:
            if exc.permanent:  # e.g. no history scope: send again (at least once)
                log.warning(
                    "cannot check whether %s arrived (%s); sending it again", row.id, exc.reason
                )
                return None
            raise DeliveryError(
                f"checking an earlier attempt: {exc.reason}",
                uncertain=True,
                retry_after=exc.retry_after,
            ) from None
        if found is not None:
            log.info(
                "delivery %s (%s) had arrived before its worker could record it", row.id, row.op
            )
        return found

    async def _perform(self, port: ChatPort, row: OutboxItem) -> str | None:
        dest = load_destination(row.destination)
        payload: dict[str, Any] = row.payload
        if row.op in VERIFIABLE:
            target = await self._target(port, row)
            message = load_message(payload)
            if isinstance(port, DeliveryVerifier):
                return (await port.send_tagged(target, message, delivery_tag(row))).message_id
            return (await port.send(target, message)).message_id
        if row.op == "file":
            channel = await port.open_dm(dest.workspace_id, tuple(payload["user_ids"]))
            dm = load_destination({**row.destination, "channel_id": channel})
            content = (
                base64.b64decode(payload["content_b64"])
                if "content_b64" in payload
                else payload["content"]
            )
            return await send_file(port, dm, payload["filename"], content, load_message(payload))
        if row.op == "update":
            await port.update(dest, payload["message_id"], load_message(payload))
            return str(payload["message_id"])
        if row.op == "react":
            await port.react(dest, payload["message_id"], payload["emoji"])
            return None
        if row.op == "form":
            await port.open_form(dest, Form.model_validate(payload["form"]))
            return None
        raise DeliveryError(f"unknown outbox operation {row.op!r}", permanent=True)

    async def _failed(self, row: OutboxItem, exc: DeliveryError) -> None:
        now = self.clock.now()
        port = self.ports.get(row.platform)
        if (
            exc.uncertain
            and row.op in VERIFIABLE
            and isinstance(port, DeliveryVerifier)
            and row.attempts + 1 < self.config.max_attempts
        ):
            # It may have arrived: the row stays `sending` (checked before the next attempt),
            # claimable again when this back-off "lease" runs out.
            attempts = row.attempts + 1
            delay = exc.retry_after if exc.retry_after is not None else self._backoff(attempts)
            METRICS.delivery(row.platform, "uncertain")
            log.warning(
                "delivery %s: outcome unknown (%s); checking and retrying in %.1fs",
                row.id,
                exc.reason,
                delay,
            )
            await self._finish(
                row,
                "sending",
                attempts=attempts,
                last_error=exc.reason[:500],
                claimed_until=now + timedelta(seconds=delay),
            )
            return
        if exc.retry_after is not None:
            self.limiter.pause(row.rate_key, exc.retry_after)
            METRICS.delivery(row.platform, "rate_limited")
            log.info("rate limited on %s; retrying in %.1fs", row.rate_key, exc.retry_after)
            await self._finish(
                row,
                "pending",
                not_before=now + timedelta(seconds=exc.retry_after),
                last_error=exc.reason[:500],
            )
            return
        attempts = row.attempts + 1
        if exc.permanent or attempts >= self.config.max_attempts:
            METRICS.delivery(row.platform, "failed")
            log.error(
                "delivery %s (%s to %s) failed for good after %d attempt(s): %s",
                row.id,
                row.op,
                row.rate_key,
                attempts,
                exc.reason,
            )
            await self._finish(row, "failed", attempts=attempts, last_error=exc.reason[:500])
            for hook in self.failure_hooks:
                try:
                    await hook(row, exc.reason)
                except Exception:
                    log.exception("delivery failure hook raised")
            return
        delay = self._backoff(attempts)
        METRICS.delivery(row.platform, "retried")
        log.warning(
            "delivery %s failed (%s); attempt %d, retrying in %.1fs",
            row.id,
            exc.reason,
            attempts,
            delay,
        )
        await self._finish(
            row,
            "pending",
            attempts=attempts,
            last_error=exc.reason[:500],
            not_before=now + timedelta(seconds=delay),
        )

    def _backoff(self, attempts: int) -> float:
        return backoff(attempts, self.config.base_backoff_seconds, self.config.max_backoff_seconds)

    async def _record_sent(self, row: OutboxItem, message_id: str | None) -> None:
        """Record a delivery as sent; returns once it is committed. Deliveries that finish
        while a write is under way are recorded together in the next one: one transaction
        for many rows instead of one each, which is what keeps a fan-out at the platform's
        rate when the database is busy."""
        METRICS.delivery(row.platform, "sent")
        if row.op == "file":  # the file's content is personal data: cleared once delivered
            await self._finish(
                row, "sent", result_message_id=message_id, sent_at=self.clock.now(), payload={}
            )
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent.append((row, message_id, done))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._write_sent())
        await done

    async def _write_sent(self) -> None:
        table = table_of(OutboxItem)
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"), table.c.claim_token == bindparam("token"))
            .values(
                status="sent",
                claimed_until=None,
                result_message_id=bindparam("message_id"),
                sent_at=bindparam("at"),
            )
        )
        while self._sent:
            batch, self._sent = self._sent, []
            now = self.clock.now()
            params = [
                {"row_id": row.id, "token": row.claim_token, "message_id": message_id, "at": now}
                for row, message_id, _ in batch
            ]
            try:
                async with self.db.session() as s:
                    await s.exec(statement, params=params)
                    await s.commit()
            except BaseException as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(
                            exc
                            if isinstance(exc, Exception)
                            else StoreUnavailable("delivery stopped")
                        )
                if not isinstance(exc, Exception):
                    raise
                continue
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _erase(self, row: OutboxItem) -> None:
        if row.id is not None:
            await self.queue.remove(row.id, row.claim_token)

    async def _finish(self, row: OutboxItem, status: str, **values: Any) -> None:
        """Record the outcome, but only while this worker still holds the claim."""
        if row.id is not None:
            await self.queue.finish(row.id, row.claim_token, status, **values)

    async def _due_now(self) -> int:
        return await self.queue.due_count(
            self.clock.now(), col(OutboxItem.platform).in_(list(self.ports))
        )

    async def _seconds_until_next_due(self) -> float | None:
        status = col(OutboxItem.status)
        async with self.db.session() as s:
            result = await s.exec(
                select(
                    func.min(case((status == "pending", col(OutboxItem.not_before)))),
                    func.min(case((status == "sending", col(OutboxItem.claimed_until)))),
                ).where(status.in_(("pending", "sending")))
            )
            pending, leased = result.one()
        times = [utc(t) for t in (pending, leased) if t is not None]
        earliest = min(times) if times else None
        if earliest is None:
            return None
        seconds = (utc(earliest) - self.clock.now()).total_seconds()
        if seconds <= 0:
            # due now but held back by a rate limit or a busy key: wake when one frees up
            return 0.01 if not self._inflight else None
        return seconds


FILE_CHUNK = 2800


def delivery_tag(row: OutboxItem) -> str:
    """The opaque tag a verifiable message carries: a hash of the row's idempotency key
    (stable across attempts and replicas, and no personal data in the platform's metadata)."""
    return hashlib.sha256(row.idempotency_key.encode("utf-8")).hexdigest()[:24]


async def send_file(
    port: ChatPort, dest: Destination, filename: str, content: str | bytes, message: OutboundMessage
) -> str:
    """A file where the port can send files; otherwise the text in numbered quoted parts
    (binary content, e.g. a chart, is left out where the port cannot send files)."""
    if isinstance(port, FileSender):
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        return (await port.send_file(dest, filename, data, message)).message_id
    if isinstance(content, bytes):
        return (await port.send(dest, message)).message_id
    first = (await port.send(dest, message)).message_id
    chunks = [content[i : i + FILE_CHUNK] for i in range(0, len(content), FILE_CHUNK)] or [""]
    for n, chunk in enumerate(chunks, 1):
        label = f"{filename} ({n}/{len(chunks)})"
        await port.send(dest, OutboundMessage.of(Quote(text=chunk), Quote(text=label)))
    return first
