"""Roles: admin (configures), manager (acknowledges questions, sees aggregates), member.

Admins are the platform's workspace admins/owners, the people listed under
`workspaces.<id>.admins` in app.yaml, and people granted the role by an admin.
Managers are listed under `managers` or granted; admins can do what managers can.
Everything about roles is here: their names, who has them (`Roles`, a service), granting and
revoking, and the answer to someone trying an admin's command. The turn's roles are in
`Context.person_roles` (`ctx.is_admin`, `ctx.is_manager`); who may press which button is
bot/authorisation.py; the `/wol config roles` command is bot/features/role_admin.py.
"""

from __future__ import annotations

from datetime import datetime

from bot.cache import TTLCache
from bot.config import Settings
from bot.i18n import N_, Translator
from bot.messages import Inline, OutboundMessage, fill
from bot.ports import PersonInfo
from bot.store.engine import Database
from bot.store.role_grants import RoleGrantRepo

ADMIN, MANAGER = "admin", "manager"
GRANTABLE = (ADMIN, MANAGER)

ADMIN_ONLY = N_(
    "Only wolbot admins can use {command}. Admins are the workspace's admins and "
    "owners and the people listed in the bot's configuration; ask one of them."
)


def admin_only(t: Translator, command: Inline) -> OutboundMessage:
    """The answer to someone who is no admin trying an admin's `command`."""
    return OutboundMessage.text(*fill(t.gettext(ADMIN_ONLY), command=command))


class Roles:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.grants = RoleGrantRepo(db)
        self._granted: TTLCache[tuple[str, str], frozenset[str]] = TTLCache(ttl=10.0)

    def configured(self, workspace_id: str, person: PersonInfo) -> set[str]:
        ws = self.settings.workspace(workspace_id)
        names = person.identities()
        roles: set[str] = set()
        if person.is_admin or names & set(ws.admins):
            roles.add(ADMIN)
        if names & set(ws.managers):
            roles.add(MANAGER)
        return roles

    async def granted(self, workspace_id: str, user_id: str) -> set[str]:
        cached = self._granted.get((workspace_id, user_id))
        if cached is not None:
            return set(cached)
        found = await self.grants.of(workspace_id, user_id)
        self._granted.set((workspace_id, user_id), found)
        return set(found)

    async def of(self, workspace_id: str, person: PersonInfo) -> set[str]:
        roles = self.configured(workspace_id, person) | await self.granted(
            workspace_id, person.user_id
        )
        if ADMIN in roles:
            roles.add(MANAGER)
        return roles

    async def grant(
        self, workspace_id: str, user_id: str, role: str, *, actor_id: str, now: datetime
    ) -> bool:
        if role in await self.granted(workspace_id, user_id):
            return False
        await self.grants.grant(workspace_id, user_id, role, actor_id=actor_id, now=now)
        self._granted.pop((workspace_id, user_id))
        return True

    async def revoke(
        self, workspace_id: str, user_id: str, role: str, *, actor_id: str, now: datetime
    ) -> bool:
        if role not in await self.granted(workspace_id, user_id):
            return False
        await self.grants.revoke(workspace_id, user_id, role, actor_id=actor_id, now=now)
        self._granted.pop((workspace_id, user_id))
        return True

    async def holders(self, workspace_id: str, role: str) -> dict[str, str]:
        """user id -> where the role comes from ("app.yaml" or "granted"), for listings."""
        ws = self.settings.workspace(workspace_id)
        found = {name: "app.yaml" for name in (ws.admins if role == ADMIN else ws.managers)}
        for user_id in await self.grants.holders(workspace_id, role):
            found.setdefault(user_id, "granted")
        return found
