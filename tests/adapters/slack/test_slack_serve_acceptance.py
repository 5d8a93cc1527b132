"""Issue 3's acceptance, literally: the real `wolbot serve` process with SLACK_SIGNING_SECRET,
SLACK_BOT_TOKEN and SLACK_API_URL pointing at the local fake: a signed narration event gets
its acknowledgement reaction, a retry gets nothing more."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from tests.fakes.slack_api import signed_headers

from .conftest import BOT_TOKEN, SIGNING_SECRET


async def test_wolbot_serve_narration_reaction_and_retry(tmp_path: Path, slack_api, payload):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_"))}
    env.update(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=slack_api.url,
        WOLBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'wolbot.db'}",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--log-level", "INFO", "serve",
        "--host", "127.0.0.1", "--port", "0",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines: list[str] = []
    found: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def read_log() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode(errors="replace")
            lines.append(line)
            m = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
            if m and not found.done():
                found.set_result(int(m.group(1)))
        if not found.done():
            found.set_exception(AssertionError("wolbot serve exited:\n" + "".join(lines)))

    reader = asyncio.create_task(read_log())
    try:
        port = await asyncio.wait_for(found, 60)
        body = payload("events/event_callback_message.json")
        body["event"]["text"] = "I'm working on the acceptance test"
        raw = json.dumps(body)
        url = f"http://127.0.0.1:{port}/slack/events"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=raw, headers=signed_headers(raw, SIGNING_SECRET)) as r:
                assert r.status == 200
            [reaction] = await slack_api.wait_for("reactions.add", timeout=20)
            assert reaction.args["name"] == "memo" and reaction.token == BOT_TOKEN
            retry = signed_headers(raw, SIGNING_SECRET, retry_num=1)
            async with http.post(url, data=raw, headers=retry) as r:
                assert r.status == 200
            forged = {**retry, "X-Slack-Signature": "v0=" + "1" * 64}
            async with http.post(url, data=raw, headers=forged) as r:
                assert r.status == 401
        await slack_api.settle(1.0)
        assert len(slack_api.calls_to("reactions.add")) == 1
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert "adapter slack enabled" in "".join(lines)
        assert BOT_TOKEN not in "".join(lines)  # secrets never logged
        assert SIGNING_SECRET not in "".join(lines)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
