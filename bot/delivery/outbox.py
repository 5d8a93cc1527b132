"""The persistent outbox: every outbound request is a row first, delivered by the worker.

Enqueueing is idempotent on a caller-chosen key (the same key is stored once, however
often it is enqueued), so a retried event or a second replica cannot queue a second copy.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update

from bot.clock import Clock
from bot.messages import Form, OutboundMessage
from bot.ports import Destination
from bot.store.engine import Database, insert_ignoring_duplicates
from bot.store.tables import OutboxItem

# payload key: the idempotency key of the row that must be delivered before this one (the
# outbox orders rows only per rate key, and a person's DM and the conversation an answer
# goes to are different keys, even where the platform puts both in one chat, as Teams does)
AFTER = "after"


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.wakeup = asyncio.Event()

    async def send(
        self,
        platform: str,
        dest: Destination,
        message: OutboundMessage,
        *,
        key: str,
        deliver_after: datetime | None = None,
        recipient_id: str | None = None,
        erase_after_delivery: bool = False,
    ) -> bool:
        payload: dict[str, Any] = {"message": message.model_dump(mode="json")}
        if erase_after_delivery:
            payload["erase_after_delivery"] = True
        return await self._put(
            platform,
            "send",
            dest,
            payload,
            key,
            deliver_after,
            recipient_id or dest.ephemeral_user,
        )

    async def send_dm(
        self,
        platform: str,
        workspace_id: str,
        user_ids: tuple[str, ...],
        message: OutboundMessage,
        *,
        key: str,
        deliver_after: datetime | None = None,
        erase_after_delivery: bool = False,
    ) -> bool:
        """A DM (one person) or group DM (several); the worker opens the conversation.
        `erase_after_delivery` removes the row once sent (e.g. relays to anonymous askers)."""
        dest = Destination(workspace_id=workspace_id, channel_id="")
        payload: dict[str, Any] = {
            "message": message.model_dump(mode="json"),
            "user_ids": list(user_ids),
        }
        if erase_after_delivery:
            payload["erase_after_delivery"] = True
        return await self._put(
            platform,
            "dm",
            dest,
            payload,
            key,
            deliver_after,
            user_ids[0] if len(user_ids) == 1 else None,
            rate_key=f"{platform}:dm:{','.join(sorted(user_ids))}",
        )

    async def send_file_dm(
        self,
        platform: str,
        workspace_id: str,
        user_id: str,
        filename: str,
        content: str | bytes,
        message: OutboundMessage,
        *,
        key: str,
        after: str | None = None,
    ) -> bool:
        """A file (e.g. a data export, or a chart as bytes) in the person's DM; the content
        is cleared once sent. Bytes travel base64-encoded in the payload. `after`: the key of
        a row this file belongs to (a chart's figures), delivered first: the worker holds the
        file back while that row is pending or being sent (`AFTER`)."""
        dest = Destination(workspace_id=workspace_id, channel_id="")
        payload: dict[str, Any] = {
            "message": message.model_dump(mode="json"),
            "user_ids": [user_id],
            "filename": filename,
        }
        if after:
            payload[AFTER] = after[:300]
        if isinstance(content, bytes):
            payload["content_b64"] = base64.b64encode(content).decode("ascii")
        else:
            payload["content"] = content
        return await self._put(
            platform, "file", dest, payload, key, None, user_id, rate_key=f"{platform}:dm:{user_id}"
        )

    async def send_dms(
        self,
        platform: str,
        items: list[tuple[str, str, OutboundMessage, str]],
        *,
        session: Any = None,
    ) -> int:
        """Many one-person DMs in one statement: (workspace_id, user_id, message, key) each;
        keys queued before are skipped. Returns how many rows were added. With `session` the
        rows join the caller's transaction (commit it, then call `wake()`)."""
        if not items:
            return 0
        now = self.clock.now()
        rows = [
            {
                "workspace_id": ws,
                "platform": platform,
                "idempotency_key": key[:300],
                "op": "dm",
                "destination": asdict(Destination(workspace_id=ws, channel_id="")),
                "payload": {"message": message.model_dump(mode="json"), "user_ids": [user_id]},
                "rate_key": f"{platform}:dm:{user_id}",
                "recipient_id": user_id,
                "status": "pending",
                "attempts": 0,
                "not_before": now,
                "created_at": now,
            }
            for ws, user_id, message, key in items
        ]
        statement = insert_ignoring_duplicates(self.db.dialect, OutboxItem).returning(OutboxItem.id)
        if session is not None:
            return len((await session.exec(statement, params=rows)).all())
        async with self.db.session() as s:
            result = await s.exec(statement, params=rows)
            added = len(result.all())
            await s.commit()
        self.wakeup.set()
        return added

    async def update(
        self,
        platform: str,
        dest: Destination,
        message_id: str,
        message: OutboundMessage,
        *,
        key: str,
        erase_after_delivery: bool = False,
    ) -> bool:
        """Replace a sent message (`erase_after_delivery`: an only-you answer to a click,
        whose record is dropped once delivered, like `send`'s)."""
        payload: dict[str, Any] = {
            "message": message.model_dump(mode="json"),
            "message_id": message_id,
        }
        if erase_after_delivery:
            payload["erase_after_delivery"] = True
        return await self._put(platform, "update", dest, payload, key, None, dest.ephemeral_user)

    async def react(
        self,
        platform: str,
        dest: Destination,
        message_id: str,
        emoji: str,
        *,
        key: str,
        recipient_id: str | None = None,
    ) -> bool:
        payload = {"message_id": message_id, "emoji": emoji}
        return await self._put(platform, "react", dest, payload, key, None, recipient_id)

    async def form(self, platform: str, dest: Destination, form: Form, *, key: str) -> bool:
        return await self._put(
            platform, "form", dest, {"form": form.model_dump(mode="json")}, key, None, None
        )

    async def _put(
        self,
        platform: str,
        op: str,
        dest: Destination,
        payload: dict[str, Any],
        key: str,
        deliver_after: datetime | None,
        recipient_id: str | None,
        rate_key: str | None = None,
    ) -> bool:
        now = self.clock.now()
        item = OutboxItem(
            workspace_id=dest.workspace_id,
            platform=platform,
            idempotency_key=key[:300],
            op=op,
            destination=asdict(dest),
            payload=payload,
            rate_key=rate_key or f"{platform}:{dest.workspace_id}:{dest.channel_id}",
            recipient_id=recipient_id,
            not_before=deliver_after or now,
            created_at=now,
        )
        async with self.db.session() as s:
            s.add(item)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
                return False  # already queued under this key
        self.wakeup.set()
        return True

    def stage_send(
        self, session: Any, platform: str, dest: Destination, message: OutboundMessage, *, key: str
    ) -> None:
        """Add a `send` to the caller's transaction: it is queued exactly when the caller's
        own change commits (e.g. a round and its question). Call `wake()` after the commit."""
        now = self.clock.now()
        session.add(
            OutboxItem(
                workspace_id=dest.workspace_id,
                platform=platform,
                idempotency_key=key[:300],
                op="send",
                destination=asdict(dest),
                payload={"message": message.model_dump(mode="json")},
                rate_key=f"{platform}:{dest.workspace_id}:{dest.channel_id}",
                not_before=now,
                created_at=now,
            )
        )

    def wake(self) -> None:
        self.wakeup.set()

    async def result_message_id(self, key: str) -> str | None:
        """The platform message id of a delivered `send`/`dm`, e.g. to thread under it."""
        async with self.db.session() as s:
            rows = await s.exec(
                select(OutboxItem.result_message_id).where(OutboxItem.idempotency_key == key[:300])
            )
            return rows.first()

    async def sent_message(
        self, workspace_id: str, message_id: str
    ) -> tuple[Destination, OutboundMessage] | None:
        """A message the bot sent, as it now looks (its latest update), to render it again
        after a click. None when unknown (or erased after delivery)."""
        async with self.db.session() as s:
            sent = (
                await s.exec(
                    select(OutboxItem)
                    .where(
                        OutboxItem.workspace_id == workspace_id,
                        OutboxItem.result_message_id == message_id[:200],
                        col(OutboxItem.op).in_(("send", "dm")),
                    )
                    .order_by(col(OutboxItem.id).desc())
                )
            ).first()
            if sent is None:
                return None
            updates = await s.exec(
                select(OutboxItem)
                .where(
                    OutboxItem.workspace_id == workspace_id,
                    OutboxItem.op == "update",
                    OutboxItem.rate_key == sent.rate_key,
                    col(OutboxItem.id) > sent.id,
                )
                .order_by(col(OutboxItem.id).desc())
            )
            latest = next((u for u in updates if u.payload.get("message_id") == message_id), None)
        payload = (latest or sent).payload
        if "message" not in payload:
            return None
        return load_destination(sent.destination), load_message(payload)

    async def cancel_for_recipient(self, workspace_id: str, recipient_id: str) -> int:
        """Cancel pending messages to a person (used when they opt out or are forgotten)."""
        async with self.db.session() as s:
            result = await s.exec(
                update(OutboxItem)
                .where(
                    col(OutboxItem.workspace_id) == workspace_id,
                    col(OutboxItem.recipient_id) == recipient_id,
                    col(OutboxItem.status) == "pending",
                )
                .values(status="cancelled")
            )
            await s.commit()
            return int(result.rowcount or 0)


def load_message(payload: dict[str, Any]) -> OutboundMessage:
    return OutboundMessage.model_validate(payload["message"])


def load_destination(data: dict[str, Any]) -> Destination:
    return Destination(**data)
