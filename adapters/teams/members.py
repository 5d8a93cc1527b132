"""The adapter's memory of people: where to reach them and what their client reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from adapters.teams.inbound import (
    locale_and_timezone,
    split_conversation_id,
    tenant_id,
    workspace_id_for,
)
from bot.store.delivery_log import coarse_time
from bot.store.engine import Database
from bot.store.tables.core import ConversationReference
from bot.store.tables.teams import TeamsMember


@dataclass(frozen=True, slots=True)
class Seen:
    """One person as an activity showed them."""

    workspace_id: str
    user_id: str
    aad_object_id: str | None
    name: str | None
    locale: str | None
    timezone: str | None
    conversation_id: str
    service_url: str
    bot_id: str
    is_personal: bool

    @classmethod
    def from_activity(cls, activity: dict[str, Any]) -> Seen | None:
        tenant = tenant_id(activity)
        sender = activity.get("from") or {}
        bot = activity.get("recipient") or {}
        conversation = activity.get("conversation") or {}
        user_id = str(sender.get("id") or "")
        if not tenant or not user_id or user_id.startswith("28:") or not bot.get("id"):
            return None
        if not activity.get("serviceUrl") or not conversation.get("id"):
            return None
        locale, timezone = locale_and_timezone(activity)
        return cls(
            workspace_id=workspace_id_for(tenant),
            user_id=user_id,
            aad_object_id=sender.get("aadObjectId"),
            name=sender.get("name"),
            locale=locale,
            timezone=timezone,
            conversation_id=split_conversation_id(str(conversation["id"]))[0],
            service_url=str(activity["serviceUrl"]),
            bot_id=str(bot["id"]),
            is_personal=conversation.get("conversationType") == "personal",
        )


class Members:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def seen(self, seen: Seen, *, anonymous: bool = False, traceless: bool = False) -> None:
        """Upsert what an activity showed; an unchanged person costs one read, no write.

        An anonymous question's activity changes nothing about a person already known (a
        write then would date their question), and a new person's row, which the bot needs
        to relay answers to their personal chat, is dated to the day. A traceless one
        (`Hooks.traceless_events`: the erasure confirmation) writes no new row at all."""
        async with self.db.session() as s:
            row = await s.get(TeamsMember, (seen.workspace_id, seen.user_id))
            existing = row is not None
            if traceless or (existing and anonymous):
                return
            if row is None:
                row = TeamsMember(
                    workspace_id=seen.workspace_id,
                    user_id=seen.user_id,
                    conversation_id=seen.conversation_id,
                    service_url=seen.service_url,
                    bot_id=seen.bot_id,
                )
            values = {
                "aad_object_id": seen.aad_object_id or row.aad_object_id,
                "name": seen.name or row.name,
                "locale": seen.locale or row.locale,
                "timezone": seen.timezone or row.timezone,
                "conversation_id": seen.conversation_id,
                "service_url": seen.service_url,
                "bot_id": seen.bot_id,
                "dm_conversation_id": (
                    seen.conversation_id if seen.is_personal else row.dm_conversation_id
                ),
            }
            if existing and all(getattr(row, k) == v for k, v in values.items()):
                return
            for key, value in values.items():
                setattr(row, key, value)
            now = datetime.now(UTC)
            row.updated_at = coarse_time(now) if anonymous else now
            s.add(row)
            try:
                await s.commit()
            except IntegrityError:  # a concurrent activity of the same person inserted it
                await s.rollback()

    async def get(self, workspace_id: str, user_id: str) -> TeamsMember | None:
        async with self.db.session() as s:
            return await s.get(TeamsMember, (workspace_id, user_id))

    async def by_aad_object_id(self, workspace_id: str, aad_object_id: str) -> TeamsMember | None:
        async with self.db.session() as s:
            result = await s.exec(
                select(TeamsMember).where(
                    TeamsMember.workspace_id == workspace_id,
                    TeamsMember.aad_object_id == aad_object_id,
                )
            )
            return result.first()

    async def set_dm(
        self,
        workspace_id: str,
        user_id: str,
        conversation_id: str,
        *,
        service_url: str,
        bot_id: str,
    ) -> None:
        """Remember a person's 1:1 chat, also for people the bot has not heard from yet."""
        async with self.db.session() as s:
            row = await s.get(TeamsMember, (workspace_id, user_id))
            if row is None:
                row = TeamsMember(
                    workspace_id=workspace_id,
                    user_id=user_id,
                    conversation_id=conversation_id,
                    service_url=service_url,
                    bot_id=bot_id,
                )
            row.dm_conversation_id = conversation_id
            row.updated_at = datetime.now(UTC)
            s.add(row)
            await s.commit()

    async def any_reference(self, workspace_id: str) -> dict[str, Any] | None:
        """The newest stored reference in a tenant: its service URL and bot reach everyone."""
        async with self.db.session() as s:
            result = await s.exec(
                select(ConversationReference)
                .where(
                    ConversationReference.workspace_id == workspace_id,
                    ConversationReference.platform == "teams",
                )
                .order_by(col(ConversationReference.updated_at).desc())
                .limit(1)
            )
            row = result.first()
            return dict(row.reference) if row else None
