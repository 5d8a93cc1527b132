"""The delivery worker: claims due outbox rows and hands them to the platform's port.

Claiming is one conditional UPDATE per row (status pending → sending, with a lease),
so two replicas never deliver the same row; a row whose worker died is claimed again
when its lease expires. Rate limits are applied per key before claiming, 429s pause
the key, transient errors back off exponentially, permanent errors fail the row with
a logged reason.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import col, func, select, update

from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.delivery.outbox import Outbox, load_destination, load_message
from bot.delivery.ratelimit import RateLimiter
from bot.errors import StoreUnavailable
from bot.messages import Form, OutboundMessage, Quote
from bot.ports import ChatPort, DeliveryError, Destination, FileSender
from bot.store.engine import Database
from bot.store.tables import OutboxItem

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
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
        self.batch, self.poll_seconds = batch, poll_seconds
        self.limiter = RateLimiter()
        self.worker_id = uuid.uuid4().hex
        self.failure_hooks: list[FailureHook] = []
        self._slots = asyncio.Semaphore(concurrency)
        self._busy_keys: set[str] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

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
                        or_(
                            col(OutboxItem.status) == "pending",
                            (col(OutboxItem.status) == "sending")
                            & (col(OutboxItem.claimed_until) < now),
                        ),
                        col(OutboxItem.not_before) <= now,
                    )
                    .order_by(col(OutboxItem.not_before), col(OutboxItem.id))
                    .limit(self.batch * 4)
                )
            )
        picked: list[tuple[OutboxItem, str, float]] = []
        held: set[str] = set()  # keys skipped in this pass: later rows must not overtake
        booked: dict[str, float] = {}  # workspace key -> seconds booked ahead in this pass
        for row in rows:
            if len(picked) >= self.batch:
                break
            if row.rate_key in held or row.rate_key in self._busy_keys or \
                    self.limiter.wait_time(row.rate_key) > 0:
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
        won = await self._claim_many([row for row, _, _ in picked], now)
        for row, ws_key, ws_interval in picked:
            if row.id not in won:
                continue  # another worker claimed it first
            self._busy_keys.add(row.rate_key)
            slot = self.limiter.reserve(ws_key, ws_interval) if ws_interval else None
            task = asyncio.create_task(self._deliver(row, slot))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(won)

    async def _claim_many(self, rows: list[OutboxItem], now: datetime) -> set[int]:
        """Claim rows in one statement; returns the ids this worker won."""
        if not rows:
            return set()
        token = f"{self.worker_id}:{uuid.uuid4().hex[:8]}"
        async with self.db.session() as s:
            result = await s.exec(
                update(OutboxItem)
                .where(  # type: ignore[call-overload]
                    col(OutboxItem.id).in_([row.id for row in rows]),
                    or_(
                        col(OutboxItem.status) == "pending",
                        (col(OutboxItem.status) == "sending")
                        & (col(OutboxItem.claimed_until) < now),
                    ),
                )
                .values(status="sending", claim_token=token, claimed_until=now + LEASE)
                .returning(OutboxItem.id)
            )
            won = {row_id for (row_id,) in result.all()}
            await s.commit()
        for row in rows:
            row.claim_token = token
        return won

    @staticmethod
    def _workspace_limit(row: OutboxItem, port: ChatPort) -> tuple[str, float]:
        """A platform's limit on all requests to one workspace (`ChatPort.workspace_interval`,
        seconds between requests; 0 when the platform has none)."""
        return (f"{row.platform}:{row.workspace_id}:*",
                float(getattr(port, "workspace_interval", 0.0) or 0.0))

    async def _deliver(self, row: OutboxItem, slot: float | None = None) -> None:
        port = self.ports[row.platform]
        try:
            if slot is not None:  # the booked workspace-wide slot
                await asyncio.sleep(max(0.0, slot - time.monotonic()))
            async with self._slots:
                wait = self.limiter.wait_time(row.rate_key)
                if wait > 0:
                    await asyncio.sleep(wait)
                self.limiter.reserve(row.rate_key, float(getattr(port, "min_interval", 0.0)))
                try:
                    message_id = await self._perform(port, row)
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
                        extra = {"payload": {}} if row.op == "file" else {}  # personal data
                        await self._finish(row, "sent", result_message_id=message_id,
                                           sent_at=self.clock.now(), **extra)
        except StoreUnavailable as exc:
            log.warning("could not record delivery of %s: %s", row.id, exc)
        finally:
            self._busy_keys.discard(row.rate_key)
            self.outbox.wakeup.set()

    async def _perform(self, port: ChatPort, row: OutboxItem) -> str | None:
        dest = load_destination(row.destination)
        payload: dict[str, Any] = row.payload
        if row.op == "send":
            return (await port.send(dest, load_message(payload))).message_id
        if row.op == "dm":
            channel = await port.open_dm(dest.workspace_id, tuple(payload["user_ids"]))
            dm = load_destination({**row.destination, "channel_id": channel})
            return (await port.send(dm, load_message(payload))).message_id
        if row.op == "file":
            channel = await port.open_dm(dest.workspace_id, tuple(payload["user_ids"]))
            dm = load_destination({**row.destination, "channel_id": channel})
            content = (base64.b64decode(payload["content_b64"]) if "content_b64" in payload
                       else payload["content"])
            return await send_file(port, dm, payload["filename"], content,
                                   load_message(payload))
        if row.op == "update":
            await port.update(dest, payload["message_id"], load_message(payload))
            return payload["message_id"]
        if row.op == "react":
            await port.react(dest, payload["message_id"], payload["emoji"])
            return None
        if row.op == "form":
            await port.open_form(dest, Form.model_validate(payload["form"]))
            return None
        raise DeliveryError(f"unknown outbox operation {row.op!r}", permanent=True)

    async def _failed(self, row: OutboxItem, exc: DeliveryError) -> None:
        now = self.clock.now()
        if exc.retry_after is not None:
            self.limiter.pause(row.rate_key, exc.retry_after)
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
        delay = min(
            self.config.max_backoff_seconds, self.config.base_backoff_seconds * 2 ** (attempts - 1)
        )
        delay *= random.uniform(0.8, 1.2)
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

    async def _erase(self, row: OutboxItem) -> None:
        async with self.db.session() as s:
            await s.exec(delete(OutboxItem).where(  # type: ignore[call-overload]
                col(OutboxItem.id) == row.id, col(OutboxItem.claim_token) == row.claim_token))
            await s.commit()

    async def _finish(self, row: OutboxItem, status: str, **values: Any) -> None:
        """Record the outcome, but only while this worker still holds the claim."""
        async with self.db.session() as s:
            await s.exec(
                update(OutboxItem)
                .where(  # type: ignore[call-overload]
                    col(OutboxItem.id) == row.id,
                    col(OutboxItem.claim_token) == row.claim_token,
                )
                .values(status=status, claimed_until=None, **values)
            )
            await s.commit()

    async def _due_now(self) -> int:
        now = self.clock.now()
        async with self.db.session() as s:
            result = await s.exec(select(func.count()).select_from(OutboxItem).where(
                or_(col(OutboxItem.status) == "pending",
                    (col(OutboxItem.status) == "sending")
                    & (col(OutboxItem.claimed_until) < now)),
                col(OutboxItem.not_before) <= now,
                col(OutboxItem.platform).in_(list(self.ports))))
            return int(result.one())

    async def _seconds_until_next_due(self) -> float | None:
        async with self.db.session() as s:
            result = await s.exec(
                select(func.min(OutboxItem.not_before)).where(col(OutboxItem.status) == "pending")
            )
            earliest = result.one()
        if earliest is None:
            return None
        from bot.clock import utc

        seconds = (utc(earliest) - self.clock.now()).total_seconds()
        if seconds <= 0:
            # due now but held back by a rate limit or a busy key: wake when one frees up
            return 0.01 if not self._inflight else None
        return seconds


FILE_CHUNK = 2800


async def send_file(port: ChatPort, dest: Destination, filename: str, content: str | bytes,
                    message: OutboundMessage) -> str:
    """A file where the port can send files; otherwise the text in numbered quoted parts
    (binary content, e.g. a chart, is left out where the port cannot send files)."""
    if isinstance(port, FileSender):
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        return (await port.send_file(dest, filename, data, message)).message_id
    if isinstance(content, bytes):
        return (await port.send(dest, message)).message_id
    first = (await port.send(dest, message)).message_id
    chunks = [content[i:i + FILE_CHUNK] for i in range(0, len(content), FILE_CHUNK)] or [""]
    for n, chunk in enumerate(chunks, 1):
        label = f"{filename} ({n}/{len(chunks)})"
        await port.send(dest, OutboundMessage.of(Quote(text=chunk), Quote(text=label)))
    return first
