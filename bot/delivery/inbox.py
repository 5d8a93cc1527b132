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
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, text, tuple_
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from bot.clock import Clock, SystemClock
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
# Rows claimed beyond the free slots: a slot never waits for a pass, and one pass (one
# statement) serves several events; a pass runs once this many can be claimed.
PREFETCH = 4
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


# A handled row keeps its key (the duplicate check) and nothing that says who did what.
_DONE: dict[str, Any] = {"event": None, "user_id": None, "lane": ""}

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
        self._inflight: set[asyncio.Task[bool]] = set()
        # the last row of each conversation being handled here: the next one waits for it
        self._lanes: dict[str, asyncio.Task[bool]] = {}
        self._more = True  # the last pass filled its room: more may be due at once
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
        """Write `done` for the rows handled since the last pass and claim the next due rows,
        as many as there are free slots (plus PREFETCH), and start handling them.

        A pass is one statement whatever the backlog (`LeasedQueue.finish_and_claim`): one
        UPDATE … RETURNING records the handled rows and leases the next ones, bringing back
        their events. A pass runs once at least PREFETCH rows can be claimed, so one
        statement serves several events; a pass that claimed less than it could is not
        followed by another when a handling ends (only by a new event, a retry coming due
        or the poll), so the `done` of the last events of a burst waits for that pass."""
        room = self.concurrency + PREFETCH - len(self._inflight)
        if room < PREFETCH and self._inflight:
            self._more = True  # not looked: the next handling that ends runs a pass
            return 0  # rows claimed before are still waiting for a slot: no statement yet
        finished, self._finished = self._finished, []
        lanes = {lane: task for lane, task in self._lanes.items() if not task.done()}
        now = self.clock.now()
        try:
            token, rows_claimed = await self.queue.finish_and_claim(
                [(row.id, row.claim_token) for row in finished],
                "done",
                self._next_rows(now, room, finished),
                now,
                finish_values=_DONE | {"received_at": coarse_time(now)},
                returning=("id", "lane", "event_key", "event", "attempts"),
            )
        except BaseException:
            self._finished = finished + self._finished  # tried again by the next pass
            raise
        for row in finished:
            self._leases.release(row.id)
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
        self._more = len(claimed) >= room
        for item in sorted(claimed, key=lambda item: item.id):
            self._leases.hold(item.id, token, now)
            # after the conversation's event being handled here (claimed by an earlier pass
            # or just before this one in this pass), if any: events of a conversation are
            # handled in order
            task = asyncio.create_task(self._process(item, after=lanes.get(item.lane)))
            lanes[item.lane] = self._lanes[item.lane] = task
            task.add_done_callback(functools.partial(self._lane_done, item.lane))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(claimed)

    def _lane_done(self, lane: str, task: asyncio.Task[bool]) -> None:
        if self._lanes.get(lane) is task:
            del self._lanes[lane]

    def _next_rows(self, now: datetime, room: int, finished: list[Claimed]) -> Select[Any]:
        """The ids to claim, the oldest `room` of: among the oldest SCAN rows still to handle
        (small columns only), those free (pending, or their lease ran out) and due, and not
        behind a row of their conversation that is not (leased by another worker, or waiting
        for a retry). Rows this worker holds do not stop the rows behind them: those are
        handled here after them, in order."""
        t = table_of(InboxItem).c
        head = sa_select(t.id, t.lane, t.status, t.claimed_until, t.not_before).where(
            t.status.in_(("pending", "sending")), t.platform == self.platform
        )
        if finished:  # recorded as done by the same statement (while ours)
            done = [(row.id, row.claim_token) for row in finished]
            head = head.where(~tuple_(t.id, t.claim_token).in_(done))
        h = head.order_by(t.id).limit(SCAN).subquery("head").c
        done_ids = {row.id for row in finished}
        mine = [row_id for row_id in self._leases.ids() if row_id not in done_ids]
        free = and_(or_(h.status == "pending", h.claimed_until < now), h.not_before <= now)
        if mine:
            free = and_(free, h.id.not_in(mine))
            blocked = and_(~free, h.id.not_in(mine))
        else:
            blocked = ~free
        ranked = sa_select(
            h.id,
            free.label("free"),
            func.sum(case((blocked, 1), else_=0))
            .over(partition_by=h.lane, order_by=h.id)
            .label("blocked"),
        ).subquery("ranked")
        r = ranked.c
        return sa_select(r.id).where(r.free, r.blocked == 0).order_by(r.id).limit(room)

    async def _process(self, row: Claimed, after: asyncio.Task[bool] | None) -> bool:
        """Handle one row once the conversation's event before it (`after`) is handled here;
        returns whether the conversation's next events may go on (this one handled, or
        failed for good). When the one before waits for a retry, or was taken over by
        another worker, this row is given back (pending) to keep the order."""
        handled = False
        try:
            if after is not None and not await _went_on(after):
                await self.queue.finish(row.id, row.claim_token, "pending")
                return False
            async with self._slots:
                await self._after_waiting_acks()
                if not await self._leases.still_ours(row.id):
                    log.warning(
                        "%s event %s: its lease ran out before it was handled and another "
                        "worker has it; not handling it here",
                        self.platform,
                        row.id,
                    )
                    return False
                try:
                    await self.handle(_load(row))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    return await self._failed(row, exc)
                self._finished.append(row)  # `done` is written by the next pass
                handled = True
                return True
        except StoreUnavailable as exc:
            log.warning(
                "could not record the outcome of %s event %s: %s", self.platform, row.id, exc
            )
            return False
        finally:
            if not handled:  # a handled row's lease is kept until its `done` is written
                self._leases.release(row.id)
            if self._more:
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
                **_DONE,
                received_at=coarse_time(self.clock.now()),
            )
        except BaseException:
            self._finished = rows + self._finished  # tried again by the next pass
            raise
        for row in rows:
            self._leases.release(row.id)

    async def _failed(self, row: Claimed, exc: Exception) -> bool:
        """Record a failed handling: retried later (False: the conversation's next events
        wait for it), or failed for good (True: they go on)."""
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
            return False
        await self.queue.finish(
            row.id, row.claim_token, "failed", attempts=attempts, last_error=reason
        )
        return True

    def _later(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    async def _due_count(self) -> int:
        """Rows due now that are not finished: pending, or being handled (here or by
        another replica)."""
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


async def _went_on(task: asyncio.Task[bool]) -> bool:
    """Whether the handling of the event before went on (False if it raised or was
    cancelled; waiting for it is cancelled with the waiter, never the other way round)."""
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if task.cancelled():
            return False
        raise
    except Exception:
        return False


def _load(row: Claimed) -> InboundEvent:
    """The stored event; MalformedEvent for data no stored event has."""
    try:
        if not isinstance(row.event, dict):
            raise TypeError("no event stored")
        return event_from_json(row.event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedEvent(f"stored event unreadable: {type(exc).__name__}: {exc}") from exc
