"""Dashboard sign-in links and browser sessions, stored only as SHA-256 hashes
(bot/insight/access.py makes and checks them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col

from bot.store.engine import Database
from bot.store.tables.insight import DashboardSession, DashboardToken


class DashboardAccessRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_link(self, token: DashboardToken) -> None:
        async with self.db.session() as s:
            s.add(token)
            await s.commit()

    async def use_link(self, token_hash: str, now: datetime) -> DashboardToken | None:
        """Mark a link used with one conditional UPDATE (unused and not expired), so two
        clicks or two replicas cannot both use it; the link when this call used it."""
        async with self.db.session() as s:
            result = await s.exec(
                update(DashboardToken)
                .where(
                    col(DashboardToken.token_hash) == token_hash,
                    col(DashboardToken.used_at).is_(None),
                    col(DashboardToken.expires_at) > now,
                )
                .values(used_at=now)
            )
            await s.commit()
            if result.rowcount != 1:
                return None
            return await s.get(DashboardToken, token_hash)

    async def link(self, token_hash: str) -> DashboardToken | None:
        async with self.db.session() as s:
            return await s.get(DashboardToken, token_hash)

    async def add_session(self, session: DashboardSession) -> None:
        async with self.db.session() as s:
            s.add(session)
            await s.commit()

    async def session(self, session_hash: str) -> DashboardSession | None:
        async with self.db.session() as s:
            return await s.get(DashboardSession, session_hash)

    async def set_language(self, session_hash: str, language: str) -> None:
        async with self.db.session() as s:
            row = await s.get(DashboardSession, session_hash)
            if row is not None:
                row.language = language
                s.add(row)
                await s.commit()

    async def end_session(self, session_hash: str) -> None:
        async with self.db.session() as s:
            await s.exec(
                delete(DashboardSession).where(col(DashboardSession.session_hash) == session_hash)
            )
            await s.commit()

    async def purge_expired(self, now: datetime) -> int:
        """Links expired for a day and sessions expired: how many were removed."""
        async with self.db.session() as s:
            a = await s.exec(
                delete(DashboardToken).where(
                    col(DashboardToken.expires_at) < now - timedelta(days=1)
                )
            )
            b = await s.exec(delete(DashboardSession).where(col(DashboardSession.expires_at) < now))
            await s.commit()
            return int(a.rowcount or 0) + int(b.rowcount or 0)
