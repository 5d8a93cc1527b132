"""PostgreSQL restarted during traffic: `wolbot serve` on a private cluster receives a steady
stream of narrations (in 50 channels) while the server is restarted twice (`pg_ctl restart
-m fast`, then `-m immediate`, a crash and recovery). Every event answered 2xx is stored and
acknowledged exactly once; events refused meanwhile are replayed, as Slack retries them,
until accepted; serve recovers by itself and reports healthy again, without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from bot.store.engine import Database
from tests.fakes.slack_api import FakeSlackApi

from .private_postgres import PrivatePostgres, private_postgres  # noqa: F401 (fixture)
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

EVENTS = 150
CHANNELS = 50
INTERVAL = 0.04  # seconds between events: ~6 s of traffic
RESTART_AT = (40, 95)  # event numbers after which the server is restarted (fast, immediate)


async def test_postgres_restart_during_traffic_loses_nothing_acknowledged(
    private_postgres: PrivatePostgres,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = private_postgres.url
    migrate = Database(url)
    await migrate.upgrade()
    await migrate.dispose()
    yaml_path = write_config(
        tmp_path / "app.yaml",
        {"delivery": {"lease_seconds": 5, "base_backoff_seconds": 0.2, "max_backoff_seconds": 1}},
    )
    async with FakeSlackApi() as api:
        api.add_user("U222", real_name="Narrator")
        serve = await Serve.start(serve_env(url, api.url, yaml_path), tmp_path)
        try:
            now = time.time()
            # many conversations, as real traffic: acknowledgements are paced per channel
            bodies = {
                f"EvPg{i:04d}": message_event(
                    f"EvPg{i:04d}",
                    f"I'm working on the restart drill, part {i}",
                    channel=f"C{i % CHANNELS:05d}",
                    ts=f"{now + i:.6f}",
                )
                for i in range(EVENTS)
            }
            status: dict[str, int] = {}
            restarts: list[float] = []

            async def restart(mode: str) -> None:
                started = time.monotonic()
                proc = await asyncio.create_subprocess_exec(
                    *private_postgres.restart_command(mode),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
                _, err = await proc.communicate()
                assert proc.returncode == 0, err.decode()
                restarts.append(time.monotonic() - started)

            timeout = aiohttp.ClientTimeout(total=3)  # Slack gives up after 3 s
            async with aiohttp.ClientSession(timeout=timeout) as http:
                sends, jobs = [], []
                for n, (event_id, body) in enumerate(bodies.items()):

                    async def send(event_id: str = event_id, body: str = body) -> None:
                        status[event_id] = await post_event(http, serve.url, body)

                    sends.append(asyncio.create_task(send()))
                    if n in RESTART_AT:
                        jobs.append(
                            asyncio.create_task(
                                restart("fast" if n == RESTART_AT[0] else "immediate")
                            )
                        )
                    await asyncio.sleep(INTERVAL)
                await asyncio.gather(*sends, *jobs)
                refused = sorted(e for e, code in status.items() if not 200 <= code < 300)
                acknowledged_first = len(status) - len(refused)

                # Slack retries what was not acknowledged (X-Slack-Retry-Num), until accepted
                pending, attempt = list(refused), 0
                deadline = time.monotonic() + 30
                while pending and time.monotonic() < deadline:
                    attempt += 1
                    codes = await asyncio.gather(
                        *[
                            post_event(http, serve.url, bodies[e], retry_num=min(attempt, 3))
                            for e in pending
                        ]
                    )
                    pending = [
                        e for e, code in zip(pending, codes, strict=True) if not 200 <= code < 300
                    ]
                    if pending:
                        await asyncio.sleep(0.5)
                assert pending == [], f"{len(pending)} events never accepted after the restarts"

                async def all_stored() -> bool:
                    return (await narration_counts(url))[0] >= EVENTS

                try:
                    await wait_until(all_stored, 40, "every narration stored", interval=0.3)
                    await wait_until(
                        lambda: (
                            len(
                                {
                                    c.args["timestamp"]
                                    for c in api.calls_to("reactions.add", ok_only=True)
                                }
                            )
                            >= EVENTS
                        ),
                        30,
                        "every acknowledgement",
                    )
                except AssertionError as exc:
                    problems = [
                        line
                        for line in serve.lines
                        if "ERROR" in line or "could not" in line or "duplicate" in line
                    ]
                    raise AssertionError(
                        f"{exc}: stored {await narration_counts(url)} of {EVENTS}"
                        "\n" + "".join(problems[-30:])
                    ) from None
                await api.settle(1.0)
                async with http.get(f"{serve.url}/healthz") as response:
                    health = response.status, await response.json()
        finally:
            code = await serve.terminate()

    assert len(restarts) == 2
    # the restarts happened during the traffic, and some events were refused, not lost
    assert acknowledged_first < EVENTS, "no event met the restart: the test proved nothing"
    assert await narration_counts(url) == (EVENTS, EVENTS)  # each stored exactly once
    # one acknowledgement per narration. A reaction whose outcome could not be recorded in the
    # outage is added again after its lease; Slack answers already_reacted (no second one).
    added = Counter(c.args["timestamp"] for c in api.calls_to("reactions.add", ok_only=True))
    assert len(added) == EVENTS and set(added.values()) == {1}
    again = [c.error for c in api.calls_to("reactions.add", ok_only=False) if c.error]
    assert set(again) <= {"already_reacted"}
    assert health[0] == 200 and health[1]["status"] == "ok"
    assert code == 0
