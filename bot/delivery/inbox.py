"""The inbox: inbound events of every platform are stored, acknowledged, then handled.

Why: a platform wants its answer fast (Slack within 3 seconds, Teams within 15) and retries
otherwise, while handling an event (people, settings, narration, matching, queued replies)
can take much longer under load. Storing the *neutral* event (translated once, by the
adapter, before it is stored) is one INSERT, so the acknowledgement stays fast whatever the
core does, and it is durable: an event acknowledged just before a crash is handled after the
restart. A database outage fails the INSERT and the adapter answers 503, so the platform
retries.

The unique (workspace_id, event_key) row is the event's one duplicate check: a platform's
retry or a second replica's copy finds it and stops, and the core does not check again
(`Wolbot.handle(..., claimed=True)`). A handled row is kept as `done`, emptied of the event,
the person and the conversation, for `EVENT_ID_RETENTION`, so late retries stay no-ops.

Events of one conversation ("lane") are handled one at a time, in arrival order (a message
before its edit); different conversations are handled concurrently. Rows are claimed with a
lease (bot.delivery.queue, shared with the outbox), so replicas share the work and a row
whose handler died is handed out again when its lease runs out. The lease of every row this
worker holds (waiting for a slot, being handled, or handled and waiting for its `done`) is
renewed while it holds it (`queue.Leases`), so a slow handling is never taken for a dead one
and handled a second time by another replica; a row whose lease was lost anyway (renewals
failed) is not handled here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.sql.expression import Select

from bot.clock import Clock, SystemClock, utc
from bot.delivery.queue import LeasedQueue, Leases, backoff
from bot.errors import StoreUnavailable
from bot.events import InboundEvent, event_from_json, event_to_json
from bot.secrets import INBOX_EVENT, Keyring
from bot.store.delivery_log import coarse_time
from bot.store.engine import Database, table_of
from bot.store.tables.inbox import InboxItem
from bot.validation import MalformedEvent

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BATCH = 500
FAILED_KEEP = timedelta(days=7)  # failed events kept for inspection, then purged
DONE_KEEP = timedelta(days=7)  # handled events' keys: the duplicate check (EVENT_ID_RETENTION)
PURGE_EVERY = 3600.0
SCAN = 512  # rows looked at per pass (small columns only), to find free lanes
PREFETCH = 2  # rows claimed beyond the free slots, so a slot never waits for a pass
# Handling gives way to acknowledgements: while events in this process wait for their
# INSERT (the platform is waiting for those), handlers start one at a time, each after at
# most this many seconds. With serve alone (one process) a burst is acknowledged first and
# handled right after; a web-only replica or a worker process never waits here.
GIVE_WAY_MAX = 0.5
Handle = Callable[[InboundEvent], Awaitable[Any]]
EventKey = Callable[[str, str], str]  # (workspace_id, event_id) -> the stored key


@dataclass
class Claimed:
    """A row this worker leased: what handling it and recording its outcome need."""

    id: int
    lane: str
    event_key: str
    event: dict[str, Any] | None
    attempts: int
    claim_token: str


# The store-before-ack INSERT on PostgreSQL (see Inbox._insert).
_PG_INSERT = text(
    "INSERT INTO inbox (workspace_id, event_key, platform, lane, user_id, event, status,"
    " attempts, not_before, received_at)"
    " SELECT r->>'w', r->>'k', r->>'p', r->>'l', r->>'u', r->'e', 'pending', 0, :now, :now"
    " FROM json_array_elements(CAST(:rows AS json)) AS r"
    " ON CONFLICT (workspace_id, event_key) DO NOTHING RETURNING workspace_id, event_key"
)


class Inbox:
    """The events of one platform (`platform`); every platform's rows share one table."""

    def __init__(
        self,
        db: Database,
        handle: Handle,
        *,
        platform: str,
        key: EventKey,
        clock: Clock | None = None,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        max_attempts: int = 8,
        base_backoff: float = 1.0,
        lease: timedelta = LEASE,
    ) -> None:
        self.db = db
        self.handle = handle
        self.platform = platform
        self.key = key
        self.clock: Clock = clock or SystemClock()
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.queue = LeasedQueue(db, InboxItem, lease=lease)
        # rows claimed and not yet recorded as done or failed: their leases are kept alive
        self._leases = Leases(self.queue, self.clock, name=f"{platform} inbox leases")
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._busy: set[str] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._queue: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        # PostgreSQL commits concurrent transactions with one WAL flush, so a few batches in
        # flight cut the wait of an event that arrives while a batch commits; SQLite has one
        # writer, where a second batch would only queue for the lock.
        self.writers = 3 if db.dialect == "postgresql" else 1
        self._writing: set[asyncio.Task[None]] = set()
        self._give_way = asyncio.Lock()
        # handled rows whose `done` is not written yet: written together by the next pass
        self._finished: list[Claimed] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # --- accepting -----------------------------------------------------------------------

    async def put(self, event: InboundEvent) -> bool:
        """Store an event; False when this event id was stored before (a retry or a copy).
        Raises StoreUnavailable when the database cannot take it.

        Events arriving together are written in one INSERT (group commit): one transaction
        for many acknowledgements, instead of many writers queueing for SQLite's single
        write lock."""
        now = self.clock.now()
        values = {
            "workspace_id": event.workspace_id,
            "event_key": self.key(event.workspace_id, event.event_id)[:64],
            "platform": event.platform,
            "lane": f"{event.workspace_id}:{event.conversation.id}"[:400],
            "user_id": event.user.user_id[:200] or None,
            "event": event_to_json(event),
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "received_at": now,
        }
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((values, future))
        if sum(not task.done() for task in self._writing) < self.writers:
            task = asyncio.create_task(self._write(), name="inbox-writer")
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
                key = (values["workspace_id"], values["event_key"])
                if not future.done():
                    future.set_result(key in stored)
                stored.discard(key)  # a second copy in the same batch is a duplicate
            self._wake.set()

    async def _insert(self, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """INSERT … ON CONFLICT DO NOTHING RETURNING: the keys that were new."""
        unique: dict[tuple[str, str], dict[str, Any]] = {}
        for values in rows:
            unique.setdefault((values["workspace_id"], values["event_key"]), values)
        engine = self.db.autocommit_engine(self.writers)
        if self.db.dialect == "postgresql":
            # One SQL text whatever the batch size (the rows as one JSON document, taken
            # apart by the server): compiled and converted once, and nothing to escape, where
            # a multi-row VALUES list is a new statement for every batch size.
            items = list(unique.values())
            rows_json = json.dumps(
                [
                    {
                        "w": v["workspace_id"],
                        "k": v["event_key"],
                        "p": v["platform"],
                        "l": v["lane"],
                        "u": v["user_id"],
                        "e": v["event"],
                    }
                    for v in items
                ],
                ensure_ascii=False,
            )
            params = {"rows": rows_json, "now": items[0]["received_at"]}
            async with engine.connect() as conn:
                result = await conn.execute(_PG_INSERT, params)
                return {(row[0], row[1]) for row in result}
        from sqlalchemy.dialects.sqlite import insert

        table = table_of(InboxItem)
        # one cached statement, executed for many rows ("insertmanyvalues" batches them)
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["workspace_id", "event_key"])
            .returning(table.c.workspace_id, table.c.event_key)
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
            self._task = asyncio.create_task(self._run(), name=f"{self.platform}-inbox")

    async def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            self._task = None
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=timeout)
        with contextlib.suppress(StoreUnavailable):
            await self._record_done()
        await self._leases.stop()

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until nothing due is pending or being handled (for tests and shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self._inflight and not self._finished and not await self._due_count():
                return
            self._wake.set()
            await asyncio.sleep(0.01)
        raise TimeoutError(f"{self.platform} inbox not idle in time")

    async def purge(self, keep: timedelta = FAILED_KEEP, done: timedelta = DONE_KEEP) -> int:
        """Delete events that failed for good longer ago than `keep` (they hold message
        text), and the keys of handled events older than `done`."""
        now = self.clock.now()
        return await self.queue.purge(
            ("failed",), now - keep, column="received_at"
        ) + await self.queue.purge(("done",), now - done, column="received_at")

    async def _run(self) -> None:
        last_purge = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if loop.time() - last_purge > PURGE_EVERY:
                    last_purge = loop.time()
                    if purged := await self.purge():
                        log.info("purged %d old %s inbox rows", purged, self.platform)
                await self.run_once()
            except StoreUnavailable as exc:
                log.warning("%s inbox paused, database unavailable: %s", self.platform, exc)
            except Exception:
                log.exception("%s inbox loop error", self.platform)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    # --- one pass ------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim the next due row of free lanes, as many as there are free slots, and start
        handling them.

        The scan reads only the small columns (no events), and the claim is one UPDATE …
        RETURNING that brings back the claimed rows' events: a pass costs two statements
        whatever the backlog, so a long backlog does not slow the process (and its
        acknowledgements) down. A pass runs once the rows claimed ahead have started (at
        least PREFETCH free), and first writes `done` for the rows handled since the last,
        so one pass (three statements) serves several events."""
        room = self.concurrency + PREFETCH - len(self._inflight)
        if room < PREFETCH and self._inflight:
            return 0  # rows claimed before are still waiting for a slot: no statement yet
        await self._record_done()
        now = self.clock.now()
        t = InboxItem
        # sqlmodel's select() is typed for up to four columns; its Select takes any number
        query: Select[int, str, str, datetime | None, datetime] = Select(
            col(t.id), col(t.lane), col(t.status), col(t.claimed_until), col(t.not_before)
        )
        async with self.db.session() as s:
            rows = (
                await s.exec(
                    query.where(
                        col(t.status).in_(("pending", "sending")), col(t.platform) == self.platform
                    )
                    .order_by(col(t.id))
                    .limit(SCAN)
                )
            ).all()
        chosen: list[int] = []
        seen: set[str] = set()
        for row_id, lane, status, claimed_until, not_before in rows:
            if lane in seen or lane in self._busy or row_id is None:
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
        token, rows_claimed = await self.queue.claim(
            chosen, now, returning=("id", "lane", "event_key", "event", "attempts")
        )
        claimed = [
            Claimed(
                id=row[0],
                lane=row[1],
                event_key=row[2],
                event=row[3],
                attempts=row[4],
                claim_token=token,
            )
            for row in rows_claimed
        ]
        for item in sorted(claimed, key=lambda item: item.id):
            self._busy.add(item.lane)
            self._leases.hold(item.id, token, now)
            task = asyncio.create_task(self._process(item))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(claimed)

    async def _process(self, row: Claimed) -> None:
        handled = False
        try:
            async with self._slots:
                await self._after_waiting_acks()
                if not await self._leases.still_ours(row.id):
                    log.warning(
                        "%s event %s: its lease ran out before it was handled and another "
                        "worker has it; not handling it here",
                        self.platform,
                        row.id,
                    )
                    return
                try:
                    await self.handle(_load(row))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    await self._failed(row, exc)
                else:
                    self._finished.append(row)  # `done` is written by the next pass
                    handled = True
        except StoreUnavailable as exc:
            log.warning(
                "could not record the outcome of %s event %s: %s", self.platform, row.id, exc
            )
        finally:
            if not handled:  # a handled row's lane (and lease) waits until its `done`
                self._busy.discard(row.lane)
                self._leases.release(row.id)
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

    async def _record_done(self) -> None:
        """Write `done` for the rows handled since the last pass, in one statement (group
        commit: a write per pass, not per event). The row stays as the event's duplicate
        check, with nothing in it that tells who did what (the day is enough to purge it
        by). A crash before this write hands the events out again when their lease runs
        out; handling is idempotent (stored by message id, replies keyed by event id)."""
        if not self._finished:
            return
        rows, self._finished = self._finished, []
        try:
            await self.queue.finish_many(
                [(row.id, row.claim_token) for row in rows],
                "done",
                event=None,
                user_id=None,
                lane="",
                received_at=coarse_time(self.clock.now()),
            )
        except BaseException:
            self._finished = rows + self._finished  # tried again by the next pass
            raise
        for row in rows:
            self._busy.discard(row.lane)
            self._leases.release(row.id)

    async def _failed(self, row: Claimed, exc: Exception) -> None:
        attempts = row.attempts + 1
        reason = f"{type(exc).__name__}: {exc}"[:500]
        if isinstance(exc, MalformedEvent):  # stored data no event has: never retried
            log.error("%s event %s dropped, malformed: %s", self.platform, row.id, reason)
        elif attempts >= self.max_attempts and not isinstance(exc, StoreUnavailable):
            log.error("%s event %s failed for good after %d attempts: %s",
                      self.platform, row.id, attempts, reason)  # fmt: skip
        else:
            delay = backoff(attempts, self.base_backoff, 300.0)
            log.warning(
                "%s event %s failed (%s); retrying in %.1fs", self.platform, row.id, reason, delay
            )
            await self.queue.retry_later(
                row.id, row.claim_token, attempts=attempts, error=reason, at=self._later(delay)
            )
            return
        await self.queue.finish(
            row.id, row.claim_token, "failed", attempts=attempts, last_error=reason
        )

    def _later(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    async def _due_count(self) -> int:
        """Rows due now that are not finished: pending, or being handled (here or by
        another replica)."""
        from sqlalchemy import func

        now, t = self.clock.now(), InboxItem
        async with self.db.session() as s:
            result = await s.exec(
                select(func.count())
                .select_from(t)
                .where(
                    col(t.status).in_(("pending", "sending")),
                    col(t.platform) == self.platform,
                    col(t.not_before) <= now,
                )
            )
            return int(result.one())


def event_key(keyring: Keyring) -> EventKey:
    """The stored key of an event id: a keyed hash (`INBOX_EVENT`), so the rows kept as the
    duplicate check hold no id the platform's own logs could tie to a person."""

    def key(workspace_id: str, event_id: str) -> str:
        return keyring.mac(INBOX_EVENT, workspace_id, event_id)[:64]

    return key


def _load(row: Claimed) -> InboundEvent:
    """The stored event; MalformedEvent for data no stored event has."""
    try:
        if not isinstance(row.event, dict):
            raise TypeError("no event stored")
        return event_from_json(row.event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedEvent(f"stored event unreadable: {type(exc).__name__}: {exc}") from exc
