"""The inbox: inbound events of every platform, stored before they are acknowledged and
handled afterwards (bot.delivery.inbox). A queue table of bot.delivery.queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import json_column, timestamp


class InboxItem(SQLModel, table=True):
    """One platform event. Storing first makes the acknowledgement fast and durable, and the
    unique (workspace_id, event_key) row is the one duplicate check: a platform's retry or a
    second replica's copy finds it, also after handling, while the row is kept (`done`, its
    event and person cleared, for `EVENT_ID_RETENTION`). `event_key` is a keyed hash of the
    platform's event id (no id that the platform's own logs could tie to a person)."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("workspace_id", "event_key", name="uq_inbox_event"),)
    __personal__ = {"user_id": "delete"}

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200)
    event_key: str = Field(max_length=64)
    platform: str = Field(max_length=32)
    lane: str = Field(max_length=400)  # events of one conversation are handled in order
    user_id: str | None = Field(default=None, max_length=200, index=True)  # who caused it
    # the neutral event (bot.events.event_to_json); cleared once handled
    event: dict[str, Any] | None = json_column(nullable=True)
    status: str = Field(default="pending", max_length=12, index=True)  # pending|sending|done|failed
    attempts: int = 0
    not_before: datetime = timestamp(index=True)
    claimed_until: datetime | None = timestamp(nullable=True)
    claim_token: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, max_length=500)
    received_at: datetime = timestamp()
