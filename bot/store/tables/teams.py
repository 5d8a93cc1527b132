"""Teams adapter tables: what the Bot Connector needs to reach a person later.

The Bot Connector's member API knows names and e-mail addresses but not a person's
locale or time zone (those only arrive on their activities), and it must be asked
through a conversation the person is in. So the adapter remembers, per person, the
latest of both; and the 1:1 chat it created or saw, to avoid creating another.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class TeamsMember(SQLModel, table=True):
    __tablename__ = "teams_member"
    __personal__ = {"user_id": "delete"}  # exported and erased with `/wol privacy`
    __personal__ = {"user_id": "delete"}  # erasure policy

    workspace_id: str = Field(primary_key=True, max_length=200)  # "teams:<tenant id>"
    user_id: str = Field(primary_key=True, max_length=200)  # the Bot Framework id, "29:…"
    aad_object_id: str | None = Field(default=None, max_length=64, index=True)
    name: str | None = Field(default=None, max_length=200)
    locale: str | None = Field(default=None, max_length=35)
    timezone: str | None = Field(default=None, max_length=64)
    conversation_id: str = Field(max_length=400)  # a conversation the person was last seen in
    service_url: str = Field(max_length=500)
    bot_id: str = Field(max_length=200)
    dm_conversation_id: str | None = Field(default=None, max_length=400)
    updated_at: datetime = timestamp()


class TeamsPendingFile(SQLModel, table=True):
    """A file waiting for its person to accept Teams' file consent card (privacy export,
    statistics chart): deleted once uploaded or declined, and with the person's data."""

    __tablename__ = "teams_pending_file"
    __personal__ = {"user_id": "delete"}

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=200, index=True)
    user_id: str = Field(max_length=200, index=True)
    conversation_id: str = Field(max_length=400)  # the personal chat the card went to
    filename: str = Field(max_length=200)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))  # the OutboundMessage as JSON
    created_at: datetime = timestamp()


class TeamsGroupChat(SQLModel, table=True):
    """The group chat wolbot created through Microsoft Graph for a set of people (an
    introduction), so a retry or a crash after creating it never creates a second one.

    `members_key` is a one-way hash of the sorted Bot Framework ids: no id is stored in
    the clear. `chat_id` is empty while a creation is claimed (until `claimed_until`);
    `installed` says the app was added to the chat, so the bot may post there."""

    __tablename__ = "teams_group_chat"

    workspace_id: str = Field(primary_key=True, max_length=200)
    members_key: str = Field(primary_key=True, max_length=64)
    chat_id: str | None = Field(default=None, max_length=400)
    installed: bool = False
    claimed_until: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()


class TeamsGraphState(SQLModel, table=True):
    """Per tenant: may wolbot create group chats (Microsoft Graph), or does it fall back to
    each person's personal chat, since when, why, and when it tries Graph again."""

    __tablename__ = "teams_graph_state"

    workspace_id: str = Field(primary_key=True, max_length=200)
    shared: bool = True  # False: the 1:1 fallback is in force
    cause: str | None = Field(default=None, max_length=40)  # "permission" | "failure"
    permission: str | None = Field(default=None, max_length=100)
    detail: str | None = Field(default=None, max_length=500)
    since: datetime = timestamp()
    retry_at: datetime | None = timestamp(nullable=True)
