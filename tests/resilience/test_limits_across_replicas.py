"""Limits that are correctness hold across replicas (issue 17, item 9), on PostgreSQL.

- Two processes, each with the Teams port's own hourly budget and a clock running 120 times
  faster than real time, send to one conversation as fast as they can for an hour and a half
  of that clock: no sliding hour ever holds more than 1,800 sends, and both processes sent.
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

from bot.ports import PersonInfo
from bot.store.tables.asks import Question, Thanks
from tests.conftest import _truncate_and_dispose
from tests.fakes import events as ev

ROOT = Path(__file__).resolve().parents[2]
SPEED = 120  # one hour of the compressed clock in 30 real seconds
REAL_SECONDS = 45
HOURLY = 1800

SENDER = r"""
import asyncio, sys, time
from datetime import UTC, datetime, timedelta

from adapters.teams.port import TeamsPort
from adapters.teams.sdk import TeamsAuthConfig, make_adapter
from bot.ports import DeliveryError
from bot.store.engine import Database
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
    while time.time() < until:
        try:
            await port._hourly_budget("19:one-conversation@thread.v2")
        except DeliveryError as exc:
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
    wall = time.time() + 2  # both start counting at the same moment
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()
    args = [pg_url, str(start), str(wall), str(SPEED), str(wall + REAL_SECONDS)]
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", SENDER, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={"PYTHONPATH": str(ROOT), "PATH": ""})
        for _ in range(2)]
    outputs = await asyncio.wait_for(asyncio.gather(*[p.communicate() for p in procs]), 120)
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    per_process = [[float(x) for x in out.split()] for out, _ in outputs]
    sent = sorted(t for times in per_process for t in times)
    hour = timedelta(hours=1).total_seconds()
    busiest = max(bisect.bisect_left(sent, t + hour) - i for i, t in enumerate(sent))
    assert busiest <= HOURLY
    assert len(sent) > HOURLY + 100  # the cap was reached and the window moved on
    assert all(len(times) > 100 for times in per_process)  # both replicas sent


DURF = {"workspaces": {ev.WORKSPACE: {"timezone": "UTC", "channels": {
    "DURF": {"kind": "durf-te-vragen", "anonymous": True, "language": "en"}}}}}


async def test_daily_limits_hold_for_two_replicas_at_once(make_core, port, database_url) -> None:
    port.people["bob"] = PersonInfo("bob", "Bob")
    replicas = [make_core(port, **DURF)]
    if not database_url.startswith("sqlite"):  # SQLite is one process: one core
        replicas.append(make_core(port, **DURF))
    for core in replicas:
        await core.start(deliver=False, schedule=False)
    tries = [replicas[i % len(replicas)].handle(ev.command(f"thanks @bob for help {i}",
                                                           user="anna"))
             for i in range(16)]
    tries += [replicas[i % len(replicas)].handle(ev.command(f"ask anon question {i}?",
                                                            user="anna"))
              for i in range(8)]
    await asyncio.gather(*tries)
    async with replicas[0].db.session() as s:
        thanks = (await s.exec(select(func.count()).select_from(Thanks))).one()
        questions = (await s.exec(select(func.count()).select_from(Question))).one()
    assert (thanks, questions) == (10, 3)
