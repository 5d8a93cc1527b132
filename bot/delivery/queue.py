"""The one durable queue: rows claimed with a lease, finished, retried later, purged.

Both directions use it: the outbox (`bot.delivery.worker`, outbound messages) and the inbox
(`bot.delivery.inbox`, inbound events of every platform). A table that is a queue has the
columns `id`, `status` (pending → sending → a final status), `attempts`, `not_before`,
`claimed_until`, `claim_token` and `last_error`.

- **claim**: one conditional UPDATE … RETURNING takes the rows still free (pending, or
  `sending` whose lease ran out) and writes a claim token and a lease, so two replicas never
  work on the same row, and a row whose worker died is claimed again when its lease expires.
- **renew**: a worker extends the lease of the rows it still holds (its token) while it works
  on them, so a slow send or a slow handling under load is not claimed (and sent, or
  handled) a second time by a replica that took the lease for expired; a row renewed by
  nobody (its worker died) expires. `Leases` does this for a worker: every third of a lease
  for all the rows it holds, and on demand right before it acts on a row.
- **finish / remove / retry_later**: the outcome is written only while this worker still
  holds the claim (its token), so a worker whose lease expired cannot overwrite the newer
  claim's outcome.
- **purge**: rows in a final status older than a cut-off are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    update,
)

from bot.clock import Clock
from bot.errors import StoreUnavailable
from bot.store.engine import Database

log = logging.getLogger(__name__)
PENDING, SENDING = "pending", "sending"


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before attempt `attempts + 1`: exponential, capped, with ±20% jitter so that
    rows which failed together do not come back together."""
    delay: float = min(cap, base * 2.0 ** (max(attempts, 1) - 1))
    return delay * random.uniform(0.8, 1.2)


