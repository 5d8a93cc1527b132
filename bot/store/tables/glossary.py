"""The organisation's glossary: terms of its own jargon and what they mean, added by admins
(`/wol config glossary add`); app.yaml's `glossary:` entries are not stored (bot/glossary.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class GlossaryTerm(SQLModel, table=True):
    __tablename__ = "glossary_term"
    __personal__ = {"added_by": "anonymise"}
    __table_args__ = (UniqueConstraint("workspace_id", "term_key", name="uq_glossary_term"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=200)
    term_key: str = Field(max_length=100)  # the term folded (case, diacritics, spaces)
    term: str = Field(max_length=100)  # as the admin wrote it
    meaning: str = Field(max_length=400)
    added_by: str = Field(max_length=200)
    added_at: datetime = timestamp()
