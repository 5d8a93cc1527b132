"""Slack adapter tables: OAuth v2 installations (one per workspace) and pending install states.

Bot tokens are stored encrypted (the adapter encrypts them before they reach this table,
see adapters/slack/oauth.py); a database dump alone does not reveal them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class SlackInstallation(SQLModel, table=True):
    __tablename__ = "slack_installation"

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
