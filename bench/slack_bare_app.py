"""The baseline for bench/slack_ack.py: a bare slack-bolt AsyncApp on aiohttp that verifies
signatures, authorizes (one auth.test) and acknowledges `message` events, `/wol` slash
commands and button clicks with no-op listeners (bench/load.py sends all three). Run by the
benchmarks as a subprocess; prints "listening on <port>".

    SLACK_SIGNING_SECRET=… SLACK_BOT_TOKEN=… SLACK_API_URL=… python bench/slack_bare_app.py
"""

from __future__ import annotations

import asyncio
import os
import re
import signal

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def main() -> None:
    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    client.proxy = None
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)

    @app.event("message")
    async def on_message(ack):  # bolt injects arguments by name
        await ack()

    @app.command("/wol")
    async def on_command(ack):
        await ack()

    @app.action(re.compile(".*"))
    async def on_action(ack):
        await ack()

    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"listening on {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
