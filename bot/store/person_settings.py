"""Each person's own choices (consent, check-ins, language…), with the audit of consent
changes (bot/personal.py resolves them over the workspace defaults and caches them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import select

from bot.store.engine import Database
from bot.store.tables.admin import AuditEntry, PersonSettings


class PersonSettingsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, workspace_id: str, user_id: str) -> PersonSettings | None:
        async with self.db.session() as s:
            return await s.get(PersonSettings, (workspace_id, user_id))

    async def of_workspace(self, workspace_id: str) -> dict[str, PersonSettings]:
        """Everyone's own settings in a workspace, by user id."""
        async with self.db.session() as s:
            found = await s.exec(
                select(PersonSettings).where(PersonSettings.workspace_id == workspace_id)
            )
            return {row.user_id: row for row in found}

    async def update(
        self,
        workspace_id: str,
        user_id: str,
        now: datetime,
        fields: dict[str, Any],
        audit: Callable[[PersonSettings | None], AuditEntry | None],
    ) -> None:
        """Change a person's settings; `audit(row before the change)` says what to log with
        it (None: nothing), in the same transaction."""
        async with self.db.session() as s:
            row = await s.get(PersonSettings, (workspace_id, user_id))
            entry = audit(row)
            row = row or PersonSettings(workspace_id=workspace_id, user_id=user_id)
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = now
            s.add(row)
            if entry is not None:
                s.add(entry)
            await s.commit()
