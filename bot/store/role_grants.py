"""Roles granted by admins (`/wol config roles grant`), each change with its audit entry
(bot/roles.py adds the roles from app.yaml and caches them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select

from bot.store.engine import Database
from bot.store.tables.admin import AuditEntry, RoleGrant


class RoleGrantRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def of(self, workspace_id: str, user_id: str) -> frozenset[str]:
        """The roles granted to a person."""
        async with self.db.session() as s:
            return frozenset(
                await s.exec(
                    select(RoleGrant.role).where(
                        RoleGrant.workspace_id == workspace_id, RoleGrant.user_id == user_id
                    )
                )
            )

    async def holders(self, workspace_id: str, role: str) -> list[str]:
        """Who was granted a role."""
        async with self.db.session() as s:
            return list(
                await s.exec(
                    select(RoleGrant.user_id).where(
                        RoleGrant.workspace_id == workspace_id, RoleGrant.role == role
                    )
                )
            )

    async def grant(
        self, workspace_id: str, user_id: str, role: str, *, actor_id: str, now: datetime
    ) -> None:
        """Grant a role and log it, in one transaction."""
        async with self.db.session() as s:
            s.add(
                RoleGrant(
                    workspace_id=workspace_id,
                    user_id=user_id,
                    role=role,
                    granted_by=actor_id,
                    granted_at=now,
                )
            )
            s.add(
                AuditEntry(
                    workspace_id=workspace_id,
                    actor_id=actor_id,
                    action="role.grant",
                    target=f"{user_id} {role}",
                    old=None,
                    new=role,
                    at=now,
                )
            )
            await s.commit()

    async def revoke(
        self, workspace_id: str, user_id: str, role: str, *, actor_id: str, now: datetime
    ) -> None:
        """Revoke a role and log it, in one transaction."""
        async with self.db.session() as s:
            await s.exec(
                delete(RoleGrant).where(
                    col(RoleGrant.workspace_id) == workspace_id,
                    col(RoleGrant.user_id) == user_id,
                    col(RoleGrant.role) == role,
                )
            )
            s.add(
                AuditEntry(
                    workspace_id=workspace_id,
                    actor_id=actor_id,
                    action="role.revoke",
                    target=f"{user_id} {role}",
                    old=role,
                    new=None,
                    at=now,
                )
            )
            await s.commit()
