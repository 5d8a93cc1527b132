"""How fast the Teams adapter answers Teams, and how fast replies reach the Bot Connector.

    python bench/teams_roundtrip.py                        # 200 activities, 20 at a time
    python bench/teams_roundtrip.py --activities 1000 --concurrency 50 --text "wol help"
    python bench/teams_roundtrip.py --rate 100 --seconds 5  # open loop: 100 activities/s
    python bench/teams_roundtrip.py --root ../other-checkout  # measure another checkout

Part 1 times the pure translation (recorded activity → InboundEvent; message → Adaptive
Card activity). Part 2 runs the real thing in one process: the `wolbot serve` aiohttp app
with the Teams adapter (development mode), a real Wolbot on a temporary SQLite database,
botbuilder's CloudAdapter and connector client, and the local fake Bot Connector. It
posts recorded personal-chat activities from distinct people and reports the HTTP answer
time (Teams allows 15 s) and the time until every reply has reached the connector.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# `--root CHECKOUT`: the wolbot code measured (default: this checkout), so that before and
# after can be measured with the same bench in one run.
sys.path.insert(
    0,
    str(
        Path(
            sys.argv[sys.argv.index("--root") + 1]
            if "--root" in sys.argv
            else Path(__file__).resolve().parents[1]
        ).resolve()
    ),
)

import aiohttp
from aiohttp.test_utils import TestServer

from adapters.teams.inbound import parse_activity
from adapters.teams.render import render_activity
from adapters.web import build_web_app
from bot.app import build
from bot.config import Settings
from bot.messages import Actions, Button, Mention, OutboundMessage, Quote, Section, fill
from tests.fakes.bot_connector import FakeBotConnector

ACTIVITY = (
    Path(__file__).resolve().parents[1]
    / "tests/adapters/teams/data/activities/message_personal_2019.json"
)
TOPICS = [
    "the onboarding checklist for new colleagues",
    "de nieuwe intranetpagina voor HR",
    "a dashboard for customer complaints",
    "het inkoopproces voor laptops",
    "the quarterly budget review",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def bench_pure(n: int) -> None:
    raw = json.loads(ACTIVITY.read_text())
    raw["text"] = "I'm working on " + TOPICS[0]
    started = time.perf_counter()
    for _ in range(n):
        parse_activity(raw, command_names=frozenset({"help", "working on"}))
    parse_us = (time.perf_counter() - started) / n * 1e6
    message = OutboundMessage.of(
        Section(
            parts=fill(
                "{who} works on something similar:", who=Mention(user_id="29:a", name="Anna")
            )
        ),
        Quote(text="Ik ben bezig met *de* begroting <at>x</at>"),
        Actions(elements=(Button(label="Connect me", action_id="m.connect", value="1"),)),
    )
    started = time.perf_counter()
    for _ in range(n):
        render_activity(message)
    render_us = (time.perf_counter() - started) / n * 1e6
    print(
        f"pure   parse_activity: {parse_us:8.1f} µs/activity   "
        f"render_activity: {render_us:8.1f} µs/message"
    )


def activity_for(i: int, service_url: str, text: str | None) -> dict[str, Any]:
    raw = json.loads(ACTIVITY.read_text())
    body = copy.deepcopy(raw)
    body["id"] = f"bench-{i}"
    body["serviceUrl"] = service_url
    body["from"] = {**body["from"], "id": f"29:bench-user-{i}", "name": f"Person {i}"}
    body["conversation"] = {**body["conversation"], "id": f"a:bench-chat-{i}"}
    body["text"] = text or f"I'm working on {TOPICS[i % len(TOPICS)]} ({i})"
    return body


async def bench_roundtrip(
    activities: int, concurrency: int, text: str | None, rate: float = 0.0
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate(
            {
                "database_url": f"sqlite:///{tmp}/bench.db",
                "env": {"WOLBOT_TEAMS_DEV": "1"},
            }
        )
        core = build(settings)
        await core.start()  # migrations + the delivery worker
        async with FakeBotConnector() as connector:
            server = TestServer(build_web_app(core, adapters=["teams"]), host="127.0.0.1")
            await server.start_server()
            url = server.make_url("/api/messages")
            latencies: list[float] = []
            statuses: dict[int, int] = {}
            async with aiohttp.ClientSession() as session:

                async def post(i: int) -> None:
                    body = activity_for(i, connector.service_url, text)
                    started = time.perf_counter()
                    async with session.post(url, json=body) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                    latencies.append(time.perf_counter() - started)

                warm = time.perf_counter()
                await post(-1)  # loads lazily initialised parts (models, caches)
                warm_s = time.perf_counter() - warm
                await connector.wait_for("send", "reply", count=1, timeout=120)
                latencies.clear()
                semaphore = asyncio.Semaphore(concurrency)

                async def limited(i: int) -> None:
                    async with semaphore:
                        await post(i)

                started = time.perf_counter()
                if rate:  # open loop: requests leave on schedule, answered or not

                    async def at(i: int) -> None:
                        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
                        await post(i)

                    await asyncio.gather(*(at(i) for i in range(activities)))
                else:
                    await asyncio.gather(*(limited(i) for i in range(activities)))
                answered = time.perf_counter() - started
                await connector.wait_for("send", "reply", count=activities + 1, timeout=600)
                delivered = time.perf_counter() - started
            await server.close()
        await core.stop()
    ms = [v * 1000 for v in latencies]
    load = f"open loop at {rate:.0f}/s" if rate else f"concurrency {concurrency}"
    print(
        f"e2e    {activities} activities, {load}, statuses {statuses}; "
        f"first request {warm_s * 1000:.0f} ms; wolbot from {sys.path[0]}"
    )
    print(
        f"       HTTP answer ms: p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
        f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}  mean {statistics.mean(ms):.1f}"
    )
    print(
        f"       all answered in {answered:.2f} s ({activities / answered:.0f}/s); "
        f"all replies at the connector after {delivered:.2f} s ({activities / delivered:.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--pure", type=int, default=5000, help="iterations of part 1")
    parser.add_argument("--text", help="message text to send instead of narrations")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="open loop: activities per second (with --seconds)"
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--root", help="the checkout measured (default: this one)")
    args = parser.parse_args()
    bench_pure(args.pure)
    activities = int(args.rate * args.seconds) if args.rate else args.activities
    asyncio.run(bench_roundtrip(activities, args.concurrency, args.text, args.rate))


if __name__ == "__main__":
    main()
