"""Multi-workspace distribution: Slack's OAuth v2 install flow, with installations and
install states in the project's database (bot/store/tables/slack.py).

bolt runs the flow (GET /slack/install renders "Add to Slack" with a one-time `state`
bound to a browser cookie; GET /slack/oauth_redirect exchanges the code with
oauth.v2.access); these classes are its storage. Bot and refresh tokens are encrypted
with the "slack-tokens" key of the one key hierarchy (bot/secrets.py, derived from
WOLBOT_SECRET_KEY), so a database dump alone does not hand out tokens. `tokens_revoked` /
`app_uninstalled` delete the installation (see `SlackRuntime.on_uninstall`).
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete
from sqlmodel import col

from bot.clock import utc
from bot.ports import DeliveryError
from bot.secrets import SLACK_TOKENS, Keyring
from bot.store.engine import Database
from bot.store.tables.slack import SlackInstallation, SlackOAuthState

from .inbound import workspace_id

log = logging.getLogger(__name__)
STATE_TTL = timedelta(minutes=10)
CACHE_SECONDS = 60.0


def seal(keyring: Keyring, token: str) -> str:
    return keyring.encrypt(SLACK_TOKENS, token)


def unseal(keyring: Keyring, stored: str) -> str:
    token = keyring.decrypt(SLACK_TOKENS, stored)
    if token is None:
        raise DeliveryError(
            "stored Slack token cannot be decrypted (WOLBOT_SECRET_KEY changed "
            "without WOLBOT_SECRET_KEY_PREVIOUS?)",
            permanent=True,
        )
    return token


def installation_key(enterprise_id: str | None, team_id: str | None, org_wide: bool) -> str:
    return workspace_id((enterprise_id if org_wide or not team_id else team_id) or "")


class DbInstallationStore(AsyncInstallationStore):
    """Bot installations, one row per workspace (or per org for org-wide installs)."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        self.db = db
        self.keyring = keyring
        self._cache: dict[str, tuple[float, SlackInstallation | None]] = {}

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self._save(installation.to_bot(), installer=installation.user_id)

    async def async_save_bot(self, bot: Bot) -> None:
        await self._save(bot, installer=None)

    async def _save(self, bot: Bot, *, installer: str | None) -> None:
        key = installation_key(bot.enterprise_id, bot.team_id, bool(bot.is_enterprise_install))
        now = datetime.now(UTC)
        expires = (
            datetime.fromtimestamp(bot.bot_token_expires_at, UTC)
            if bot.bot_token_expires_at
            else None
        )
        async with self.db.session() as s:
            row = await s.get(SlackInstallation, key) or SlackInstallation(
                workspace_id=key, bot_token="", installed_at=now
            )
            row.team_id = bot.team_id
            row.enterprise_id = bot.enterprise_id
            row.is_enterprise_install = bool(bot.is_enterprise_install)
            row.app_id = bot.app_id
            row.bot_id = bot.bot_id
            row.bot_user_id = bot.bot_user_id
            row.bot_token = seal(self.keyring, bot.bot_token)
            row.bot_refresh_token = (
                seal(self.keyring, bot.bot_refresh_token) if bot.bot_refresh_token else None
            )
            row.bot_token_expires_at = expires
            row.bot_scopes = ",".join(bot.bot_scopes or [])
            row.installer_user_id = installer or row.installer_user_id
            row.updated_at = now
            s.add(row)
            await s.commit()
        self._cache.pop(key, None)
        log.info("Slack installation saved for %s", key)

    async def row(self, key: str) -> SlackInstallation | None:
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        async with self.db.session() as s:
            row = await s.get(SlackInstallation, key)
        self._cache[key] = (time.monotonic(), row)
        return row

    async def find_row(
        self, enterprise_id: str | None, team_id: str | None, org_wide: bool | None = False
    ) -> SlackInstallation | None:
        row = await self.row(installation_key(enterprise_id, team_id, bool(org_wide)))
        if row is None and enterprise_id and team_id:
            row = await self.row(installation_key(enterprise_id, None, True))  # org-wide install
        return row

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        row = await self.find_row(enterprise_id, team_id, is_enterprise_install)
        if row is None:
            return None
        return Bot(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id,
            team_id=row.team_id,
            bot_token=unseal(self.keyring, row.bot_token),
            bot_id=row.bot_id or "",
            bot_user_id=row.bot_user_id or "",
            bot_scopes=row.bot_scopes,
            bot_refresh_token=unseal(self.keyring, row.bot_refresh_token)
            if row.bot_refresh_token
            else None,
            bot_token_expires_at=utc(row.bot_token_expires_at)
            if row.bot_token_expires_at
            else None,
            is_enterprise_install=row.is_enterprise_install,
            installed_at=utc(row.installed_at),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is None:
            return None
        row = await self.find_row(enterprise_id, team_id, is_enterprise_install)
        return Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=(row.installer_user_id if row else None) or "",
            is_enterprise_install=bot.is_enterprise_install,
            installed_at=bot.installed_at,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        keys = {installation_key(enterprise_id, team_id, False)}
        if enterprise_id and not team_id:
            keys.add(installation_key(enterprise_id, None, True))
        async with self.db.session() as s:
            await s.exec(
                delete(SlackInstallation).where(col(SlackInstallation.workspace_id).in_(keys))
            )
            await s.commit()
        for key in keys:
            self._cache.pop(key, None)
        log.info("Slack installation removed for %s", ", ".join(sorted(keys)))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:  # user tokens are not stored; only a workspace uninstall counts
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


class InstallationTokens:
    """`TokenSource` for the SlackPort: the installed bot token of each workspace."""

    def __init__(self, store: DbInstallationStore, fallback: str | None = None) -> None:
        self.store = store
        self.fallback = fallback  # SLACK_BOT_TOKEN, for the workspace that owns the app

    async def bot_token(self, workspace: str) -> str:
        row = await self.store.row(workspace)
        if row is not None:
            return unseal(self.store.keyring, row.bot_token)
        if self.fallback:
            return self.fallback
        raise DeliveryError(f"wolbot is not installed in {workspace}", permanent=True)


class DbStateStore(AsyncOAuthStateStore):
    """One-time `state` values, shared by replicas; consuming one is a single DELETE."""

    def __init__(self, db: Database, ttl: timedelta = STATE_TTL) -> None:
        self.db = db
        self.ttl = ttl

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        async with self.db.session() as s:
            await s.exec(delete(SlackOAuthState).where(col(SlackOAuthState.expires_at) < now))
            s.add(SlackOAuthState(state=state, expires_at=now + self.ttl))
            await s.commit()
        return state

    async def async_consume(self, state: str) -> bool:
        async with self.db.session() as s:
            result = await s.exec(
                delete(SlackOAuthState).where(
                    col(SlackOAuthState.state) == state,
                    col(SlackOAuthState.expires_at) > datetime.now(UTC),
                )
            )
            await s.commit()
        return bool(result.rowcount == 1)
