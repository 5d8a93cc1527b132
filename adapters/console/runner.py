"""`wolbot chat`: read lines from standard input, print what the bot says, stop at end of input."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace
from typing import TextIO

from adapters.console.inbound import (
    PLATFORM,
    ConsoleState,
    click_number,
    conversation_for,
    parse_line,
    split_prefixes,
)
from adapters.console.port import ConsolePort
from bot.errors import StoreUnavailable
from bot.events import EventKind
from bot.runtime import Wolbot
from bot.store.console import ConsoleStore

log = logging.getLogger(__name__)


async def run_chat(core: Wolbot, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    store = ConsoleStore(core.db, core.clock)
    port = ConsolePort(out or sys.stdout, timezone=core.settings.timezone, store=store)
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
    workspace_id = f"{PLATFORM}:{state.workspace}"
    horizon: dict[str, int] = {}  # conversation -> newest outbox row when this session last spoke
    try:
        while True:
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            state = await _before(line, state, port, store, workspace_id, horizon)
            event, state = parse_line(line, state)
            if event is None:
                continue
            if event.kind is EventKind.MESSAGE and not event.conversation.thread_id:
                horizon[event.conversation.id] = await store.horizon(workspace_id)
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


async def _before(
    line: str,
    state: ConsoleState,
    port: ConsolePort,
    store: ConsoleStore,
    workspace_id: str,
    horizon: dict[str, int],
) -> ConsoleState:
    """What the line may refer to: the bot's posts since the last line (they are the newest
    messages of their conversations), a post made meanwhile by another process (`wolbot
    run-due`), and a button shown earlier (in this session or another)."""
    posts = port.take_posts()
    if posts:
        newest = await store.horizon(workspace_id)
        horizon.update(dict.fromkeys(posts, newest))
    state = replace(state, last_message={**state.last_message, **posts})
    after, text = split_prefixes(line, state)
    assert after is not None
    if text.startswith(">"):
        where = conversation_for(after).id
        found = await store.last_post(workspace_id, where)
        if found is not None and found[1] > horizon.get(where, 0):
            horizon[where] = found[1]
            state = replace(state, last_message={**state.last_message, where: found[0]})
    number = click_number(line)
    if number is not None:
        button = await port.button(workspace_id, number)
        if button is not None:
            state = replace(state, buttons={number: button})
    return state
