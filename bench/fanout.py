"""Fan-out under Slack's rate limits: a check-in to N people and a question to M channels.

The real core (scheduler, check-ins, rounds, outbox, delivery worker) and the real SlackPort
(slack_sdk) talk to the local fake Slack Web API, which enforces one message per second per
channel, a workspace-wide message rate, and answers random 429s with Retry-After. Everything
must arrive exactly once; the total time is compared with the minimum the limits allow
(messages / workspace rate).

    python bench/fanout.py                       # 5,000 people, 500 channels, SQLite
    python bench/fanout.py --postgres            # the same on the local PostgreSQL (schema)
    python bench/fanout.py --people 500 --channels 50 --rate 50   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from adapters.slack.port import SlackPort, StaticToken
from bot.app import build
from bot.clock import ShiftedClock
from bot.config import Settings
from bot.ports import PersonInfo

ROOT = Path(__file__).resolve().parent.parent
WS = "slack:T111"
MONDAY_10_AMS = datetime(2026, 11, 23, 9, 0, 5, tzinfo=UTC)


async def postgres_url() -> tuple[str, str]:
    import psycopg

    schema = f"wolbot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}", schema


async def run(
    people: int, channels: int, rate: float, random_429: float, database_url: str
) -> dict[str, float]:
    # The fake Slack runs in its own process, as Slack would: its CPU is not ours.
    fake = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.slack_api",
        "--rate",
        str(rate),
        "--random-429",
        str(random_429),
        stdout=asyncio.subprocess.PIPE,
        cwd=str(ROOT),
    )
    assert fake.stdout is not None
    api_url = (await fake.stdout.readline()).decode().strip()
    channel_ids = [f"C{i:05d}" for i in range(channels)]
    settings = Settings.model_validate(
        {
            "database_url": database_url,
            "env": {"WOLBOT_SECRET_KEY": "bench-secret-key-0123456789"},
            "workspaces": {
                WS: {
                    "timezone": "Europe/Amsterdam",
                    "defaults": {"checkins": True},
                    "checkins": {"days": "mon", "time": "10:00"},
                    "channels": {
                        c: {
                            "kind": "dialogue",
                            "rhythm": "0 10 * * mon",
                            "timezone": "Europe/Amsterdam",
                            "language": "en",
                        }
                        for c in channel_ids
                    },
                }
            },
        }
    )
    clock = ShiftedClock(MONDAY_10_AMS)
    core = build(settings, clock=clock)
    port = SlackPort(StaticToken("xoxb-bench"), base_url=api_url)
    port.workspace_interval = 1.0 / rate
    core.register_port(port)
    await core.start(deliver=False, schedule=False)
    await core.directory.ensure_workspace(WS, "slack")
    for i in range(people):
        await core.directory.remember_person(
            WS, PersonInfo(f"U{i:06d}", f"Person {i}", timezone="Europe/Amsterdam"), clock.now()
        )
    expected = people + channels
    started = time.monotonic()
    core.delivery.start()
    ran = await core.scheduler.run_due(clock.now())
    queued_after = time.monotonic() - started
    deadline = started + 3 * expected / rate + 120
    stats_url = api_url.removesuffix("api/") + "_stats"
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(stats_url) as response:
                stats = await response.json()
            if sum(stats["per_channel"].values()) >= expected:
                break
            await asyncio.sleep(0.2)
        total = time.monotonic() - started
        await asyncio.sleep(2)  # anything more would be a duplicate
        async with http.get(stats_url) as response:
            stats = await response.json()
    per_channel = Counter(stats["per_channel"])
    delivered = sum(per_channel.values())
    await core.stop()
    await port.close()
    fake.kill()
    await fake.wait()
    minimum = expected / rate
    return {
        "jobs": len(ran),
        "expected": expected,
        "delivered": delivered,
        "duplicates": sum(n - 1 for n in per_channel.values() if n > 1),
        "missing": expected - len(per_channel),
        "429s": stats["ratelimited"],
        "queued_s": queued_after,
        "total_s": total,
        "minimum_s": minimum,
        "over_minimum": total / minimum - 1,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--channels", type=int, default=500)
    ap.add_argument("--rate", type=float, default=100.0, help="workspace messages per second")
    ap.add_argument("--random-429", type=float, default=0.01)
    ap.add_argument("--postgres", action="store_true")
    args = ap.parse_args()
    schema = None
    if args.postgres:
        url, schema = asyncio.run(postgres_url())
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/fanout.db"
    try:
        figures = asyncio.run(run(args.people, args.channels, args.rate, args.random_429, url))
    finally:
        if schema:
            import psycopg

            with psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/test", autocommit=True
            ) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"fan-out on {backend}: {args.people} check-ins + {args.channels} channel questions, "
        f"workspace limit {args.rate:g}/s, 1/s per channel, {args.random_429:.0%} random 429s"
    )
    for key, value in figures.items():
        print(f"  {key:>14}: {value:.3f}" if isinstance(value, float) else f"  {key:>14}: {value}")
    ok = figures["duplicates"] == 0 and figures["missing"] == 0
    print("  exactly once:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    sys.exit(main())
