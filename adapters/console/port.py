"""The console's ChatPort: prints what the bot says to a text stream."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import TextIO

from adapters.console.inbound import PLATFORM, ButtonRef
from adapters.console.render import render
from bot.messages import Form, OutboundMessage
from bot.ports import Destination, PersonInfo, Sent

_EMOJI = {"memo": "📝", "white_check_mark": "✅", "wave": "👋", "raised_hands": "🙌"}


class ConsolePort:
    platform = PLATFORM
    min_interval = 0.0

    def __init__(self, out: TextIO | None = None, *, bot_name: str = "wolbot",
                 timezone: str | None = None, files_dir: str = "exports") -> None:
        self.files_dir = files_dir
        self.out = out or sys.stdout
        self.bot_name = bot_name
        self.timezone = timezone
        self.buttons: list[ButtonRef] = []

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
        body, buttons = render(message, first_button=len(self.buttons) + 1)
        channel = "dm" if dest.channel_id.startswith("dm:") else dest.channel_id
        for b in buttons:
            self.buttons.append(
                ButtonRef(b.action_id, b.value, message_id, channel, dest.thread_id or message_id)
            )
        self.buttons = self.buttons[-20:]
        note = ""
        if dest.ephemeral_user:
            note = f" (only to {dest.ephemeral_user})"
        elif dest.thread_id and message.broadcast:
            note = " (in thread, also sent to the channel)"
        elif dest.thread_id:
            note = " (in thread)"
        self._print(dest, body, note)
        return Sent(message_id=message_id, channel_id=dest.channel_id)

    async def send_file(self, dest: Destination, filename: str, content: bytes,
                        message: OutboundMessage) -> Sent:
        path = Path(self.files_dir) / Path(filename).name
        await asyncio.to_thread(_write, path, content)
        sent = await self.send(dest, message)
        self.out.write(f"{self._where(dest)} {self.bot_name} sent a file: {path}\n")
        self.out.flush()
        return sent

    async def update(self, dest: Destination, message_id: str, message: OutboundMessage) -> None:
        body, _ = render(message)
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
        self._print(dest, f"{form.title} — {fields} (forms need Slack or Teams)", "")

    async def lookup_person(self, workspace_id: str, user_id: str) -> PersonInfo:
        return PersonInfo(user_id=user_id, display_name=user_id, timezone=self.timezone)


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    path.chmod(0o600)
