"""Uses of a limit that must hold across replicas (bot/store/limits.py): one row per use,
pruned once it is older than the limit's window. Keys name conversations, never people."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class LimitUse(SQLModel, table=True):
    __tablename__ = "limit_use"
    __table_args__ = (Index("ix_limit_use_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    at: datetime = timestamp()
