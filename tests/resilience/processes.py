"""Real `wolbot serve` processes for the fault tests: start, wait for the port, kill -9."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import func, select

from bot.store.engine import Database
from bot.store.tables import Narration
from tests.adapters.slack.conftest import BOT_TOKEN, SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "resilience-secret-key-0123456789"


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def serve_env(
    database_url: str, api_url: str, config: Path | None = None, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_"))}
    env.update(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=api_url,
        WOLBOT_DATABASE_URL=database_url,
        WOLBOT_SECRET_KEY=SECRET_KEY,
        WOLBOT_AUTO_MIGRATE="0",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    if config is not None:
        env["WOLBOT_CONFIG"] = str(config)
    return env


async def wait_until(predicate, timeout: float, what: str, interval: float = 0.05) -> None:
    """Until `predicate()` (a bool, or an awaitable of one) is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


class Serve:
    """One `python -m bot serve` subprocess; `await Serve.start(env, cwd)`."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.port = 0
        self._found: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, env: dict[str, str], cwd: Path, *, timeout: float = 60, prefix: tuple[str, ...] = ()
    ) -> Serve:
        """`prefix`: a command that runs the server (e.g. strace with its options)."""
        proc = await asyncio.create_subprocess_exec(
            *prefix, sys.executable, "-m", "bot", "--log-level", "INFO", "serve",
            "--host", "127.0.0.1", "--port", "0",
            cwd=cwd, env=env, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)  # fmt: skip
        serve = cls(proc)
        try:
            serve.port = await asyncio.wait_for(serve._found, timeout)
        except BaseException:
            await serve.kill()
            raise
        return serve

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            m = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
            if m and not self._found.done():
                self._found.set_result(int(m.group(1)))
        if not self._found.done():
            self._found.set_exception(AssertionError("wolbot serve exited:\n" + self.log))

    async def kill(self) -> None:
        """kill -9: no shutdown, no cleanup, whatever was in flight is cut off."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        await self._stop_reader()

    async def terminate(self, timeout: float = 30) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.proc.wait(), timeout)
        finally:
            if self.proc.returncode is None:
                await self.kill()
        await self._stop_reader()
        return code

    async def _stop_reader(self) -> None:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._reader, 5)


def message_event(
    event_id: str,
    text: str,
    *,
    channel: str = "C111",
    user: str = "U222",
    ts: str,
    team: str = "T111",
    channel_type: str = "channel",
) -> str:
    """An Events API body: a message in a public channel (or `channel_type="im"`)."""
    return json.dumps(
        {
            "token": "x",
            "team_id": team,
            "api_app_id": "A111",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(float(ts)),
            "event": {
                "type": "message",
                "channel": channel,
                "channel_type": channel_type,
                "user": user,
                "text": text,
                "ts": ts,
                "event_ts": ts,
                "team": team,
            },
        }
    )


async def post_event(http: Any, base_url: str, body: str, *, retry_num: int | None = None) -> int:
    """POST a signed event as Slack does; the HTTP status (0: no answer at all)."""
    import aiohttp

    from tests.fakes.slack_api import signed_headers

    headers = signed_headers(body, SIGNING_SECRET, retry_num=retry_num)
    try:
        async with http.post(
            f"{base_url}/slack/events", data=body.encode(), headers=headers
        ) as response:
            await response.read()
            return int(response.status)
    except (aiohttp.ClientError, TimeoutError):
        return 0


async def narration_counts(url: str) -> tuple[int, int]:
    """Narrations stored in the database at `url`: (rows, distinct message ids)."""
    db = Database(url)
    try:
        async with db.session() as s:
            total = (await s.exec(select(func.count()).select_from(Narration))).one()
            distinct = (await s.exec(select(func.count(func.distinct(Narration.message_id))))).one()
            return int(total), int(distinct)
    finally:
        await db.dispose()
