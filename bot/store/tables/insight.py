"""Insight: participation counts per person and ISO week (read back only as aggregates, or by
the person themself), the weekly report's opt-ins, and dashboard sign-in links and sessions.

Participation is kept per week, not per event or per day: coarse enough that it says nothing
about when somebody was online, fine enough for weekly and monthly levels.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class ParticipationCount(SQLModel, table=True):
    """How often a person gave one kind of signal in one week, in one community ("" when the
    signal belongs to no community: a DM, the App Home, a channel that is not a community)."""

    __tablename__ = "participation_count"
    __personal__ = {"user_id": "delete"}
    __table_args__ = (Index("ix_participation_week", "workspace_id", "week"),)

    workspace_id: str = Field(primary_key=True, max_length=200)
    user_id: str = Field(primary_key=True, max_length=200)
    week: date = Field(primary_key=True)  # the Monday of the ISO week (UTC)
    community: str = Field(primary_key=True, max_length=200)
    signal: str = Field(primary_key=True, max_length=40)  # e.g. reaction, reply, narration
    level: int  # 1 consume, 2 contribute, 3 create
    count: int = 0


class ReportSubscription(SQLModel, table=True):
    """A manager who asked for the weekly report by DM (opt-in)."""

    __tablename__ = "insight_subscription"
    __personal__ = {"user_id": "delete"}

    workspace_id: str = Field(primary_key=True, max_length=200)
    user_id: str = Field(primary_key=True, max_length=200)
    platform: str = Field(max_length=20)
    community: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp()


class DashboardToken(SQLModel, table=True):
    """A single-use sign-in link; only the SHA-256 of the token is stored."""

    __tablename__ = "dashboard_token"
    __personal__ = {"user_id": "delete"}

    token_hash: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=200, index=True)
    user_id: str = Field(max_length=200)
    platform: str = Field(max_length=20)
    language: str = Field(max_length=8)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)


class DashboardSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds the secret, the table only its SHA-256."""

    __tablename__ = "dashboard_session"
    __personal__ = {"user_id": "delete"}

    session_hash: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=200, index=True)
    user_id: str = Field(max_length=200)
    platform: str = Field(max_length=20)
    language: str = Field(max_length=8)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp(index=True)
