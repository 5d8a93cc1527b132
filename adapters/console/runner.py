"""`wolbot chat`: read lines from standard input, print what the bot says, stop at end of input."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace
from typing import TextIO

from adapters.console.inbound import ConsoleState, parse_line
from adapters.console.port import ConsolePort
from bot.app import Core
from bot.errors import StoreUnavailable

log = logging.getLogger(__name__)


async def run_chat(core: Core, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    port = ConsolePort(out or sys.stdout, timezone=core.settings.timezone)
    core.register_port(port)
    await core.start()
    settings = core.settings.console
    state = ConsoleState(workspace=settings.workspace, user=settings.user, channel=settings.channel)
    interactive = stdin.isatty()
    if interactive:
        port.out.write(
            f"wolbot {core.version}: you are @{state.user} in #{state.channel}. "
            "Type /wol help, @name to switch person, #channel to switch channel, "
            "Ctrl-D to leave.\n"
        )
    try:
        while True:
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            state = replace(state, buttons=tuple(port.buttons))
            event, state = parse_line(line, state)
            if event is None:
                continue
            try:
                await core.handle(event)
            except StoreUnavailable as exc:
                port.out.write(f"! database unavailable, message not processed: {exc}\n")
            except Exception:
                log.exception("console: unexpected error")
                port.out.write("! internal error; see the log\n")
            await core.delivery.drain()
    finally:
        await core.delivery.drain()
        await core.stop()
    return 0
