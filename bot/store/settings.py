"""Admins' setting overrides (`/wol config set`), each change with its audit entry
(bot/setting_registry.py resolves values and caches them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from bot.store.engine import Database
from bot.store.tables.admin import AuditEntry, SettingOverride


class SettingOverrideRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def of_workspace(self, workspace_id: str) -> dict[tuple[str, str], Any]:
        """(scope, key) -> value of every override in a workspace."""
        async with self.db.session() as s:
            rows = await s.exec(
                select(SettingOverride).where(SettingOverride.workspace_id == workspace_id)
            )
            return {(r.scope, r.key): r.value for r in rows}

    async def set(
        self, workspace_id: str, scope: str, key: str, value: Any, *, audit: AuditEntry
    ) -> None:
        """Store an override and its audit entry in one transaction."""
        async with self.db.session() as s:
            row = await s.get(SettingOverride, (workspace_id, scope, key))
            row = row or SettingOverride(
                workspace_id=workspace_id,
                scope=scope,
                key=key,
                value=value,
                updated_by=audit.actor_id,
            )
            row.value, row.updated_by, row.updated_at = value, audit.actor_id, audit.at
            s.add(row)
            s.add(audit)
            await s.commit()

    async def remove(self, workspace_id: str, scope: str, key: str) -> None:
        async with self.db.session() as s:
            await s.exec(
                delete(SettingOverride).where(
                    col(SettingOverride.workspace_id) == workspace_id,
                    col(SettingOverride.scope) == scope,
                    col(SettingOverride.key) == key,
                )
            )
            await s.commit()

    async def audit(self, entry: AuditEntry) -> None:
        async with self.db.session() as s:
            s.add(entry)
            await s.commit()
