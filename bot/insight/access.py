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

from bot.clock import utc
from bot.roles import MANAGER
from bot.store.tables.insight import DashboardSession, DashboardToken

if TYPE_CHECKING:
    from bot.services import Services

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)
DEFAULT_BASE_URL = "http://127.0.0.1:8080"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def base_url(services: Services) -> str:
    """Where people reach `wolbot serve` (WOLBOT_PUBLIC_URL), without a trailing slash."""
    return (services.settings.env.get("WOLBOT_PUBLIC_URL") or DEFAULT_BASE_URL).rstrip("/")


@dataclass(frozen=True, slots=True)
class Viewer:
    workspace_id: str
    user_id: str
    platform: str
    language: str
    expires_at: datetime


async def may_view(services: Services, workspace_id: str, user_id: str, platform: str) -> bool:
    """Admins and managers only (admins hold the manager role too)."""
    person = await services.people.get(workspace_id, user_id, platform)
    return MANAGER in await services.roles.of(workspace_id, person)


async def create_link(
    services: Services, workspace_id: str, user_id: str, platform: str, language: str
) -> str:
    token = secrets.token_urlsafe(32)
    now = services.clock.now()
    await services.dashboard_access.add_link(
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
    return f"{base_url(services)}/dashboard/login/{token}"


async def redeem(services: Services, token: str) -> tuple[str, Viewer] | None:
    """Use a sign-in link once: a new session secret and its viewer, or None when the link
    is unknown, used, expired, or its person is no longer an admin or manager."""
    now = services.clock.now()
    row = await services.dashboard_access.use_link(digest(token), now)
    if row is None or not await may_view(services, row.workspace_id, row.user_id, row.platform):
        return None
    secret = secrets.token_urlsafe(32)
    viewer = Viewer(row.workspace_id, row.user_id, row.platform, row.language, now + SESSION_TTL)
    await services.dashboard_access.add_session(
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
    return secret, viewer


async def viewer(services: Services, secret: str | None) -> Viewer | None:
    """The signed-in person of a session cookie, while it is valid and they may still view."""
    if not secret:
        return None
    row = await services.dashboard_access.session(digest(secret))
    if row is None or utc(row.expires_at) <= services.clock.now():
        return None
    if not await may_view(services, row.workspace_id, row.user_id, row.platform):
        return None
    return Viewer(row.workspace_id, row.user_id, row.platform, row.language, utc(row.expires_at))


async def set_language(services: Services, secret: str, language: str) -> None:
    await services.dashboard_access.set_language(digest(secret), language)


async def sign_out(services: Services, secret: str | None) -> None:
    if secret:
        await services.dashboard_access.end_session(digest(secret))


async def purge_expired(services: Services, now: datetime) -> int:
    return await services.dashboard_access.purge_expired(now)


async def link_language(services: Services, token: str) -> str | None:
    """The language a sign-in link was made in (its sign-in page is shown in it); None for
    an unknown link. Reading it does not use the link."""
    row = await services.dashboard_access.link(digest(token))
    return row.language if row is not None else None
