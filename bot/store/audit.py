"""The audit log of configuration and role changes: read, and purged after its retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select

from bot.store.engine import Database
from bot.store.tables.admin import AuditEntry


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def latest(self, workspace_id: str, limit: int = 20) -> list[AuditEntry]:
        async with self.db.session() as s:
            rows = await s.exec(
                select(AuditEntry)
                .where(AuditEntry.workspace_id == workspace_id)
                .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
                .limit(limit)
            )
            return list(rows)

    async def purge_before(self, workspace_id: str, cutoff: datetime) -> int:
        async with self.db.session() as s:
            result = await s.exec(
                delete(AuditEntry).where(
                    col(AuditEntry.workspace_id) == workspace_id, col(AuditEntry.at) < cutoff
                )
            )
            await s.commit()
            return int(result.rowcount or 0)
