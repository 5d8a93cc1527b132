"""Durf te vragen: questions, managers' acknowledgements, and public thanks.

An anonymous question keeps no readable trace of its asker: `anon_ref` is a keyed hash
(for rate limits and the asker's own follow-up) and `anon_contact` the asker's id encrypted
with the server's key (to relay answers by DM). Without the key neither can be read or
recomputed.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class Question(SQLModel, table=True):
    __tablename__ = "ask_question"
    __personal__ = {"asker_id": "delete"}

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    channel_id: str = Field(max_length=200)
    message_id: str | None = Field(default=None, max_length=200)  # the question's message
    posted_key: str | None = Field(default=None, max_length=300)  # when the bot posted it
    card_key: str | None = Field(default=None, max_length=300)  # the bot's card with buttons
    asker_id: str | None = Field(default=None, max_length=200)  # None when anonymous
    anon_ref: str | None = Field(default=None, max_length=64, index=True)
    anon_contact: str | None = Field(default=None, max_length=400)
    text: str
    language: str = Field(max_length=8)
    created_at: datetime = timestamp(index=True)
    first_ack_at: datetime | None = timestamp(nullable=True)
    first_answer_at: datetime | None = timestamp(nullable=True)
    answered_at: datetime | None = timestamp(nullable=True)
    answer_message_id: str | None = Field(default=None, max_length=200)
    ack_nudged_at: datetime | None = timestamp(nullable=True)
    suggested_at: datetime | None = timestamp(nullable=True)
    hidden: bool = False


class Acknowledgement(SQLModel, table=True):
    __tablename__ = "ask_acknowledgement"
    __personal__ = {"manager_id": "anonymise"}

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    question_id: int = Field(foreign_key="ask_question.id", index=True)
    manager_id: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = timestamp()


class RelayedAnswer(SQLModel, table=True):
    """An answer in an anonymous question's thread, relayed to the asker by DM (ids only)."""

    __tablename__ = "ask_relayed"

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="ask_question.id", index=True)
    message_id: str = Field(max_length=200)


class Thanks(SQLModel, table=True):
    __tablename__ = "kudos"
    __personal__ = {"giver_id": "delete", "receiver_id": "delete"}

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200, index=True)
    channel_id: str = Field(max_length=200)
    giver_id: str = Field(max_length=200)
    receiver_id: str = Field(max_length=200)
    reason: str = Field(max_length=1000)
    narration_id: int | None = None
    question_id: int | None = None
    created_at: datetime = timestamp(index=True)
