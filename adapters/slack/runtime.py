"""Wires the Slack adapter for one core: port, bolt app, HTTP routes, Socket Mode, OAuth."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.events import InboundEvent

from . import home, modals, welcome
from .auth import CoreAuthorize
from .bridge import CoreMiddleware, build_bolt_app
from .config import SlackConfig
from .http import SlackHttp
from .inbound import kind_is_known
from .port import SlackPort, StaticToken, TokenSource

log = logging.getLogger(__name__)


class SlackRuntime:
    def __init__(self, core: Any, config: SlackConfig, tokens: TokenSource) -> None:
        config.validate()
        self.core = core
        self.config = config
        self.port = SlackPort(tokens, base_url=config.api_url)
        self.middleware = CoreMiddleware(core, resolve=self.resolve_conversation)
        self.app: Any = None
        self.socket: Any = None

    @classmethod
    def from_core(cls, core: Any) -> SlackRuntime:
        config = SlackConfig.from_env(core.settings.env)
        tokens: TokenSource = StaticToken(config.bot_token or "")
        return cls(core, config, tokens)

    async def resolve_conversation(self, event: InboundEvent, body: dict[str, Any]) -> InboundEvent:
        """Give commands and interactivity in C… channels their real privacy (see
        `SlackPort.conversation_kind`), so nothing said in a private channel counts as public."""
        conv = event.conversation
        if kind_is_known(body) or not conv.id.startswith("C"):
            return event
        kind = await self.port.conversation_kind(event.workspace_id, conv.id)
        hints = {**event.reply_hints, "conversation_kind": kind.value}
        return replace(event, conversation=replace(conv, kind=kind), reply_hints=hints)

    def web_client(self) -> AsyncWebClient:
        client = AsyncWebClient(
            base_url=self.config.api_url, session=self.port.session(), retry_handlers=[]
        )
        client.proxy = None  # the shared session (trust_env) applies HTTPS_PROXY and NO_PROXY
        return client

    async def start(self, web_app: web.Application) -> None:
        self.core.register_port(self.port)
        modals.register(self.core, self.middleware)
        home.register(self.core)
        welcome.register(self.core)
        self.app = build_bolt_app(
            self.config,
            self.middleware,
            client=self.web_client(),
            authorize=CoreAuthorize(self.port),
        )
        if self.config.http:
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
        await self.middleware.drain()
        await self.port.close()
