"""The inbox worker as a process of its own (`SLACK_INBOX_WORKER=process`).

Handling a narration costs the core tens of milliseconds of CPU (people, settings, matching);
acknowledging one costs about one. In one process both share one event loop, so under load
the acknowledgements wait behind the handling. With SLACK_INBOX_WORKER=process, `wolbot
serve` only verifies, stores and acknowledges, and starts this module as a child process
that handles the inbox (and delivers what that produces) at a lower CPU priority
(`SLACK_INBOX_WORKER_NICE`, default 10): when the CPU is short, the acknowledgements win
and the handling catches up afterwards. The two processes share nothing but the database,
exactly like a web replica and a worker replica (see inbox.py); serve restarts the child
if it dies and stops it on shutdown.

    python -m adapters.slack.worker [--config app.yaml]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from dataclasses import replace
from typing import Any

from aiohttp import web

log = logging.getLogger("adapters.slack.worker")  # also when run as __main__
STOP_TIMEOUT = 20.0


class WorkerProcess:
    """The child process, supervised from `wolbot serve`."""

    def __init__(self, config_path: str | None, env: dict[str, str]) -> None:
        self.argv = [sys.executable, "-m", "adapters.slack.worker"]
        if config_path:
            self.argv += ["--config", config_path]
        self.argv += ["--log-level", logging.getLevelName(logging.getLogger().level)]
        self.env = {**env, "SLACK_INBOX_WORKER": "1"}
        self.proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="slack-worker-process")

    async def _supervise(self) -> None:
        backoff = 1.0
        while not self._stopping:
            self.proc = await asyncio.create_subprocess_exec(*self.argv, env=self.env)
            log.info("Slack inbox worker process %d started", self.proc.pid)
            code = await self.proc.wait()
            if self._stopping:
                return
            log.error("Slack inbox worker process exited (%s); restarting in %.0fs", code, backoff)
            await asyncio.sleep(backoff)
            backoff = min(30.0, backoff * 2)

    async def stop(self) -> None:
        self._stopping = True
        proc = self.proc
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                log.warning("Slack inbox worker process did not stop; killing it")
                proc.kill()
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def run(settings: Any) -> int:
    """Handle the inbox until SIGTERM: core (delivery on, scheduling left to serve) plus the
    Slack runtime without HTTP routes or Socket Mode."""
    from bot.app import build

    from .runtime import SlackRuntime

    core = build(settings)
    await core.start(schedule=False)
    runtime = SlackRuntime.from_core(core)
    runtime.config = replace(runtime.config, inbox_worker=True, inbox_process=False, app_token=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parent = os.getppid()

    async def orphaned() -> None:  # serve was killed (-9): stop with it, never run alone
        while True:
            await asyncio.sleep(1.0)
            if os.getppid() != parent:
                break
        log.warning("wolbot serve is gone; the Slack inbox worker process stops")
        stop.set()

    watch = asyncio.create_task(orphaned())
    try:
        await runtime.start(web.Application(), routes=False)
        log.info("Slack inbox worker process ready")
        from adapters.web import freeze_heap

        freeze_heap()
        await stop.wait()
        watch.cancel()
    finally:
        await runtime.stop()
        await core.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None)
    ap.add_argument("--log-level", default="INFO")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s[worker]: %(message)s",
    )
    nice = int(os.environ.get("SLACK_INBOX_WORKER_NICE", "10") or 0)
    if nice:
        os.nice(nice)
    from bot.config import load_settings

    return asyncio.run(run(load_settings(args.config)))


if __name__ == "__main__":
    sys.exit(main())
