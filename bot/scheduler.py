"""Scheduled jobs, run once per occurrence across restarts and replicas.

Correctness lives in `run_due(now)`: for each job it computes the occurrences that fell
due within the job's grace period, claims each in the database (a unique key per job and
occurrence) and runs only what it claimed. APScheduler 3.x only decides *when* to call
`run_due` (one module-level callback, stable job ids, as python-telegram-bot's job queue
does). Occurrences missed while the bot was down are caught up on start when they are
still within the grace period, and logged as dropped when they are older.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from bot.clock import Clock, utc
from bot.errors import StoreUnavailable
from bot.metrics import METRICS
from bot.store.engine import Database, insert_ignoring_duplicates
from bot.store.tables.admin import ScheduledOccurrence

log = logging.getLogger(__name__)
# What a handler returns (a count, for `wolbot run-due`'s log) is not the scheduler's concern.
JobHandler = Callable[[datetime], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    job_id: str  # stable: the same job gets the same id in every process
    trigger: BaseTrigger
    handler: JobHandler  # called with the occurrence's scheduled time (UTC)
    grace: timedelta = timedelta(hours=1)
    claimed: bool = True  # False: every process runs it (e.g. refreshing in-memory state)
    latest_only: bool = False  # polling jobs: after downtime, run only the latest occurrence
    # Jobs of one batch that fall due together are claimed in one statement and handed to the
    # batch's handler at once (e.g. 500 communities asking their question at Monday 10:00).
    batch: str | None = None
    target: tuple[str, ...] = ()  # what the job is about (e.g. workspace, channel), for batches


# A batch handler gets every claimed (job, occurrence) of its batch that fell due together.
BatchHandler = Callable[[list[tuple[Job, datetime]]], Awaitable[object]]


@lru_cache(maxsize=1024)
def cron(expression: str, timezone: str) -> CronTrigger:
    """A crontab trigger (cached: triggers keep no state between fire-time queries)."""
    return CronTrigger.from_crontab(expression, timezone=timezone)


def occurrences(
    trigger: BaseTrigger, start: datetime, end: datetime, limit: int = 1000
) -> list[datetime]:
    """Scheduled times t with start < t <= end (UTC), at most `limit`."""
    found: list[datetime] = []
    cursor = start + timedelta(microseconds=1)
    previous = None
    while len(found) < limit:
        nxt = trigger.get_next_fire_time(previous, cursor)
        if nxt is None or nxt > end:
            break
        nxt = utc(nxt)
        found.append(nxt)
        previous, cursor = nxt, nxt + timedelta(microseconds=1)
    return found


class Scheduler:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock
        self.jobs: dict[str, Job] = {}
        self.batches: dict[str, BatchHandler] = {}
        self.instance_id = uuid.uuid4().hex
        self._aps: AsyncIOScheduler | None = None

    def add(self, job: Job) -> None:
        self.jobs[job.job_id] = job
        if self._aps is not None:
            self._schedule(job)

    def add_batch(self, name: str, handler: BatchHandler) -> None:
        """The handler for jobs with `batch=name`; without one each runs on its own."""
        self.batches[name] = handler

    def remove(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)
        if self._aps is not None and self._aps.get_job(job_id):
            self._aps.remove_job(job_id)

    async def claim(self, job_id: str, occurrence: datetime) -> bool:
        async with self.db.session() as s:
            s.add(
                ScheduledOccurrence(
                    job_id=job_id,
                    occurrence=occurrence.isoformat(),
                    claimed_by=self.instance_id,
                    claimed_at=self.clock.now(),
                )
            )
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
                return False
            return True

    async def claim_many(
        self, wanted: list[tuple[str, datetime]], *, session: Any = None
    ) -> set[tuple[str, str]]:
        """Claim many occurrences in one statement; returns the (job id, ISO time) pairs this
        process won (the others were claimed before, by anyone). With `session` the claims
        join the caller's transaction, so they commit (or vanish) with what they protect."""
        if not wanted:
            return set()
        now = self.clock.now()
        rows = [
            {
                "job_id": job,
                "occurrence": when.isoformat(),
                "claimed_by": self.instance_id,
                "claimed_at": now,
            }
            for job, when in wanted
        ]
        statement = insert_ignoring_duplicates(self.db.dialect, ScheduledOccurrence).returning(
            ScheduledOccurrence.job_id, ScheduledOccurrence.occurrence
        )
        if session is not None:
            result = await session.exec(statement, params=rows)
            return {(job, occurrence) for job, occurrence in result.all()}
        async with self.db.session() as s:
            result = await s.exec(statement, params=rows)
            won = {(job, occurrence) for job, occurrence in result.all()}
            await s.commit()
        return won

    async def run_due(
        self, now: datetime | None = None, job_ids: list[str] | None = None
    ) -> list[tuple[str, datetime]]:
        """Run every occurrence due by `now` that nobody has claimed yet."""
        now = now or self.clock.now()
        ran: list[tuple[str, datetime]] = []
        batched: dict[str, list[tuple[str, datetime]]] = {}
        for job_id in job_ids or list(self.jobs):
            job = self.jobs.get(job_id)
            if job is None:
                continue
            due = occurrences(job.trigger, now - job.grace, now)
            if job.latest_only or not job.claimed:
                due = due[-1:]  # in-process work: only the latest occurrence matters
            if job.batch in self.batches and job.claimed:
                batched.setdefault(job.batch, []).extend((job.job_id, when) for when in due)
                continue
            for when in due:
                if job.claimed and not await self.claim(job.job_id, when):
                    continue
                METRICS.jobs.labels("claimed" if job.claimed else "run").inc()
                try:
                    await job.handler(when)
                except StoreUnavailable:
                    await self._unclaim(job.job_id, when)
                    raise
                except Exception:
                    METRICS.jobs.labels("failed").inc()
                    log.exception("scheduled job %s (%s) failed", job.job_id, when.isoformat())
                ran.append((job.job_id, when))
        for name, wanted in batched.items():
            ran += await self._run_batch(name, wanted)
        return ran

    async def _run_batch(
        self, name: str, wanted: list[tuple[str, datetime]]
    ) -> list[tuple[str, datetime]]:
        won = await self.claim_many(wanted)
        mine = [(job_id, when) for job_id, when in wanted if (job_id, when.isoformat()) in won]
        if not mine:
            return []
        METRICS.jobs.labels("claimed").inc(len(mine))
        try:
            jobs = [(self.jobs[job_id], when) for job_id, when in mine if job_id in self.jobs]
            await self.batches[name](jobs)
        except StoreUnavailable:
            for job_id, when in mine:
                await self._unclaim(job_id, when)
            raise
        except Exception:
            log.exception("scheduled batch %s (%d occurrences) failed", name, len(mine))
        return mine

    async def log_dropped(self, now: datetime, lookback: timedelta = timedelta(days=7)) -> int:
        """Log occurrences older than their grace period that never ran (the bot was down)."""
        dropped = 0
        for job in self.jobs.values():
            if job.latest_only or not job.claimed:
                continue  # polling jobs skip ticks by design
            async with self.db.session() as s:
                last = (
                    await s.exec(
                        select(func.max(ScheduledOccurrence.occurrence)).where(
                            ScheduledOccurrence.job_id == job.job_id
                        )
                    )
                ).one()
            if last is None:
                continue
            start = max(datetime.fromisoformat(last), now - lookback)
            missed = occurrences(job.trigger, start, now - job.grace)
            for when in missed:
                log.warning(
                    "scheduled job %s missed its %s run (beyond the grace period of %s); dropped",
                    job.job_id,
                    when.isoformat(),
                    job.grace,
                )
            dropped += len(missed)
            METRICS.jobs.labels("dropped").inc(len(missed))
        return dropped

    async def _unclaim(self, job_id: str, occurrence: datetime) -> None:
        try:
            async with self.db.session() as s:
                await s.exec(
                    delete(ScheduledOccurrence).where(
                        col(ScheduledOccurrence.job_id) == job_id,
                        col(ScheduledOccurrence.occurrence) == occurrence.isoformat(),
                    )
                )
                await s.commit()
        except StoreUnavailable:
            log.warning("could not release the claim on %s %s", job_id, occurrence)

    async def purge_claims(self, before: datetime) -> int:
        async with self.db.session() as s:
            result = await s.exec(
                delete(ScheduledOccurrence).where(col(ScheduledOccurrence.claimed_at) < before)
            )
            await s.commit()
            return int(result.rowcount or 0)

    # -- APScheduler: only the timing -------------------------------------------------------
    def start(self) -> None:
        if self._aps is not None:
            return
        self._aps = AsyncIOScheduler(timezone="UTC")
        for job in self.jobs.values():
            self._schedule(job)
        self._aps.start()

    def _schedule(self, job: Job) -> None:
        assert self._aps is not None
        self._aps.add_job(
            fire,
            trigger=job.trigger,
            id=job.job_id,
            args=[self, job.job_id],
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=int(job.grace.total_seconds()) or None,
        )

    def shutdown(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None


async def fire(scheduler: Scheduler, job_id: str) -> Any:
    """The one APScheduler callback: run whatever of this job is due (and claimable) now."""
    try:
        await scheduler.run_due(job_ids=[job_id])
    except StoreUnavailable as exc:
        log.warning("scheduled job %s postponed, database unavailable: %s", job_id, exc)
