"""Dashboard access: single-use, short-lived sign-in links and browser sessions.

Only SHA-256 hashes of the link token and of the session secret are stored, so reading the
database gives no way in. A link is redeemed with one conditional UPDATE (used_at IS NULL
and not expired), so two clicks or two replicas cannot both use it. The person's role is
checked when the link is made, when it is redeemed, and on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlmodel import col

from bot.clock import utc
from bot.roles import MANAGER
from bot.store.tables.insight import DashboardSession, DashboardToken

if TYPE_CHECKING:
    from bot.app import Core

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)
DEFAULT_BASE_URL = "http://127.0.0.1:8080"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def base_url(core: Core) -> str:
    """Where people reach `wolbot serve` (WOLBOT_PUBLIC_URL), without a trailing slash."""
    return (core.settings.env.get("WOLBOT_PUBLIC_URL") or DEFAULT_BASE_URL).rstrip("/")


@dataclass(frozen=True, slots=True)
class Viewer:
    workspace_id: str
    user_id: str
    platform: str
    language: str
    expires_at: datetime


async def may_view(core: Core, workspace_id: str, user_id: str, platform: str) -> bool:
    """Admins and managers only (admins hold the manager role too)."""
    person = await core.people.get(workspace_id, user_id, platform)
    return MANAGER in await core.roles.of(workspace_id, person)


async def create_link(
    core: Core, workspace_id: str, user_id: str, platform: str, language: str
) -> str:
    token = secrets.token_urlsafe(32)
    now = core.clock.now()
    async with core.db.session() as s:
        s.add(
            DashboardToken(
                token_hash=digest(token),
                workspace_id=workspace_id,
                user_id=user_id,
                platform=platform,
                language=language,
                created_at=now,
                expires_at=now + LINK_TTL,
            )
        )
        await s.commit()
    return f"{base_url(core)}/dashboard/login/{token}"


async def redeem(core: Core, token: str) -> tuple[str, Viewer] | None:
    """Use a sign-in link once: a new session secret and its viewer, or None when the link
    is unknown, used, expired, or its person is no longer an admin or manager."""
    now = core.clock.now()
    hashed = digest(token)
    async with core.db.session() as s:
        result = await s.exec(
            update(DashboardToken)
            .where(  # type: ignore[call-overload]
                col(DashboardToken.token_hash) == hashed,
                col(DashboardToken.used_at).is_(None),
                col(DashboardToken.expires_at) > now,
            )
            .values(used_at=now)
        )
        await s.commit()
        if result.rowcount != 1:
            return None
        row = await s.get(DashboardToken, hashed)
    if row is None or not await may_view(core, row.workspace_id, row.user_id, row.platform):
        return None
    secret = secrets.token_urlsafe(32)
    viewer = Viewer(row.workspace_id, row.user_id, row.platform, row.language, now + SESSION_TTL)
    async with core.db.session() as s:
        s.add(
            DashboardSession(
                session_hash=digest(secret),
                workspace_id=row.workspace_id,
                user_id=row.user_id,
                platform=row.platform,
                language=row.language,
                created_at=now,
                expires_at=viewer.expires_at,
            )
        )
        await s.commit()
    return secret, viewer


async def viewer(core: Core, secret: str | None) -> Viewer | None:
    """The signed-in person of a session cookie, while it is valid and they may still view."""
    if not secret:
        return None
    async with core.db.session() as s:
        row = await s.get(DashboardSession, digest(secret))
    if row is None or utc(row.expires_at) <= core.clock.now():
        return None
    if not await may_view(core, row.workspace_id, row.user_id, row.platform):
        return None
    return Viewer(row.workspace_id, row.user_id, row.platform, row.language, utc(row.expires_at))


async def set_language(core: Core, secret: str, language: str) -> None:
    async with core.db.session() as s:
        row = await s.get(DashboardSession, digest(secret))
        if row is not None:
            row.language = language
            s.add(row)
            await s.commit()


async def sign_out(core: Core, secret: str | None) -> None:
    if not secret:
        return
    async with core.db.session() as s:
        await s.exec(
            delete(DashboardSession).where(  # type: ignore[call-overload]
                col(DashboardSession.session_hash) == digest(secret)
            )
        )
        await s.commit()


async def purge_expired(core: Core, now: datetime) -> int:
    async with core.db.session() as s:
        a = await s.exec(
            delete(DashboardToken).where(  # type: ignore[call-overload]
                col(DashboardToken.expires_at) < now - timedelta(days=1)
            )
        )
        b = await s.exec(
            delete(DashboardSession).where(  # type: ignore[call-overload]
                col(DashboardSession.expires_at) < now
            )
        )
        await s.commit()
        return int(a.rowcount or 0) + int(b.rowcount or 0)


async def link_language(core: Core, token: str) -> str | None:
    """The language a sign-in link was made in (its sign-in page is shown in it); None for
    an unknown link. Reading it does not use the link."""
    async with core.db.session() as s:
        row = await s.get(DashboardToken, digest(token))
    return row.language if row is not None else None
