"""A running `wolbot serve` as an operator watches it (issue 18): /metrics in Prometheus text
format whose counters move after a narration, /livez and /readyz (503 while PostgreSQL is
cut off, 200 after), JSON logs where every stderr line is one object, and a request log
line per request without bodies."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.tcp_proxy import TcpProxy
from tests.resilience.processes import Serve, message_event, post_event, serve_env, wait_until

pytestmark = pytest.mark.postgres
SECRET_TEXT = "the confidential merger memo"


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent)."""
    for line in metrics.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    async with http.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def test_metrics_probes_and_json_logs(postgres_schema_url: str, tmp_path: Path) -> None:
    async with TcpProxy("127.0.0.1", 5432) as proxy, FakeSlackApi() as api:
        url = postgres_schema_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
        api.add_user("U222", real_name="Narrator")
        env = serve_env(url, api.url, WOLBOT_LOG_FORMAT="json")
        serve = await Serve.start(env, tmp_path)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                status, ctype, before = await get(http, f"{serve.url}/metrics")
                assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
                for family in (
                    "wolbot_outbox_backlog gauge",
                    "wolbot_events_handled_total counter",
                    "wolbot_inbox_backlog gauge",
                    "wolbot_deliveries_total counter",
                    "wolbot_event_handling_seconds histogram",
                    "wolbot_scheduled_jobs_total counter",
                    "wolbot_matching_seconds histogram",
                    "wolbot_platform_rate_limited_total counter",
                    "process_resident_memory_bytes gauge",
                ):
                    assert f"# TYPE {family}" in before, family
                assert 'wolbot_outbox_backlog{status="pending"}' in before
                assert (await get(http, f"{serve.url}/livez"))[0] == 200
                assert (await get(http, f"{serve.url}/readyz"))[0] == 200

                body = message_event(
                    "EvObs1", f"I'm working on {SECRET_TEXT}", ts=f"{time.time():.6f}"
                )
                assert await post_event(http, serve.url, body) == 200

                async def counted() -> bool:
                    text = (await get(http, f"{serve.url}/metrics"))[2]
                    return (
                        sample(
                            text,
                            "wolbot_events_handled_total",
                            platform="slack",
                            kind="message",
                            outcome="ok",
                        )
                        >= 1
                        and sample(
                            text, "wolbot_deliveries_total", platform="slack", outcome="sent"
                        )
                        >= 1
                    )

                await wait_until(counted, 30, "the narration in the counters")
                after = (await get(http, f"{serve.url}/metrics"))[2]
                assert sample(
                    after, "wolbot_events_received_total", platform="slack", kind="message"
                ) > sample(before, "wolbot_events_received_total", platform="slack", kind="message")
                assert sample(after, "wolbot_event_handling_seconds_count", platform="slack") >= 1

                proxy.cut()
                status, _, text = await get(http, f"{serve.url}/readyz")
                assert status == 503 and "database unreachable" in text
                assert (await get(http, f"{serve.url}/livez"))[0] == 200  # no restart wanted
                assert (await get(http, f"{serve.url}/metrics"))[0] == 200  # counters still
                proxy.restore()

                async def ready() -> bool:
                    return (await get(http, f"{serve.url}/readyz"))[0] == 200

                await wait_until(ready, 30, "/readyz back to 200")
                assert (await get(http, f"{serve.url}/healthz"))[0] == 200
        finally:
            assert await serve.terminate() == 0
        lines = [line for line in serve.lines if line.strip()]
        records = [json.loads(line) for line in lines]  # every line is one JSON object
        assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
        requests = [r for r in records if r["logger"] == "wolbot.http" and r["level"] == "INFO"]
        assert any(r.get("path") == "/slack/events" and r.get("status") == 200 for r in requests), (
            requests
        )
        info = [
            line
            for line, r in zip(lines, records, strict=True)
            if r["level"] in ("INFO", "WARNING")
        ]
        assert not any(SECRET_TEXT in line for line in info)  # no message text at INFO
        assert not any("Adding job tentatively" in line for line in lines)


async def test_readyz_waits_for_configured_adapters(tmp_path: Path) -> None:
    """Ready once every adapter the environment enables is attached (here Slack in HTTP mode
    and the dashboard, on SQLite migrated at start)."""
    async with FakeSlackApi() as api:
        env = serve_env(f"sqlite:///{tmp_path / 'w.db'}", api.url)
        env["WOLBOT_AUTO_MIGRATE"] = "1"
        serve = await Serve.start(env, tmp_path)
        try:
            async with aiohttp.ClientSession() as http:
                status, _, text = await get(http, f"{serve.url}/readyz")
                assert status == 200, text
                assert json.loads(text)["adapters"] == ["dashboard", "slack"]
        finally:
            await serve.terminate()
