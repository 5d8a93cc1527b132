"""Shared fixtures for the Slack adapter tests: recorded payloads from ./data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


def _load(name: str) -> Any:
    path = DATA / name
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else text


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """`payload("events/event_callback_message.json")` -> a fresh copy of the recorded payload."""
    return _load


@pytest.fixture
async def slack_api():
    """A running fake Slack Web API on 127.0.0.1 (see tests/fakes/slack_api.py)."""
    from tests.fakes.slack_api import FakeSlackApi

    async with FakeSlackApi() as api:
        yield api


SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"


class SlackSender:
    """Sends signed requests, as Slack does, to a running `wolbot serve` web app."""

    def __init__(self, base: str, session: Any, secret: str = SIGNING_SECRET) -> None:
        self.base, self.session, self.secret = base, session, secret
        self.runtime: Any = None  # the SlackRuntime of the server

    async def processed(self) -> None:
        """Wait until the inbox has handed every stored event to the core."""
        await self.runtime.inbox.wait_idle()

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        retry_num: int | None = None,
        path: str = "/slack/events",
    ) -> tuple[int, str]:
        from tests.fakes.slack_api import signed_headers

        headers = signed_headers(
            body, self.secret, timestamp=timestamp, content_type=content_type, retry_num=retry_num
        )
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        async with self.session.post(self.base + path, data=body.encode(), headers=headers) as r:
            return r.status, await r.text()

    async def event(self, body: dict, **kw: Any) -> tuple[int, str]:
        return await self.post(json.dumps(body), "application/json", **kw)

    async def command(self, fields: dict[str, str], **kw: Any) -> tuple[int, str]:
        from urllib.parse import urlencode

        return await self.post(urlencode(fields), "application/x-www-form-urlencoded", **kw)

    async def interaction(self, payload: dict, **kw: Any) -> tuple[int, str]:
        from urllib.parse import urlencode

        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **kw)


def slack_env(api: Any, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api.url,
        **extra,
    }


@pytest.fixture
async def serve_slack(slack_api, sqlite_url):
    """Start the real `wolbot serve` aiohttp app (adapters/web.py) with the Slack adapter
    and a real core on SQLite, delivering to the fake Slack API. Yields a factory so a test
    can start it with extra settings: `core, slack = await serve_slack(language="nl")`."""
    import aiohttp
    from aiohttp import web

    from adapters.web import build_web_app
    from bot.app import build
    from tests.conftest import make_settings

    runners: list[web.AppRunner] = []
    cores: list[Any] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(database_url: str | None = None, env: dict | None = None, **overrides: Any):
        settings = make_settings(
            database_url or sqlite_url, env=env or slack_env(slack_api), **overrides
        )
        core = build(settings)
        cores.append(core)
        await core.db.upgrade()
        await core.start()
        runner = web.AppRunner(build_web_app(core, adapters=["slack"]), access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        session = aiohttp.ClientSession()
        sessions.append(session)
        sender = SlackSender(f"http://127.0.0.1:{port}", session)
        from adapters.slack import SLACK_RUNTIME

        sender.runtime = runner.app[SLACK_RUNTIME]
        return core, sender

    yield start
    for session in sessions:
        await session.close()
    for runner in runners:
        await runner.cleanup()
    for core in cores:
        await core.stop()
