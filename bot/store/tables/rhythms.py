"""Rhythms: dialogue rounds and their contributions, community state, admins' own questions,
and each person's check-in state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class DialogueRound(SQLModel, table=True):
    """One question posted in a community, open for answers until it is summarised."""

    __tablename__ = "dialogue_round"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "occurrence", name="uq_round_occurrence"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    channel_id: str = Field(max_length=200)
    occurrence: str = Field(max_length=80)  # scheduled time (ISO, UTC) or "manual:<event>"
    set_id: str = Field(max_length=80)
    prompt_id: str = Field(max_length=80)
    language: str = Field(max_length=8)
    text: str
    cycle: int = 0
    posted_key: str = Field(max_length=300)  # outbox key of the question message
    message_id: str | None = Field(default=None, max_length=200)  # filled once delivered
    posted_at: datetime = timestamp()
    closes_at: datetime | None = timestamp(nullable=True, index=True)
    closed_at: datetime | None = timestamp(nullable=True)


class Contribution(SQLModel, table=True):
    """An answer in a round's thread."""

    __tablename__ = "contribution"
    __table_args__ = (UniqueConstraint("round_id", "message_id", name="uq_contribution_message"),)
    __personal__ = {"author_id": "delete"}

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    round_id: int = Field(foreign_key="dialogue_round.id", index=True)
    author_id: str = Field(max_length=200)
    text: str
    message_id: str = Field(max_length=200)
    reactions: int = 0
    created_at: datetime = timestamp(index=True)


class CommunityState(SQLModel, table=True):
    __tablename__ = "community_state"

    workspace_id: str = Field(primary_key=True, max_length=200)
    channel_id: str = Field(primary_key=True, max_length=200)
    cycle: int = 0
    pinned_prompt_id: str | None = Field(default=None, max_length=80)
    skip_next: bool = False


class CustomQuestion(SQLModel, table=True):
    """A question an admin added to a community's set; asked after the set's own."""

    __tablename__ = "custom_question"
    __personal__ = {"added_by": "anonymise"}

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    channel_id: str = Field(max_length=200)
    language: str = Field(max_length=8)
    text: str = Field(max_length=500)
    added_by: str = Field(max_length=200)
    created_at: datetime = timestamp()


class CheckinState(SQLModel, table=True):
    """Where a person's check-ins stand: never more than one unanswered."""

    __tablename__ = "checkin_state"
    __personal__ = {"user_id": "delete"}

    workspace_id: str = Field(primary_key=True, max_length=200)
    user_id: str = Field(primary_key=True, max_length=200)
    pending_since: datetime | None = timestamp(nullable=True)
    reminded: bool = False
    last_skipped: bool = False
    last_sent_at: datetime | None = timestamp(nullable=True)
    answered_at: datetime | None = timestamp(nullable=True)
