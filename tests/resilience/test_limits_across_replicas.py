"""Limits that are correctness hold across replicas (issue 17, item 9), on PostgreSQL.

- Two processes, each with the Teams port's own hourly budget and a clock running 30 times
  faster than real time, send to one conversation as fast as they can. The hour before they
  start already holds 1,790 sends, spread over it, so both work at the cap throughout, taking
  slots as old sends leave the window: no sliding hour ever holds more than 1,800 sends, and
  both processes sent and were refused.
- Two cores (separate connection pools, as two replicas) take thanks and anonymous
  questions from one person at the same moment: the daily limits hold for both together.
"""

from __future__ import annotations

import asyncio
import bisect
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.clock import FakeClock, utc
from bot.ports import PersonInfo
from bot.store.engine import Database
from bot.store.limits import Limits
from bot.store.tables.asks import Question, Thanks
from bot.store.tables.limits import LimitUse
from tests.conftest import _truncate_and_dispose
from tests.fakes import events as ev

ROOT = Path(__file__).resolve().parents[2]
SPEED = 30  # one hour of the compressed clock in two real minutes
REAL_SECONDS = 20
READY_SECONDS = 12  # for both processes to import and connect before the clock starts
HOURLY = 1800
EARLIER = 1790  # sends in the hour before the replicas start

SENDER = r"""
import asyncio, sys, time
from datetime import UTC, datetime, timedelta

from adapters.teams.port import TeamsPort
from adapters.teams.sdk import TeamsAuthConfig, make_adapter
from bot.ports import DeliveryError
from bot.store.engine import Database
from bot.store.limits import Limits
from bot.store.limits import Limits


class Compressed:
    def __init__(self, start: float, wall: float, speed: float) -> None:
        self.start, self.wall, self.speed = start, wall, speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.start + (time.time() - self.wall) * self.speed, UTC)


async def main(url: str, start: float, wall: float, speed: float, until: float) -> None:
    db = Database(url)
    port = TeamsPort(make_adapter(TeamsAuthConfig()), app_id="", references=None,
                     members=None, limits=Limits(db, Compressed(start, wall, speed)))
    await db.ping()
    await asyncio.sleep(max(wall - time.time(), 0))  # both start at the same moment
    while time.time() < until:
        try:
            await port._hourly_budget("19:one-conversation@thread.v2")
        except DeliveryError as exc:
            print("refused", flush=True)
            await asyncio.sleep(min((exc.retry_after or 1) / speed, 0.2))
            continue
        print(port.limits.clock.now().timestamp(), flush=True)
    await db.dispose()


asyncio.run(main(sys.argv[1], *map(float, sys.argv[2:])))
"""


@pytest.fixture
def pg_url(postgres_schema_url: str) -> str:
    asyncio.run(_truncate_and_dispose(postgres_schema_url))
    return postgres_schema_url


@pytest.mark.postgres
async def test_two_replicas_never_exceed_the_teams_hourly_cap(pg_url: str) -> None:
    wall = time.time() + READY_SECONDS  # both start counting at the same moment
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()
    earlier = [start - 3600 + (i + 1) * 3600 / (EARLIER + 1) for i in range(EARLIER)]
    db = Database(pg_url)
    try:
        async with db.session() as s:
            s.add_all(
                LimitUse(
                    key="teams:19:one-conversation@thread.v2", at=datetime.fromtimestamp(t, UTC)
                )
                for t in earlier
            )
            await s.commit()
    finally:
        await db.dispose()
    args = [pg_url, str(start), str(wall), str(SPEED), str(wall + REAL_SECONDS)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SENDER,
            *args,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"PYTHONPATH": str(ROOT), "PATH": ""},
        )
        for _ in range(2)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*[p.communicate() for p in procs]), 120)
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    lines = [out.decode().split() for out, _ in outputs]
    per_process = [[float(x) for x in words if x != "refused"] for words in lines]
    sent = sorted([*earlier, *(t for times in per_process for t in times)])
    hour = timedelta(hours=1).total_seconds()
    busiest = max(bisect.bisect_left(sent, t + hour) - i for i, t in enumerate(sent))
    seen = (busiest, [len(t) for t in per_process], [w.count("refused") for w in lines])
    assert busiest <= HOURLY, seen
    assert all(len(times) > 50 for times in per_process), seen  # both replicas sent ...
    assert all(words.count("refused") > 0 for words in lines), seen  # ... and met the cap
    assert len(sent) - EARLIER > 100, seen  # slots freed by the moving window were taken


DURF = {
    "workspaces": {
        ev.WORKSPACE: {
            "timezone": "UTC",
            "channels": {"DURF": {"kind": "durf-te-vragen", "anonymous": True, "language": "en"}},
        }
    }
}


async def test_daily_limits_hold_for_two_replicas_at_once(make_core, port, database_url) -> None:
    port.people["bob"] = PersonInfo("bob", "Bob")
    replicas = [make_core(port, **DURF)]
    if not database_url.startswith("sqlite"):  # SQLite is one process: one core
        replicas.append(make_core(port, **DURF))
    for core in replicas:
        await core.start(deliver=False, schedule=False)
    tries = [
        replicas[i % len(replicas)].handle(ev.command(f"thanks @bob for help {i}", user="anna"))
        for i in range(16)
    ]
    tries += [
        replicas[i % len(replicas)].handle(ev.command(f"ask anon question {i}?", user="anna"))
        for i in range(8)
    ]
    await asyncio.gather(*tries)
    async with replicas[0].db.session() as s:
        thanks = (await s.exec(select(func.count()).select_from(Thanks))).one()
        questions = (await s.exec(select(func.count()).select_from(Question))).one()
    assert (thanks, questions) == (10, 3)


@pytest.mark.postgres
async def test_a_use_is_timed_when_the_key_is_taken_not_when_it_was_asked_for(pg_url: str) -> None:
    """Replica A asks for the last slot, then waits for the key (held elsewhere) while time
    passes and replica B, asking later, gets the key first and removes the uses that left
    its window. A's use must then not be recorded at the moment A asked: the sliding hour
    ending there would hold the uses B removed, A's and more than the limit."""
    key, hour = "teams:19:one-conversation@thread.v2", timedelta(hours=1)
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    asked = clock.now()
    db_a, db_b = Database(pg_url), Database(pg_url)  # two replicas: two pools
    a, b = Limits(db_a, clock), Limits(db_b, clock)
    try:
        earlier = [asked - hour + timedelta(seconds=5)] * 2  # two uses about to leave the window
        async with db_a.session() as s:
            s.add_all(LimitUse(key=key, at=at) for at in earlier)
            await s.commit()
        async with db_a.session() as s, a.exclusive(s, key):  # someone else holds the key
            a_wants = asyncio.create_task(a.take(key, 2, hour))
            await asyncio.sleep(0.2)  # A has asked and waits for the key
            clock.advance(seconds=10)
            b_wants = asyncio.create_task(b.take(key, 2, hour))
            await asyncio.sleep(0.5)  # B waits for the key on the database, ahead of A
            await s.commit()
        assert await b_wants is None and await a_wants is None  # both had a slot ...
        async with db_a.session() as s:  # B removed the earlier uses from the table
            granted = [utc(t) for t in await s.exec(select(LimitUse.at).where(LimitUse.key == key))]
        assert len(granted) == 2
        uses = sorted([*earlier, *granted])  # every use made, as the platform counts them
        # ... and no sliding hour (up to and including its end) holds more than two uses
        busiest = max(sum(1 for u in uses if end - hour < u <= end) for end in uses)
        assert busiest <= 2, uses
    finally:
        await db_a.dispose()
        await db_b.dispose()
