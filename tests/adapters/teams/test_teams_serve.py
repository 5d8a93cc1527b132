"""The issue's acceptance run: `WOLBOT_TEAMS_DEV=1 wolbot serve` as a real process, a
narration posted to /api/messages answered at once, and the bot's reply arriving at the
local fake Bot Connector through the outbox worker."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

import aiohttp

from tests.adapters.teams.teams_helpers import activity
from tests.fakes.bot_connector import FakeBotConnector


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_", "MICROSOFT_"))
    }
    env.update(WOLBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", **extra)
    return env


async def _serve(tmp_path: Path, host: str, **extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--log-level",
        "INFO",
        "serve",
        "--host",
        host,
        "--port",
        "0",
        cwd=tmp_path,
        env=_env(tmp_path, **extra),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _port(proc: asyncio.subprocess.Process) -> tuple[int, list[str]]:
    assert proc.stderr is not None
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(proc.stderr.readline(), 60)
        if not raw:
            raise AssertionError("wolbot serve exited:\n" + "".join(lines))
        line = raw.decode()
        lines.append(line)
        match = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
        if match:
            return int(match.group(1)), lines


async def test_dev_serve_answers_a_narration_through_the_fake_connector(
    tmp_path: Path, connector: FakeBotConnector
) -> None:
    proc = await _serve(tmp_path, "127.0.0.1", WOLBOT_TEAMS_DEV="1")
    try:
        port, lines = await _port(proc)
        assert any("NOT authenticated" in line for line in lines)  # the start-up warning
        body = connector.rewrite(
            activity("message_personal_2019", text="Ik ben bezig met het inwerkprogramma")
        )
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            async with session.post(f"http://127.0.0.1:{port}/api/messages", json=body) as r:
                assert r.status in (200, 201)
            assert time.monotonic() - started < 15  # Teams' window, with a wide margin
        (reply,) = await connector.wait_for("reply", timeout=30)
        assert reply.conversation_id == body["conversation"]["id"]
        assert reply.activity_id == body["id"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0


async def test_dev_serve_refuses_a_public_address(tmp_path: Path) -> None:
    proc = await _serve(tmp_path, "0.0.0.0", WOLBOT_TEAMS_DEV="1")
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode != 0
    assert b"refusing to bind" in err
