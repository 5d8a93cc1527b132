"""SLACK_INBOX_WORKER=process: `wolbot serve` acknowledges, its child process handles; a child
that dies is restarted and handles what was acknowledged meanwhile; serve stops it on exit."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from tests.fakes.slack_api import signed_headers

from .conftest import BOT_TOKEN, SIGNING_SECRET


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


async def test_serve_with_a_worker_process(tmp_path: Path, slack_api, payload):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_"))}
    env.update(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=slack_api.url,
        SLACK_INBOX_WORKER="process",
        SLACK_INBOX_WORKER_NICE="0",  # start as fast as serve on a busy CI machine
        WOLBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'wolbot.db'}",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--log-level", "INFO", "serve",
        "--host", "127.0.0.1", "--port", "0",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines: list[str] = []
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    workers: asyncio.Queue[int] = asyncio.Queue()

    async def read_log() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode(errors="replace")
            lines.append(line)
            if m := re.search(r"serving on http://127\.0\.0\.1:(\d+)", line):
                port.set_result(int(m.group(1)))
            if m := re.search(r"Slack inbox worker process (\d+) started", line):
                workers.put_nowait(int(m.group(1)))
        if not port.done():
            port.set_exception(AssertionError("wolbot serve exited:\n" + "".join(lines)))

    def narration(n: int) -> str:
        body = payload("events/event_callback_message.json")
        body["event_id"] = f"EvWorker{n}"
        body["event"].update(text=f"I'm working on worker test {n}", ts=f"9.00000{n}")
        # another conversation each: the killed worker may leave its row leased (60 s), and
        # later events of that conversation wait for it, in order
        body["event"]["channel"] = f"CWORKER{n}"
        return json.dumps(body)

    reader = asyncio.create_task(read_log())
    try:
        url = f"http://127.0.0.1:{await asyncio.wait_for(port, 60)}/slack/events"
        first = await asyncio.wait_for(workers.get(), 10)
        async with aiohttp.ClientSession() as http:
            raw = narration(1)
            async with http.post(url, data=raw, headers=signed_headers(raw, SIGNING_SECRET)) as r:
                assert r.status == 200
            await slack_api.wait_for("reactions.add", timeout=40)
            # handled by the child, not by serve (which only stored and acknowledged it)
            assert any("[worker]" in line and "narration 1 recorded" in line for line in lines)
            os.kill(first, signal.SIGKILL)  # the worker dies; serve keeps acknowledging
            raw = narration(2)
            async with http.post(url, data=raw, headers=signed_headers(raw, SIGNING_SECRET)) as r:
                assert r.status == 200
            second = await asyncio.wait_for(workers.get(), 20)  # restarted
            assert second != first
            await slack_api.wait_for("reactions.add", count=2, timeout=40)
        await slack_api.settle(0.5)
        assert len(slack_api.calls_to("reactions.add")) == 2
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 40) == 0
        assert not _alive(second)  # serve stopped its worker
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        reader.cancel()