class LeasedQueue:
    """Claim, lease, finish, retry later and purge over one table (see the module doc)."""

    def __init__(
        self, db: Database, model: Any, *, lease: timedelta, worker_id: str | None = None
    ) -> None:
        self.db = db
        self.table = model.__table__
        self.lease = lease
        self.worker_id = worker_id or uuid.uuid4().hex[:12]

    def claimable(self, now: datetime) -> ColumnElement[bool]:
        """Rows free to claim: pending, or leased by a worker whose lease ran out."""
        c = self.table.c
        return or_(c.status == PENDING, and_(c.status == SENDING, c.claimed_until < now))

    def new_token(self) -> str:
        return f"{self.worker_id}:{uuid.uuid4().hex[:8]}"

    async def claim(
        self, ids: Sequence[int], now: datetime, *, returning: Sequence[str] = ("id",)
    ) -> tuple[str, list[Any]]:
        """Lease the rows of `ids` still free (another replica may have taken some) in one
        UPDATE; returns the claim token and the claimed rows' `returning` columns."""
        token = self.new_token()
        if not ids:
            return token, []
        c = self.table.c
        statement = (
            update(self.table)
            .where(c.id.in_(list(ids)), self.claimable(now))
            .values(status=SENDING, claim_token=token, claimed_until=now + self.lease)
            .returning(*(c[name] for name in returning))
        )
        _, rows = await self._write(statement, rows=True)
        return token, rows

    async def finish_and_claim(
        self,
        finished: Sequence[tuple[int, str]],
        status: str,
        candidates: Select[Any],
        now: datetime,
        *,
        finish_values: dict[str, Any] | None = None,
        returning: Sequence[str] = ("id",),
    ) -> tuple[str, list[Any]]:
        """Record the outcome `status` (and `finish_values`) of the `finished` rows (`(id,
        claim token)` each, written only while the claim is ours) and lease the free rows
        among `candidates` (a SELECT of ids), in one UPDATE … RETURNING: a worker's pass is
        one statement. Returns the new claim token and the newly claimed rows' `returning`
        columns."""
        token = self.new_token()
        c = self.table.c
        claim = and_(c.id.in_(candidates.scalar_subquery()), self.claimable(now))
        values: dict[str, Any] = {
            "status": SENDING,
            "claim_token": token,
            "claimed_until": now + self.lease,
        }
        where: ColumnElement[bool] = claim
        if finished:
            done = c.id.in_([row_id for row_id, _ in finished])
            values = {
                name: case((done, _value(c[name], outcome)), else_=_value(c[name], values[name]))
                for name, outcome in (
                    ("status", status),
                    ("claim_token", c.claim_token),
                    ("claimed_until", None),
                )
            }
            for name, value in (finish_values or {}).items():
                values[name] = case((done, _value(c[name], value)), else_=c[name])
            where = or_(tuple_(c.id, c.claim_token).in_(list(finished)), and_(~done, claim))
        statement = (
            update(self.table)
            .where(where)
            .values(**values)
            .returning(c.claim_token, *(c[name] for name in returning))
        )
        _, rows = await self._write(statement, rows=True)
        return token, [row[1:] for row in rows if row[0] == token]

    async def renew(self, claims: Sequence[tuple[int, str]], now: datetime) -> set[int]:
        """Extend to `now + lease` the leases of the rows (`(id, claim token)` each) still
        claimed by us; returns the ids renewed (a missing id: the claim was lost or the row
        finished)."""
        if not claims:
            return set()
        c = self.table.c
        statement = (
            update(self.table)
            .where(
                c.id.in_([row_id for row_id, _ in claims]),
                c.claim_token.in_({token for _, token in claims}),
                c.status == SENDING,
            )
            .values(claimed_until=now + self.lease)
            .returning(c.id)
        )
        _, rows = await self._write(statement, rows=True)
        return {row_id for (row_id,) in rows}

    async def finish(self, row_id: int, token: str | None, status: str, **values: Any) -> bool:
        """Record a row's outcome (`status` and other columns) while the claim is ours; the
        lease ends unless `claimed_until` is given. False when the claim was lost."""
        values.setdefault("claimed_until", None)
        c = self.table.c
        count, _ = await self._write(
            update(self.table)
            .where(c.id == row_id, c.claim_token == token)
            .values(status=status, **values)
        )
        return bool(count)

    async def finish_many(
        self, claims: Sequence[tuple[int, str]], status: str, **values: Any
    ) -> None:
        """Record the same outcome for many rows (`(id, claim token)` each) in one statement
        (group commit), each only while its claim is ours."""
        if not claims:
            return
        c = self.table.c
        values.setdefault("claimed_until", None)
        statement = (
            update(self.table)
            .where(c.id == bindparam("row_id"), c.claim_token == bindparam("token"))
            .values(status=status, **values)
        )
        async with self.db.session() as s:
            conn = await s.connection()
            await conn.execute(
                statement, [{"row_id": row_id, "token": token} for row_id, token in claims]
            )
            await s.commit()

    async def retry_later(
        self,
        row_id: int,
        token: str | None,
        *,
        attempts: int,
        error: str,
        at: datetime,
        **values: Any,
    ) -> bool:
        """Give the row back (pending) to be claimed again from `at`."""
        return await self.finish(
            row_id,
            token,
            PENDING,
            attempts=attempts,
            last_error=error[:500],
            not_before=at,
            **values,
        )

    async def remove(self, row_id: int, token: str | None) -> None:
        """Delete a finished row while the claim is ours."""
        c = self.table.c
        await self._write(delete(self.table).where(c.id == row_id, c.claim_token == token))

    async def purge(
        self, statuses: Sequence[str], before: datetime, column: str = "not_before"
    ) -> int:
        """Delete rows in one of `statuses` whose `column` is older than `before`."""
        c = self.table.c
        count, _ = await self._write(
            delete(self.table).where(c.status.in_(list(statuses)), c[column] < before)
        )
        return count

    async def due_count(self, now: datetime, *where: ColumnElement[bool]) -> int:
        """Rows due now (claimable, `not_before` passed), optionally narrowed by `where`."""
        c = self.table.c
        async with self.db.session() as s:
            conn = await s.connection()
            result = await conn.execute(
                select(func.count())
                .select_from(self.table)
                .where(self.claimable(now), c.not_before <= now, *where)
            )
            return int(result.scalar_one())

    async def _write(self, statement: Executable, *, rows: bool = False) -> tuple[int, list[Any]]:
        """One statement in a transaction of its own (StoreUnavailable on an outage): the
        rows it affected, and its RETURNING rows with `rows`."""
        async with self.db.session() as s:
            conn = await s.connection()
            result = await conn.execute(statement)
            returned = list(result.all()) if rows else []
            count = int(result.rowcount or 0)
            await s.commit()
        return count, returned


