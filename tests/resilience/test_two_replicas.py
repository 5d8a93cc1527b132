"""Two `wolbot serve` replicas on one PostgreSQL schema, as behind a load balancer.

Both start at the same moment with the same schedules due (two dialogue rounds and a
check-in to 40 people, all due a few minutes ago, so both replicas catch them up at
start-up), and both receive every Slack event: the same event id sent to each, plus a
Slack retry to each. Nothing happens twice: one question per round, one check-in per
person, one stored narration and one acknowledgement (reaction) per message, one thanks per
check-in answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.store.engine import Database
from bot.store.tables import Person, Workspace
from tests.conftest import _truncate_and_dispose
from tests.fakes.slack_api import FakeSlackApi

from .processes import (
    Serve,
    message_event,
    narration_counts,
    post_event,
    serve_env,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.postgres

WS = "slack:T111"
PEOPLE = 40
ROUNDS = ("C0ROUND01", "C0ROUND02")
NARRATIONS = 12
ANSWERS = 8  # check-in answers (DM narrations)


@pytest.fixture
def pg_url(postgres_schema_url: str) -> str:
    asyncio.run(_truncate_and_dispose(postgres_schema_url))
    return postgres_schema_url


def config(now: datetime) -> dict:
    tick = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    slot = tick - timedelta(minutes=5)  # before the check-in job's latest tick
    day = slot.strftime("%a").lower()
    return {
        "timezone": "UTC",
        "delivery": {"lease_seconds": 3, "base_backoff_seconds": 0.2},
        "workspaces": {
            WS: {
                "timezone": "UTC",
                "language": "en",
                "defaults": {"checkins": True},
                "checkins": {"days": day, "time": slot.strftime("%H:%M")},
                "channels": {
                    c: {
                        "kind": "dialogue",
                        "rhythm": f"{slot.minute} {slot.hour} * * {day}",
                        "timezone": "UTC",
                        "language": "en",
                    }
                    for c in ROUNDS
                },
            }
        },
    }


async def seed_people(url: str) -> None:
    db = Database(url)
    now = datetime.now(UTC)
    try:
        async with db.session() as s:
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
    finally:
        await db.dispose()


async def test_two_replicas_same_events_same_schedules_nothing_twice(
    pg_url: str, tmp_path: Path
) -> None:
    await seed_people(pg_url)
    yaml_path = write_config(tmp_path / "app.yaml", config(datetime.now(UTC)))
    async with FakeSlackApi() as api:
        api.add_user("U222", real_name="Narrator")
        env = serve_env(pg_url, api.url, yaml_path)
        replicas = await asyncio.gather(Serve.start(env, tmp_path), Serve.start(env, tmp_path))
        try:
            # the schedules: both replicas catch up the same due round and check-ins
            def dms() -> dict[str, int]:
                return {c: n for c, n in api.delivered().items() if c.startswith("D")}

            await wait_until(
                lambda: sum(1 for c in dms() if c[1:] < f"{PEOPLE:06d}") >= PEOPLE,
                40,
                "the check-ins",
            )
            await wait_until(
                lambda: all(api.delivered().get(c) for c in ROUNDS), 20, "the round questions"
            )

            # the events: each to both replicas, then Slack's retry to both
            now = time.time()
            bodies = [
                message_event(
                    f"EvNarr{i:03d}", f"I'm working on the replica test {i}", ts=f"{now + i:.6f}"
                )
                for i in range(NARRATIONS)
            ]
            bodies += [
                message_event(
                    f"EvAns{i:03d}",
                    f"This week I am migrating service {i}",
                    channel=f"D{i:06d}",
                    user=f"U{i:06d}",
                    channel_type="im",
                    ts=f"{now + 100 + i:.6f}",
                )
                for i in range(ANSWERS)
            ]
            async with aiohttp.ClientSession() as http:
                first = await asyncio.gather(
                    *[post_event(http, r.url, body) for body in bodies for r in replicas]
                )
                retries = await asyncio.gather(
                    *[
                        post_event(http, r.url, body, retry_num=1)
                        for body in bodies
                        for r in replicas
                    ]
                )
            assert set(first) == {200} and set(retries) == {200}

            await wait_until(
                lambda: len(api.calls_to("reactions.add", ok_only=False)) >= NARRATIONS + ANSWERS,
                40,
                "the reactions",
            )
            thanks = "Thanks! Colleagues working on something similar can find you now."

            def thanked() -> int:
                return sum(
                    1
                    for c in api.calls_to("chat.postMessage")
                    if thanks in str(c.args.get("text", ""))
                )

            await wait_until(lambda: thanked() >= ANSWERS, 40, "the thanks")
            await api.settle(1.5)
        finally:
            codes = await asyncio.gather(*[r.terminate() for r in replicas])

    assert codes == [0, 0]
    posts = api.calls_to("chat.postMessage")
    # no message posted twice: (conversation, thread, text) unique across both replicas
    keys = Counter(
        (str(c.args.get("channel")), c.args.get("thread_ts"), str(c.args.get("text")))
        for c in posts
    )
    assert [k for k, n in keys.items() if n > 1] == []
    check_ins = Counter(
        str(c.args.get("channel"))
        for c in posts
        if "What are you working on this week?" in str(c.args.get("text"))
    )
    # The narrator becomes a person with check-ins on (the workspace's default) when they
    # narrate, after today's slot: when the run crosses the job's next 5-minute tick, they
    # get today's check-in then, once. Only the seeded people's are counted.
    narrator = check_ins.pop("U222", 0)
    assert narrator <= 1
    assert len(check_ins) == PEOPLE and set(check_ins.values()) == {1}
    assert all(api.delivered()[c] == 1 for c in ROUNDS)  # one question per round
    reactions = Counter(
        (c.args["channel"], c.args["timestamp"])
        for c in api.calls_to("reactions.add", ok_only=False)
    )
    assert len(reactions) == NARRATIONS + ANSWERS and set(reactions.values()) == {1}
    assert thanked() == ANSWERS
    assert await narration_counts(pg_url) == (NARRATIONS + ANSWERS, NARRATIONS + ANSWERS)
