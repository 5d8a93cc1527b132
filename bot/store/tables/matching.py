"""Tables of the matching feature: stored vectors, suggestions made, "ask me about" topics
and introductions. Every row belongs to a workspace. (Consent lives in the core's
person_settings.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class MatchVector(SQLModel, table=True):
    """One encoded text (a narration or a profile topic), so a restart or another replica
    rebuilds its in-process index from here instead of re-encoding. A removal leaves a
    tombstone (`removed_at`) for a while so other replicas see it on their next refresh."""

    __tablename__ = "match_vector"
    __personal__ = {"author_id": "delete"}  # erasure policy
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "ref", name="uq_match_vector_ref"),
        Index("ix_match_vector_changed", "workspace_id", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200)
    kind: str = Field(max_length=12)  # narration | topic
    ref: str = Field(max_length=300)  # narration id, or "<user id>:<topic id>"
    author_id: str = Field(max_length=200)
    channel_id: str | None = Field(default=None, max_length=200)
    visibility: str = Field(max_length=10)  # public | private | dm
    language: str | None = Field(default=None, max_length=8)
    text: str
    model: str = Field(max_length=80)  # the encoder that made `vector`
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # float32, L2-normalised
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    removed_at: datetime | None = timestamp(nullable=True)


class MatchSuggestion(SQLModel, table=True):
    """A person the bot put forward for a narration; the basis of fatigue limits and of
    "Not relevant" feedback, and the value behind the suggestion's buttons."""

    __tablename__ = "match_suggestion"
    __personal__ = {"narrator_id": "delete", "person_id": "delete"}  # erasure policy
    __table_args__ = (
        UniqueConstraint("workspace_id", "narration_id", "person_id", name="uq_match_once"),
        Index("ix_match_suggestion_person", "workspace_id", "person_id", "created_at"),
        Index("ix_match_suggestion_pair", "workspace_id", "narrator_id", "person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200)
    narration_id: int
    narrator_id: str = Field(max_length=200)
    person_id: str = Field(max_length=200)
    reason: str = Field(max_length=12)  # similar | knows
    item_ref: str = Field(max_length=300)
    score: float
    outcome: str | None = Field(default=None, max_length=16)  # connected | not_relevant
    created_at: datetime = timestamp()


class ProfileTopic(SQLModel, table=True):
    """An "ask me about" topic on somebody's profile; suggested ones await confirmation."""

    __tablename__ = "profile_topic"
    __personal__ = {"user_id": "delete"}  # erasure policy
    __table_args__ = (
        UniqueConstraint("workspace_id", "user_id", "topic", name="uq_profile_topic"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    user_id: str = Field(max_length=200)
    topic: str = Field(max_length=200)
    source: str = Field(default="manual", max_length=12)  # manual | narration
    confirmed: bool = True
    created_at: datetime = timestamp()


class Connection(SQLModel, table=True):
    """An introduction the bot made between people, and how it turned out."""

    __tablename__ = "match_connection"
    __personal__ = {"narrator_id": "delete", "person_id": "delete"}  # erasure policy

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    narration_id: int | None = None
    narrator_id: str = Field(max_length=200)
    person_id: str = Field(max_length=200)
    suggested_by: str = Field(max_length=200)  # "bot" or the user id who suggested it
    conversation_id: str | None = Field(default=None, max_length=400)
    created_at: datetime = timestamp()
    followup_due_at: datetime | None = timestamp(nullable=True)
    helped: str | None = Field(default=None, max_length=12)  # yes | somewhat | no
    how_it_helped: str | None = None
    answered_at: datetime | None = timestamp(nullable=True)


class MatchHint(SQLModel, table=True):
    """When a person last got the private "tell me a bit more" hint after a narration too
    vague to match on: at most one a week (`feature.HINT_EVERY`)."""

    __tablename__ = "match_hint"
    __personal__ = {"user_id": "delete"}  # erasure policy
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_match_hint"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200)
    user_id: str = Field(max_length=200)
    sent_at: datetime = timestamp()
