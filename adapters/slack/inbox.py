"""The inbox: Events API deliveries are stored, acknowledged, then handled by a worker.

Why: Slack wants an answer within 3 seconds and retries otherwise, while handling an
event (people, settings, narration, matching, queued replies) can take much longer under
load. Storing the delivery is one INSERT, so the acknowledgement stays fast whatever the
core does, and it is durable: the unique (workspace_id, event_id) row turns Slack's
retries and a second replica's copy into no-ops, and an event acknowledged just before a
crash is still handled after the restart. A database outage fails the INSERT, and the
adapter answers 503 so Slack retries.

Events of one conversation ("lane") are handled one at a time, in arrival order (a
message before its edit); different conversations are handled concurrently. Rows are
claimed with a lease, as the core's outbox does, so replicas share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, text
from sqlmodel import col, delete, select, update
from sqlmodel.sql.expression import Select

from bot.clock import Clock, SystemClock, utc
from bot.errors import StoreUnavailable
from bot.events import InboundEvent
from bot.store.engine import Database
from bot.store.tables.slack import SlackInboxItem
from bot.validation import MalformedEvent

from .inbound import to_inbound

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BATCH = 500
FAILED_KEEP = timedelta(days=7)  # failed deliveries kept for inspection, then purged
PURGE_EVERY = 3600.0
SCAN = 512  # rows looked at per pass (small columns only), to find free lanes
PREFETCH = 2  # rows claimed beyond the free slots, so a slot never waits for a pass
# Handling gives way to acknowledgements: while deliveries in this process wait for their
# INSERT (Slack is waiting for those), handlers start one at a time, each after at most this
# many seconds. With serve alone (one process) a burst is acknowledged first and handled
# right after; a web-only replica or the worker process never waits here.
GIVE_WAY_MAX = 0.5
Handle = Callable[[InboundEvent, dict[str, Any]], Awaitable[Any]]


@dataclass
class Claimed:
    """A row this worker leased: what handling it and recording its outcome need."""

    id: int
    lane: str
    event_id: str
    body: dict[str, Any]
    bot_user_id: str | None
    attempts: int
    claim_token: str


# The store-before-ack INSERT on PostgreSQL (see SlackInbox._insert).
_PG_INSERT = text(
    "INSERT INTO slack_inbox (workspace_id, event_id, lane, user_id, body, bot_user_id, status,"
    " attempts, not_before, received_at)"
    " SELECT r->>'w', r->>'e', r->>'l', r->>'u', r->'b', r->>'bu', 'pending', 0, :now, :now"
    " FROM json_array_elements(CAST(:rows AS json)) AS r"
    " ON CONFLICT (workspace_id, event_id) DO NOTHING RETURNING workspace_id, event_id"
)

class SlackInbox:
    def __init__(
        self,
        db: Database,
        handle: Handle,
        *,
        clock: Clock | None = None,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        max_attempts: int = 8,
        base_backoff: float = 1.0,
        lease: timedelta = LEASE,
    ) -> None:
        self.db = db
        self.handle = handle
        self.clock: Clock = clock or SystemClock()
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.lease = lease  # a row whose handler died is claimed again after it
        self.worker_id = uuid.uuid4().hex[:12]
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._busy: set[str] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._queue: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        # PostgreSQL commits concurrent transactions with one WAL flush, so a few batches in
        # flight cut the wait of a delivery that arrives while a batch commits; SQLite has one
        # writer, where a second batch would only queue for the lock.
        self.writers = 3 if db.dialect == "postgresql" else 1
        self._writing: set[asyncio.Task[None]] = set()
        self._give_way = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # --- accepting -----------------------------------------------------------------------

    async def put(
        self, event: InboundEvent, body: Mapping[str, Any], bot_user_id: str | None
    ) -> bool:
        """Store a delivery; False when this event id was stored before (a retry or a copy).
        Raises StoreUnavailable when the database cannot take it.

        Deliveries arriving together are written in one INSERT (group commit): one
        transaction for many acknowledgements, instead of many writers queueing for
        SQLite's single write lock."""
        now = self.clock.now()
        values = {
            "workspace_id": event.workspace_id,
            "event_id": event.event_id[:200],
            "lane": f"{event.workspace_id}:{event.conversation.id}"[:400],
            "user_id": event.user.user_id[:200] or None,
            "body": dict(body),
            "bot_user_id": bot_user_id,
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "received_at": now,
        }
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((values, future))
        if sum(not task.done() for task in self._writing) < self.writers:
            task = asyncio.create_task(self._write(), name="slack-inbox-writer")
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)
        return await future

    async def _write(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
            try:
                stored = await self._insert([values for values, _ in batch])
            except Exception as exc:
                error = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(str(exc))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for values, future in batch:
                key = (values["workspace_id"], values["event_id"])
                if not future.done():
                    future.set_result(key in stored)
                stored.discard(key)  # a second copy in the same batch is a duplicate
            self._wake.set()

    async def _insert(self, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """INSERT … ON CONFLICT DO NOTHING RETURNING: the keys that were new."""
        unique: dict[tuple[str, str], dict[str, Any]] = {}
        for values in rows:
            unique.setdefault((values["workspace_id"], values["event_id"]), values)
        engine = self.db.autocommit_engine(self.writers)
        if self.db.dialect == "postgresql":
            # One SQL text whatever the batch size (the rows as one JSON document, taken
            # apart by the server): compiled and converted once, and nothing to escape, where
            # a multi-row VALUES list is a new statement for every batch size.
            items = list(unique.values())
            rows_json = json.dumps([{"w": v["workspace_id"], "e": v["event_id"], "l": v["lane"],
                                     "u": v["user_id"], "b": v["body"], "bu": v["bot_user_id"]}
                                    for v in items], ensure_ascii=False)
            params = {"rows": rows_json, "now": items[0]["received_at"]}
            async with engine.connect() as conn:
                result = await conn.execute(_PG_INSERT, params)
                return {(row[0], row[1]) for row in result}
        from sqlalchemy.dialects.sqlite import insert

        table = SlackInboxItem.__table__  # type: ignore[attr-defined]
        # one cached statement, executed for many rows ("insertmanyvalues" batches them)
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["workspace_id", "event_id"])
            .returning(table.c.workspace_id, table.c.event_id)
        )
        # One statement in autocommit on a connection of its own (no pre-ping, no BEGIN and
        # COMMIT round trips): durable when it returns, as a committed transaction is.
        async with engine.connect() as conn:
            result = await conn.execute(statement, list(unique.values()))
            return {(row[0], row[1]) for row in result}

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="slack-inbox")

    async def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            self._task = None
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=timeout)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until nothing due is pending or being handled (for tests and shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self._inflight and not await self._due_count():
                return
            self._wake.set()
            await asyncio.sleep(0.01)
        raise TimeoutError("Slack inbox not idle in time")

    async def purge(self, keep: timedelta = FAILED_KEEP) -> int:
        """Delete rows that failed for good longer ago than `keep` (they hold message text)."""
        cutoff = self.clock.now() - keep
        async with self.db.session() as s:
            result = await s.exec(
                delete(SlackInboxItem).where(
                    col(SlackInboxItem.status) == "failed",
                    col(SlackInboxItem.received_at) < cutoff,
                )
            )
            await s.commit()
            return int(result.rowcount or 0)

    async def _run(self) -> None:
        last_purge = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if loop.time() - last_purge > PURGE_EVERY:
                    last_purge = loop.time()
                    if purged := await self.purge():
                        log.info("purged %d failed Slack events", purged)
                await self.run_once()
            except StoreUnavailable as exc:
                log.warning("Slack inbox paused, database unavailable: %s", exc)
            except Exception:
                log.exception("Slack inbox loop error")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    # --- one pass ------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim the next due row of free lanes, as many as there are free slots, and start
        handling them.

        The scan reads only the small columns (no bodies), and the claim is one UPDATE …
        RETURNING that brings back the claimed rows' bodies: a pass costs two statements
        whatever the backlog, so a long backlog does not slow the process (and its
        acknowledgements) down."""
        room = self.concurrency + PREFETCH - len(self._inflight)
        if room <= 0:
            return 0
        now = self.clock.now()
        t = SlackInboxItem
        async with self.db.session() as s:
            # sqlmodel's select() is typed for up to four columns; its Select takes any number
            query: Select[int, str, str, datetime | None, datetime] = Select(
                col(t.id), col(t.lane), col(t.status), col(t.claimed_until), col(t.not_before)
            )
            rows = (
                await s.exec(
                    query.where(col(t.status).in_(("pending", "sending")))
                    .order_by(col(t.id))
                    .limit(SCAN)
                )
            ).all()
        chosen: list[int] = []
        seen: set[str] = set()
        for row_id, lane, status, claimed_until, not_before in rows:
            if lane in seen or lane in self._busy:
                continue
            seen.add(lane)  # later rows of this lane wait for this one, in order
            leased = status == "sending" and claimed_until and utc(claimed_until) > now
            if leased or utc(not_before) > now:
                continue
            chosen.append(row_id)
            if len(chosen) >= room:
                break
        if not chosen:
            return 0
        claimed = await self._claim(chosen, now)
        for item in sorted(claimed, key=lambda item: item.id):
            self._busy.add(item.lane)
            task = asyncio.create_task(self._process(item))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(claimed)

    async def _claim(self, ids: list[int], now: datetime) -> list[Claimed]:
        """Lease the rows still free (another replica may have taken some), in one UPDATE."""
        token = f"{self.worker_id}:{uuid.uuid4().hex[:8]}"
        t = SlackInboxItem
        statement = (
            update(t)
            .where(  # type: ignore[call-overload]
                col(t.id).in_(ids),
                or_(
                    col(t.status) == "pending",
                    (col(t.status) == "sending") & (col(t.claimed_until) < now),
                ),
            )
            .values(status="sending", claim_token=token, claimed_until=now + self.lease)
            .returning(t.id, t.lane, t.event_id, t.body, t.bot_user_id, t.attempts)
        )
        async with self.db.session() as s:
            result = await s.exec(statement)
            claimed = [
                Claimed(row_id, lane, event_id, body, bot_user_id, attempts, claim_token=token)
                for row_id, lane, event_id, body, bot_user_id, attempts in result.all()
            ]
            await s.commit()
        return claimed

    async def _process(self, row: Claimed) -> None:
        try:
            async with self._slots:
                await self._after_waiting_acks()
                try:
                    event = to_inbound(row.body, bot_user_id=row.bot_user_id)
                    if event is not None:
                        await self.handle(event, row.body)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    await self._failed(row, exc)
                else:
                    await self._done(row)
        except StoreUnavailable as exc:
            log.warning("could not record the outcome of Slack event %s: %s", row.event_id, exc)
        finally:
            self._busy.discard(row.lane)
            self._wake.set()

    def _acks_waiting(self) -> bool:
        return bool(self._queue) or any(not task.done() for task in self._writing)

    async def _after_waiting_acks(self) -> None:
        if not self._acks_waiting():
            return
        async with self._give_way:  # one handler at a time waits its turn
            loop = asyncio.get_running_loop()
            deadline = loop.time() + GIVE_WAY_MAX
            while self._acks_waiting() and (left := deadline - loop.time()) > 0:
                writers = [task for task in self._writing if not task.done()]
                if not writers:  # queued, its writer not started yet: let it start
                    await asyncio.sleep(0)
                    continue
                await asyncio.wait(writers, timeout=left)

    async def _done(self, row: Claimed) -> None:
        async with self.db.session() as s:
            await s.exec(
                delete(SlackInboxItem).where(
                    col(SlackInboxItem.id) == row.id,
                    col(SlackInboxItem.claim_token) == row.claim_token,
                )
            )
            await s.commit()

    async def _failed(self, row: Claimed, exc: Exception) -> None:
        attempts = row.attempts + 1
        reason = f"{type(exc).__name__}: {exc}"[:500]
        values: dict[str, Any] = {"attempts": attempts, "last_error": reason, "claimed_until": None}
        if isinstance(exc, MalformedEvent):  # a body no Slack request has: never retried
            log.error("Slack event %s dropped, malformed: %s", row.event_id, reason)
            values["status"] = "failed"
        elif attempts >= self.max_attempts and not isinstance(exc, StoreUnavailable):
            log.error("Slack event %s failed for good after %d attempts: %s",
                      row.event_id, attempts, reason)  # fmt: skip
            values["status"] = "failed"
        else:
            delay = min(300.0, self.base_backoff * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
            log.warning(
                "Slack event %s failed (%s); retrying in %.1fs", row.event_id, reason, delay
            )
            values |= {
                "status": "pending",
                "not_before": self.clock.now() + timedelta(seconds=delay),
            }
        async with self.db.session() as s:
            await s.exec(
                update(SlackInboxItem)
                .where(
                    col(SlackInboxItem.id) == row.id,
                    col(SlackInboxItem.claim_token) == row.claim_token,
                )
                .values(**values)
            )
            await s.commit()

    async def _due_count(self) -> int:
        from sqlalchemy import func

        now = self.clock.now()
        async with self.db.session() as s:
            result = await s.exec(
                select(func.count())
                .select_from(SlackInboxItem)
                .where(
                    col(SlackInboxItem.status).in_(("pending", "sending")),
                    col(SlackInboxItem.not_before) <= now,
                )
            )
            return int(result.one())
