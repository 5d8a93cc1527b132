"""All SQLModel tables. Every module in this package is imported here, so Alembic and the
app see one complete `SQLModel.metadata`; feature areas add a module of their own."""

from __future__ import annotations

import importlib
import pkgutil

from sqlmodel import SQLModel

from bot.store.tables.core import (
    Channel,
    ConversationReference,
    Narration,
    OutboxItem,
    Person,
    ProcessedEvent,
    Workspace,
)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

metadata = SQLModel.metadata

__all__ = [
    "Channel",
    "ConversationReference",
    "Narration",
    "OutboxItem",
    "Person",
    "ProcessedEvent",
    "Workspace",
    "metadata",
]
