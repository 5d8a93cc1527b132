"""kill -9 in the middle of a fan-out: a check-in to 1,000 people is being delivered by a real
`wolbot serve` (on PostgreSQL; SQLite too with WOLBOT_SLOW_TESTS=1) when the process is
killed; a new process finishes it. Every person gets exactly one message.

The kill lands deterministically while requests are in flight: after a few hundred
deliveries the fake Slack stores each new message but holds its answer, and the process is
killed once a dozen of those are waiting. Those rows are the classic duplicate: Slack has the
message, the outbox row is still `sending`. When their lease runs out the new process asks
Slack (conversations.history, the outbox tag in the message metadata) and records them as
sent instead of posting them again.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.app import build
from bot.features.checkins import CHECKIN_JOB
from bot.store.engine import Database
from bot.store.tables import OutboxItem, Person, Workspace
from tests.conftest import _truncate_and_dispose, make_settings
from tests.fakes.slack_api import FakeSlackApi

from .processes import SECRET_KEY, Serve, serve_env, wait_until, write_config

PEOPLE = 1000
WS = "slack:T111"
LEASE_SECONDS = 2
KILL_AFTER = 300  # delivered messages before the fake starts holding its answers


def checkin_config(now: datetime) -> dict:
    """Check-ins for everybody, due shortly before the check-in job's latest five-minute tick
    (the job runs for that tick's time), so the real clock queues them."""
    tick = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    slot = tick - timedelta(minutes=5)
    return {
        "timezone": "UTC",
        "delivery": {"lease_seconds": LEASE_SECONDS, "base_backoff_seconds": 0.2},
        "workspaces": {
            WS: {
                "timezone": "UTC",
                "defaults": {"checkins": True},
                "checkins": {"days": slot.strftime("%a").lower(), "time": slot.strftime("%H:%M")},
            }
        },
    }


async def queue_checkins(database_url: str, config: dict) -> int:
    """The real check-in job queues the fan-out (as `wolbot run-due` would)."""
    core = build(make_settings(database_url, env={"WOLBOT_SECRET_KEY": SECRET_KEY}, **config))
    try:  # no core.start(): the matching model is not needed to queue check-ins
        now = core.clock.now()
        async with core.db.session() as s:
            s.add(Workspace(id=WS, platform="slack", created_at=now))
            await s.commit()
            s.add_all(
                Person(
                    workspace_id=WS,
                    user_id=f"U{i:06d}",
                    display_name=f"Person {i}",
                    timezone="UTC",
                    updated_at=now,
                )
                for i in range(PEOPLE)
            )
            await s.commit()
        await core.scheduler.run_due(now, job_ids=[CHECKIN_JOB])
        async with core.db.session() as s:
            return int((await s.exec(select(func.count()).select_from(OutboxItem))).one())
    finally:
        await core.stop()


# PostgreSQL always; SQLite too with WOLBOT_SLOW_TESTS=1 (it passes as well, but a second
# run of two `serve` start-ups and 1,000 deliveries would double this test's ~40 s in CI).
BACKENDS = [pytest.param("postgresql", marks=pytest.mark.postgres)] + (
    ["sqlite"] if os.environ.get("WOLBOT_SLOW_TESTS") else []
)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    url = str(request.getfixturevalue("postgres_schema_url"))
    asyncio.run(_truncate_and_dispose(url))
    return url


async def test_kill_9_mid_fanout_then_restart_delivers_each_message_once(
    database_url: str, tmp_path: Path
) -> None:
    config = checkin_config(datetime.now(UTC))
    assert await queue_checkins(database_url, config) == PEOPLE
    yaml_path = write_config(tmp_path / "app.yaml", config)
    async with FakeSlackApi() as api:
        env = serve_env(database_url, api.url, yaml_path)
        first = await Serve.start(env, tmp_path)
        try:
            await wait_until(
                lambda: sum(api.delivered().values()) >= KILL_AFTER, 60, "the first deliveries"
            )
            api.hold_answers()  # from now on: stored at "Slack", answer held back
            await wait_until(lambda: api.in_flight >= 12, 20, "requests in flight")
            await first.kill()
            held = api.in_flight
            stored_before_restart = sum(api.delivered().values())
        finally:
            await first.kill()
        api.release_answers()  # the answers go nowhere: their client is dead
        assert stored_before_restart < PEOPLE, "the kill came too late to interrupt the fan-out"
        # at "Slack" but not recorded: the rows the dead process was sending
        assert (await statuses(database_url)).get("sending", 0) >= held

        second = await Serve.start(env, tmp_path)
        try:
            # every row `sent` means the held ones were settled too (found, or sent again)
            async def all_sent() -> bool:
                return await statuses(database_url) == {"sent": PEOPLE}

            await wait_until(all_sent, 60, "every row recorded as sent", interval=0.3)
            await api.settle(0.5)
        finally:
            code = await second.terminate()

    delivered = Counter(api.delivered())
    assert len(delivered) == PEOPLE, f"{PEOPLE - len(delivered)} people got nothing"
    twice = sorted(c for c, n in delivered.items() if n > 1)
    assert twice == [], f"{len(twice)} people got their check-in twice"
    assert held >= 12
    # the held rows were checked with Slack instead of re-sent
    assert len(api.calls_to("conversations.history")) >= held
    assert "had arrived before its worker could record it" in second.log
    assert code == 0


async def statuses(database_url: str) -> dict[str, int]:
    db = Database(database_url)
    try:
        async with db.session() as s:
            return dict(Counter((await s.exec(select(OutboxItem.status))).all()))
    finally:
        await db.dispose()
