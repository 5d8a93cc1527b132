"""The console's ChatPort: prints what the bot says to a text stream."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import TextIO

from adapters.console.inbound import PLATFORM, ButtonRef
from adapters.console.render import render
from bot.messages import Button, Form, OutboundMessage, Select
from bot.ports import Destination, PersonInfo, Sent
from bot.store.console import ConsoleStore

_EMOJI = {"memo": "📝", "white_check_mark": "✅", "wave": "👋", "raised_hands": "🙌"}


class ConsolePort:
    platform = PLATFORM
    min_interval = 0.0

    def __init__(
        self,
        out: TextIO | None = None,
        *,
        bot_name: str = "wolbot",
        timezone: str | None = None,
        files_dir: str = "exports",
        store: ConsoleStore | None = None,
    ) -> None:
        self.files_dir = files_dir
        self.out = out or sys.stdout
        self.bot_name = bot_name
        self.timezone = timezone
        # Numbered buttons: with a store the numbers are kept in the database, so a number
        # printed by `wolbot run-due` can be clicked in `wolbot chat` later.
        self.store = store
        self.buttons: dict[int, ButtonRef] = {}
        self.posts: dict[str, str] = {}  # conversation id -> the bot's last top-level post

    async def button(self, workspace_id: str, number: int) -> ButtonRef | None:
        """Button `number`, shown by this process or (with a store) by another one."""
        if number not in self.buttons and self.store is not None:
            row = await self.store.button(workspace_id, number)
            if row is not None:
                options = (
                    tuple(tuple(o) for o in json.loads(row.value)) if row.kind == "options" else ()
                )
                self.buttons[number] = ButtonRef(
                    row.action_id,
                    "" if options else row.value,
                    row.message_id,
                    row.channel,
                    row.thread_id,
                    row.kind,
                    options,
                )
        return self.buttons.get(number)

    def take_posts(self) -> dict[str, str]:
        """The bot's top-level posts since the last call (conversation id -> message id)."""
        posts, self.posts = self.posts, {}
        return posts

    async def _number(self, dest: Destination, message: OutboundMessage, message_id: str) -> str:
        """The message's text with its buttons numbered (and remembered)."""
        _, elements = render(message)
        if not elements:
            return render(message)[0]
        channel = "dm" if dest.channel_id.startswith("dm:") else dest.channel_id
        refs = [_ref(e, message_id, channel, dest.thread_id or message_id) for e in elements]
        if self.store is not None:
            first = await self.store.number(
                dest.workspace_id,
                [
                    dict(
                        kind=r.kind,
                        action_id=r.action_id,
                        value=json.dumps(r.options) if r.kind == "options" else r.value,
                        message_id=r.message_id,
                        channel=r.channel,
                        thread_id=r.thread_id,
                    )
                    for r in refs
                ],
            )
        else:
            first = max(self.buttons, default=0) + 1
        for offset, ref in enumerate(refs):
            self.buttons[first + offset] = ref
        return render(message, first_button=first)[0]

    def _where(self, dest: Destination) -> str:
        if dest.channel_id.startswith("dm:"):
            return f"[dm {dest.channel_id[3:].replace(',', ', ')}]"
        return f"[#{dest.channel_id}]"

    def _print(self, dest: Destination, body: str, note: str = "") -> None:
        head = f"{self._where(dest)} {self.bot_name}{note}:"
        lines = body.splitlines() or [""]
        text = head + (
            " " + lines[0] if len(lines) == 1 else "\n" + "\n".join("    " + line for line in lines)
        )
        self.out.write(text + "\n")
        self.out.flush()

    async def send(self, dest: Destination, message: OutboundMessage) -> Sent:
        message_id = f"b{uuid.uuid4().hex[:12]}"
        body = await self._number(dest, message, message_id)
        if not dest.thread_id and not dest.ephemeral_user:
            self.posts[dest.channel_id] = message_id
        note = ""
        if dest.ephemeral_user:
            note = f" (only to {dest.ephemeral_user})"
        elif dest.thread_id and message.broadcast:
            note = " (in thread, also sent to the channel)"
        elif dest.thread_id:
            note = " (in thread)"
        self._print(dest, body, note)
        return Sent(message_id=message_id, channel_id=dest.channel_id)

    async def send_file(
        self, dest: Destination, filename: str, content: bytes, message: OutboundMessage
    ) -> Sent:
        path = await asyncio.to_thread(_write, Path(self.files_dir) / Path(filename).name, content)
        sent = await self.send(dest, message)
        self.out.write(f"{self._where(dest)} {self.bot_name} sent a file: {path}\n")
        self.out.flush()
        return sent

    async def update(self, dest: Destination, message_id: str, message: OutboundMessage) -> None:
        body = await self._number(dest, message, message_id)
        self._print(dest, body, " (updated)")

    async def react(self, dest: Destination, message_id: str, emoji: str) -> None:
        self.out.write(
            f"{self._where(dest)} {self.bot_name} reacted {_EMOJI.get(emoji, ':' + emoji + ':')}\n"
        )
        self.out.flush()

    async def open_dm(self, workspace_id: str, user_ids: tuple[str, ...]) -> str:
        return "dm:" + ",".join(user_ids)

    async def open_form(self, dest: Destination, form: Form) -> None:
        fields = ", ".join(f.label for f in form.fields)
        note = f" ({form.elsewhere})" if form.elsewhere else ""
        self._print(dest, f"{form.title} — {fields}{note}", "")

    async def lookup_person(self, workspace_id: str, user_id: str) -> PersonInfo:
        return PersonInfo(user_id=user_id, display_name=user_id, timezone=self.timezone)


def _ref(element: Button | Select, message_id: str, channel: str, thread_id: str) -> ButtonRef:
    if isinstance(element, Button):
        return ButtonRef(element.action_id, element.value, message_id, channel, thread_id)
    if element.people:
        return ButtonRef(element.action_id, "", message_id, channel, thread_id, "people")
    options = tuple((o.label, o.value) for o in element.options)
    return ButtonRef(element.action_id, "", message_id, channel, thread_id, "options", options)


def _write(path: Path, content: bytes) -> Path:
    """Write a new file, readable by its owner only; never over an earlier one (two exports
    in the same second get `name-2.json`, `name-3.json`, …). Returns the path written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = path, 1
    while True:
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            n += 1
            candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        return candidate
