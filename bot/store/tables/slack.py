"""Slack adapter tables: OAuth v2 installations (one per workspace), pending install states,
and the inbox of Events API deliveries awaiting handling.

Bot tokens are stored encrypted (the adapter encrypts them before they reach this table,
see adapters/slack/oauth.py); a database dump alone does not reveal them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import json_column, timestamp


class SlackInstallation(SQLModel, table=True):
    __tablename__ = "slack_installation"
    __personal__ = {"installer_user_id": "anonymise"}  # erasure policy (bot.store.personal_data)
    __personal__ = {"installer_user_id": "anonymise"}  # erasure policy

    workspace_id: str = Field(primary_key=True, max_length=200)  # "slack:T…" ("slack:E…" org-wide)
    team_id: str | None = Field(default=None, max_length=32)
    enterprise_id: str | None = Field(default=None, max_length=32, index=True)
    is_enterprise_install: bool = False
    app_id: str | None = Field(default=None, max_length=32)
    bot_id: str | None = Field(default=None, max_length=32)
    bot_user_id: str | None = Field(default=None, max_length=32)
    bot_token: str = Field(max_length=2000)  # encrypted
    bot_refresh_token: str | None = Field(default=None, max_length=2000)  # encrypted
    bot_token_expires_at: datetime | None = timestamp(nullable=True)
    bot_scopes: str = Field(default="", max_length=2000)
    installer_user_id: str | None = Field(default=None, max_length=32)
    installed_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class SlackOAuthState(SQLModel, table=True):
    """A `state` handed out by /slack/install, consumed once by /slack/oauth_redirect."""

    __tablename__ = "slack_oauth_state"

    state: str = Field(primary_key=True, max_length=200)
    workspace_id: str = Field(default="slack:*", max_length=200)  # not known until installed
    expires_at: datetime = timestamp(index=True)


class SlackInboxItem(SQLModel, table=True):
    """An Events API delivery, stored before it is acknowledged and handled afterwards.

    Storing first makes the acknowledgement fast and durable: a retry or a second replica
    finds the (workspace_id, event_id) row and stops; a crash after the ack loses nothing.
    """

    __tablename__ = "slack_inbox"
    __table_args__ = (UniqueConstraint("workspace_id", "event_id", name="uq_slack_inbox_event"),)
    __personal__ = {"user_id": "delete"}

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200)
    event_id: str = Field(max_length=200)
    lane: str = Field(max_length=400)  # events of one conversation are handled in order
    user_id: str | None = Field(default=None, max_length=200, index=True)  # who caused it
    body: dict[str, Any] = json_column()
    bot_user_id: str | None = Field(default=None, max_length=32)
    status: str = Field(default="pending", max_length=12, index=True)  # pending|sending|failed
    attempts: int = 0
    not_before: datetime = timestamp(index=True)
    claimed_until: datetime | None = timestamp(nullable=True)
    claim_token: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, max_length=500)
    received_at: datetime = timestamp()
