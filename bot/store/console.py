"""The console's state that outlives one process: its numbered buttons, and the last message
the bot posted in a conversation (so `> text` can answer a question that `wolbot run-due`
posted from another process)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from bot.clock import Clock
from bot.store.engine import Database
from bot.store.tables import OutboxItem
from bot.store.tables.console import ConsoleButton

RECENT_POSTS = 200  # how far back the last top-level post of a conversation is looked for


class ConsoleStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock

    async def number(self, workspace_id: str, buttons: Sequence[dict[str, Any]]) -> int:
        """Store `buttons` (ConsoleButton fields) under the next free numbers; returns the
        first. Numbers are taken in one transaction, retried when another process took them."""
        for _ in range(20):
            async with self.db.session() as s:
                highest = (
                    await s.exec(
                        select(func.max(ConsoleButton.number)).where(
                            ConsoleButton.workspace_id == workspace_id
                        )
                    )
                ).one()
                first = int(highest or 0) + 1
                for offset, button in enumerate(buttons):
                    s.add(
                        ConsoleButton(
                            **button,
                            workspace_id=workspace_id,
                            number=first + offset,
                            created_at=self.clock.now(),
                        )
                    )
                try:
                    await s.commit()
                except IntegrityError:
                    await s.rollback()
                    continue
            return first
        raise RuntimeError("could not number console buttons")

    async def button(self, workspace_id: str, number: int) -> ConsoleButton | None:
        async with self.db.session() as s:
            return await s.get(ConsoleButton, (workspace_id, number))

    async def horizon(self, workspace_id: str) -> int:
        """The newest outbox row of the console so far: posts after it are news."""
        async with self.db.session() as s:
            found = (
                await s.exec(
                    select(func.max(OutboxItem.id)).where(OutboxItem.workspace_id == workspace_id)
                )
            ).one()
        return int(found or 0)

    async def last_post(self, workspace_id: str, channel_id: str) -> tuple[str, int] | None:
        """The message id and outbox row of the bot's last top-level, public post in a console
        conversation (possibly posted by another process, such as `wolbot run-due`)."""
        async with self.db.session() as s:
            rows = await s.exec(
                select(OutboxItem)
                .where(
                    OutboxItem.workspace_id == workspace_id,
                    OutboxItem.platform == "console",
                    OutboxItem.op == "send",
                    OutboxItem.status == "sent",
                    col(OutboxItem.result_message_id).is_not(None),
                )
                .order_by(col(OutboxItem.id).desc())
                .limit(RECENT_POSTS)
            )
            for row in rows:
                dest = row.destination or {}
                if (
                    dest.get("channel_id") == channel_id
                    and not dest.get("thread_id")
                    and not dest.get("ephemeral_user")
                ):
                    return str(row.result_message_id), int(row.id or 0)
        return None
