"""The foundation's tables: tenants, people, channels, narrations, de-duplication,
conversation references and the outbox. Every row belongs to a workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint, true
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import json_column, timestamp


class Workspace(SQLModel, table=True):
    """A tenant: a Slack team, a Teams tenant, or the local console."""

    id: str = Field(primary_key=True, max_length=200)  # "slack:T0123", "teams:<tenant>"
    platform: str = Field(max_length=20)
    name: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp()


class Person(SQLModel, table=True):
    __personal__ = {"user_id": "delete"}

    workspace_id: str = Field(primary_key=True, foreign_key="workspace.id", max_length=200)
    user_id: str = Field(primary_key=True, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=35)
    is_platform_admin: bool = False
    updated_at: datetime = timestamp()


class Channel(SQLModel, table=True):
    workspace_id: str = Field(primary_key=True, foreign_key="workspace.id", max_length=200)
    channel_id: str = Field(primary_key=True, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    kind: str = Field(default="public", max_length=10)  # bot.events.ConversationKind
    updated_at: datetime = timestamp()


class Narration(SQLModel, table=True):
    """Somebody saying what they are working on.

    Its matching vector (bot/matching) is stored on the row, made before the row is written
    (`Hooks.narration_preparers`), so recording a narration is one INSERT; restarts and other
    replicas load it from here (`bot/store/matching.py`), as they load profile topics'
    vectors from `match_vector`. Likewise it counts as its author's participation by itself
    (`community`), without a row in `participation_count`."""

    __personal__ = {"author_id": "delete"}
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "message_id", name="uq_narration_message"),
        Index("ix_narration_vector_at", "workspace_id", "vector_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=200, index=True)
    author_id: str = Field(max_length=200, index=True)
    text: str  # the message as written
    topic: str  # the work itself, without the "I'm working on" phrase
    channel_id: str = Field(max_length=200)
    message_id: str | None = Field(default=None, max_length=200)
    thread_id: str | None = Field(default=None, max_length=200)
    visibility: str = Field(max_length=10)  # public | private | dm
    language: str = Field(max_length=8)
    source: str = Field(max_length=20)  # channel | dm | command | checkin | shortcut
    created_at: datetime = timestamp(index=True)
    updated_at: datetime = timestamp()
    # the topic's vector: float32, L2-normalised, made by `vector_model` (None: not encoded)
    vector: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    vector_model: str | None = Field(default=None, max_length=80)
    vector_at: datetime | None = timestamp(nullable=True)  # when `vector` was last written
    # Its participation count (bot/store/participation_counts.py): the community it was
    # told in ("" for none); None: counted in `participation_count` instead, or not at all.
    community: str | None = Field(default=None, max_length=200)


class ProcessedEvent(SQLModel, table=True):
    """Claimed platform event ids: a retry or a second replica sees the claim and stops.

    `completed` is set once handling finished; a claim left unfinished (the process died
    while handling) is taken over by a later delivery once it is stale."""

    workspace_id: str = Field(primary_key=True, max_length=200)
    event_id: str = Field(primary_key=True, max_length=200)
    received_at: datetime = timestamp(index=True)
    completed: bool = Field(default=False, sa_column_kwargs={"server_default": true()})


class ConversationReference(SQLModel, table=True):
    """What an adapter needs to write into a conversation later (Teams: proactive messages)."""

    workspace_id: str = Field(primary_key=True, max_length=200)
    conversation_id: str = Field(primary_key=True, max_length=400)
    platform: str = Field(max_length=20)
    reference: dict[str, Any] = json_column()
    updated_at: datetime = timestamp()


class OutboxItem(SQLModel, table=True):
    """One piece of outbound work, delivered at most once per idempotency key."""

    __personal__ = {"recipient_id": "delete"}

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    platform: str = Field(max_length=20)
    idempotency_key: str = Field(max_length=300, unique=True)
    op: str = Field(max_length=20)  # send | update | react | form | dm
    destination: dict[str, Any] = json_column()
    payload: dict[str, Any] = json_column()
    rate_key: str = Field(max_length=400)  # what the platform rate-limits on (a channel)
    recipient_id: str | None = Field(default=None, max_length=200, index=True)
    status: str = Field(default="pending", max_length=12, index=True)
    attempts: int = 0
    not_before: datetime = timestamp(index=True)
    claimed_until: datetime | None = timestamp(nullable=True)
    claim_token: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, max_length=500)
    result_message_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp()
    sent_at: datetime | None = timestamp(nullable=True)
