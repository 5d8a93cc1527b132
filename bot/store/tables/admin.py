"""Administration: admin overrides of settings, role grants, the audit log, personal settings,
and claims on scheduled occurrences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class SettingOverride(SQLModel, table=True):
    """An admin's value for a setting, for a workspace ("*") or one channel."""

    __tablename__ = "setting_override"
    __personal__ = {"updated_by": "anonymise"}

    workspace_id: str = Field(primary_key=True, max_length=200)
    scope: str = Field(primary_key=True, max_length=200)  # "*" (workspace) or a channel id
    key: str = Field(primary_key=True, max_length=100)
    value: Any = Field(sa_column=Column(JSON, nullable=True))
    updated_by: str = Field(max_length=200)
    updated_at: datetime = timestamp()


class RoleGrant(SQLModel, table=True):
    __tablename__ = "role_grant"
    __personal__ = {"user_id": "delete", "granted_by": "anonymise"}

    workspace_id: str = Field(primary_key=True, max_length=200)
    user_id: str = Field(primary_key=True, max_length=200)
    role: str = Field(primary_key=True, max_length=20)  # admin | manager
    granted_by: str = Field(max_length=200)
    granted_at: datetime = timestamp()


class AuditEntry(SQLModel, table=True):
    """Who changed what, when: every configuration and role change."""

    __tablename__ = "audit_entry"
    __personal__ = {"actor_id": "anonymise"}

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    actor_id: str = Field(max_length=200)
    action: str = Field(max_length=40)  # config.set | config.reset | role.grant | role.revoke
    target: str = Field(max_length=300)  # "language @ C123", "@U123 manager"
    old: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    new: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    at: datetime = timestamp(index=True)


class PersonSettings(SQLModel, table=True):
    """A person's own choices. None means "the workspace default"."""

    __tablename__ = "person_settings"
    __personal__ = {"user_id": "delete"}

    workspace_id: str = Field(primary_key=True, max_length=200)
    user_id: str = Field(primary_key=True, max_length=200)
    language: str | None = Field(default=None, max_length=8)  # their own choice
    # The language they last wrote in (a guess from their words; bot.languages), the next
    # best thing when they made no choice.
    written_language: str | None = Field(default=None, max_length=8)
    suggest_me: bool | None = None  # may be suggested as "may know about this"
    share_narrations: bool | None = None  # narrations may be shown to others in suggestions
    introductions: bool | None = None  # may receive introductions
    checkins: bool | None = None
    checkin_days: str | None = Field(default=None, max_length=40)  # "mon,thu"
    checkin_time: str | None = Field(default=None, max_length=5)  # "09:30", local time
    country: str | None = Field(default=None, max_length=8)  # public holidays
    paused_until: datetime | None = timestamp(nullable=True)
    updated_at: datetime = timestamp()


class ScheduledOccurrence(SQLModel, table=True):
    """One run of a scheduled job, claimed before anything is done, so it happens once."""

    __tablename__ = "scheduled_occurrence"

    job_id: str = Field(primary_key=True, max_length=300)
    occurrence: str = Field(primary_key=True, max_length=40)  # scheduled time, ISO UTC
    claimed_by: str = Field(max_length=64)
    claimed_at: datetime = timestamp(index=True)