def _value(column: Any, value: Any) -> Any:
    """A value for `column` inside a CASE: a column as it is, NULL, or a typed parameter."""
    if isinstance(value, ColumnElement):
        return value
    return null() if value is None else literal(value, column.type)


class Leases:
    """The leases one worker holds, kept alive while it works on their rows.

    `hold` a row when it is claimed and `release` it once its outcome is written. While any
    row is held, a task renews all their leases every third of a lease (one UPDATE for all),
    so a row waiting for a free slot, or handled or sent slowly on a loaded machine, is never
    taken for abandoned by another replica. `still_ours` is asked right before acting on a
    row: yes while its last renewal is under half a lease old, else it renews the row now; a
    row whose lease was lost (renewals failed, e.g. the database was away, and another
    worker claimed it) is not acted on here. A worker that died renews nothing, and its rows
    are claimed again when their leases run out."""

    def __init__(self, queue: LeasedQueue, clock: Clock, *, name: str = "leases") -> None:
        self.queue, self.clock, self.name = queue, clock, name
        self._held: dict[int, tuple[str, datetime]] = {}  # id -> (claim token, lease end)
        self._task: asyncio.Task[None] | None = None

    def __contains__(self, row_id: object) -> bool:
        return row_id in self._held

    def __len__(self) -> int:
        return len(self._held)

    def ids(self) -> list[int]:
        return list(self._held)

    def hold(self, row_id: int, token: str, claimed_at: datetime) -> None:
        """A row this worker just claimed (its lease runs from `claimed_at`)."""
        self._held[row_id] = (token, claimed_at + self.queue.lease)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._renew_every_third(), name=self.name)

    def release(self, row_id: int | None) -> None:
        """The row's outcome is written (or it is no longer ours): stop renewing it."""
        if row_id is not None:
            self._held.pop(row_id, None)

    async def renew(self, ids: Sequence[int] | None = None) -> set[int]:
        """Renew the leases of `ids` (default: all) among the rows held; returns those still
        ours. A row not renewed was finished meanwhile or taken over by another worker."""
        wanted = list(self._held) if ids is None else ids
        claims = [(row_id, self._held[row_id][0]) for row_id in wanted if row_id in self._held]
        now = self.clock.now()
        renewed = await self.queue.renew(claims, now)
        for row_id, token in claims:
            held = self._held.get(row_id)
            if held is None or held[0] != token:
                continue
            # lost: marked as run out, so `still_ours` asks the database again, and says no
            self._held[row_id] = (token, now + self.queue.lease if row_id in renewed else now)
        return renewed

    async def still_ours(self, row_id: int | None) -> bool:
        """Whether this worker still holds the row's lease (asked right before acting)."""
        if row_id is None or (held := self._held.get(row_id)) is None:
            return False
        if held[1] - self.clock.now() > self.queue.lease / 2:
            return True
        return row_id in await self.renew([row_id])

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _renew_every_third(self) -> None:
        while self._held:
            await asyncio.sleep(self.queue.lease.total_seconds() / 3)
            try:
                await self.renew()
            except StoreUnavailable as exc:
                log.warning("could not renew %s: %s", self.name, exc)
            except Exception:
                log.exception("renewing %s failed", self.name)
