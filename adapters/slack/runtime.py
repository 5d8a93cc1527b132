"""Wires the Slack adapter for one core: port, bolt app, HTTP routes, Socket Mode, OAuth."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.inbox import Inbox, event_key
from bot.events import InboundEvent

from . import home
from .auth import CoreAuthorize
from .bridge import KIND_UNKNOWN, CoreMiddleware, build_bolt_app
from .config import SlackConfig
from .http import SlackHttp
from .inbox import adopt_legacy
from .port import SlackPort, StaticToken, TokenSource

log = logging.getLogger(__name__)


class SlackRuntime:
    def __init__(self, core: Any, config: SlackConfig, tokens: TokenSource) -> None:
        self.core = core
        self.config = config
        self.port = SlackPort(tokens, base_url=config.api_url, timeout=config.http_timeout)
        if config.max_per_second:
            self.port.workspace_interval = 1.0 / config.max_per_second
        self.middleware = CoreMiddleware(
            core, resolve=self.resolve_conversation, on_uninstall=self.on_uninstall
        )
        self.installations: Any = None
        self.inbox: Inbox | None = None
        self.app: Any = None
        self.socket: Any = None
        self.worker: Any = None  # WorkerProcess with SLACK_INBOX_WORKER=process

    @classmethod
    def from_core(cls, core: Any) -> SlackRuntime:
        config = SlackConfig.from_env(core.settings.env)
        config.validate()
        if not config.oauth:
            return cls(core, config, StaticToken(config.bot_token or ""))
        from .oauth import DbInstallationStore, InstallationTokens

        store = DbInstallationStore(core.db, core.keyring)
        runtime = cls(core, config, InstallationTokens(store, fallback=config.bot_token))
        runtime.installations = store
        return runtime

    def oauth_flow(self) -> Any:
        """bolt's OAuth v2 flow over the database stores (only with SLACK_CLIENT_ID/SECRET)."""
        if self.installations is None:
            return None
        from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
        from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

        from .config import BOT_SCOPES
        from .oauth import DbStateStore

        settings = AsyncOAuthSettings(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            redirect_uri=self.config.redirect_uri,
            install_path=self.config.install_path,
            redirect_uri_path=self.config.redirect_path,
            installation_store=self.installations,
            installation_store_bot_only=True,
            state_store=DbStateStore(self.core.db),
        )
        return AsyncOAuthFlow(client=self.web_client(), settings=settings)

    async def on_uninstall(self, event: InboundEvent, body: dict[str, Any]) -> None:
        """tokens_revoked (bot) / app_uninstalled: forget the workspace's installation."""
        team = event.workspace_id.removeprefix("slack:")
        if self.installations is not None:
            enterprise = body.get("enterprise_id")
            await self.installations.async_delete_bot(
                enterprise_id=enterprise, team_id=None if team == enterprise else team
            )
        self.port.forget(event.workspace_id)
        log.info("Slack app uninstalled from %s", event.workspace_id)

    async def resolve_conversation(self, event: InboundEvent) -> InboundEvent:
        """Give commands, interactivity and mentions in C… channels their real privacy (see
        `SlackPort.conversation_kind`), so nothing said in a private channel counts as public."""
        conv = event.conversation
        if not event.reply_hints.get(KIND_UNKNOWN):
            return event
        hints = {k: v for k, v in event.reply_hints.items() if k != KIND_UNKNOWN}
        if not conv.id.startswith("C"):
            return replace(event, reply_hints=hints)
        kind = await self.port.conversation_kind(event.workspace_id, conv.id)
        hints["conversation_kind"] = kind.value
        return replace(event, conversation=replace(conv, kind=kind), reply_hints=hints)

    def web_client(self) -> AsyncWebClient:
        client = AsyncWebClient(
            base_url=self.config.api_url, session=self.port.session(), retry_handlers=[]
        )
        client.proxy = None  # the shared session (trust_env) applies HTTPS_PROXY and NO_PROXY
        return client

    async def start(self, web_app: web.Application, *, routes: bool = True) -> None:
        self.core.register_port(self.port)
        home.register(self.core.router)
        self.app = build_bolt_app(
            self.config,
            self.middleware,
            client=self.web_client(),
            authorize=CoreAuthorize(self.port),
            oauth_flow=self.oauth_flow(),
        )
        # SQLite has one writer: handling one event at a time leaves the write lock free for
        # the acknowledgements (measured with bench/slack_ack.py); PostgreSQL takes more.
        concurrency = 4 if self.core.db.dialect == "postgresql" else 1
        self.inbox = Inbox(
            self.core.db,
            self.middleware.handle,
            platform="slack",
            key=event_key(self.core.keyring),
            clock=self.core.clock,
            concurrency=concurrency,
            lease=timedelta(seconds=self.core.settings.delivery.lease_seconds),
        )
        self.middleware.inbox = self.inbox
        if self.config.inbox_worker or self.config.inbox_process:
            await adopt_legacy(self.core.db, self.inbox)
        if self.config.inbox_worker:
            self.inbox.start()
        elif self.config.inbox_process:
            from .worker import WorkerProcess

            settings = self.core.settings
            self.worker = WorkerProcess(settings.config_path, dict(settings.env))
            self.worker.start()
        else:
            log.info("Slack inbox worker off (SLACK_INBOX_WORKER=0): another replica handles")
        if self.config.http and routes:
            SlackHttp(self.app).mount(web_app, self.config)
            log.info("Slack HTTP mode on %s", self.config.events_path)
        if self.config.socket_mode:
            from .socket_mode import SocketMode

            self.socket = SocketMode(self.app, self.config.app_token or "", self.web_client())
            await self.socket.start()
            log.info("Slack Socket Mode connected")

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.stop()
        if self.worker is not None:
            await self.worker.stop()
        if self.inbox is not None:
            await self.inbox.stop()
        await self.middleware.drain()
        await self.port.close()
