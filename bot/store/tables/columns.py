"""Column helpers for table modules: UTC timestamps and JSON for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(*, nullable: bool = False, index: bool = False, default: bool = True) -> Any:
    """A timezone-aware UTC timestamp column (SQLite stores it naive; read it with clock.utc)."""
    kwargs: dict[str, Any] = {"default_factory": utcnow} if default and not nullable else {}
    if nullable:
        kwargs["default"] = None
    return Field(
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index), **kwargs
    )


def json_column(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(JSON, nullable=True))
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
