"""Socket Mode (SLACK_APP_TOKEN, xapp-…): Slack pushes events over a WebSocket the bot
opens, so no public URL is needed. The same bolt app and `CoreMiddleware` handle the
envelopes, so behaviour (de-duplication, acknowledgement, answers) is identical to HTTP
mode; the acknowledgement is the envelope id sent back on the socket."""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class SocketMode:
    def __init__(self, app: AsyncApp, app_token: str, web_client: AsyncWebClient) -> None:
        self.app = app
        self.app_token = app_token
        self.web_client = web_client
        self.handler: AsyncSocketModeHandler | None = None

    async def start(self) -> None:
        handler = AsyncSocketModeHandler(self.app, self.app_token, web_client=self.web_client)
        client = handler.client
        # slack_sdk reads HTTPS_PROXY but not NO_PROXY; let aiohttp (trust_env) decide both.
        own_session = client.aiohttp_client_session
        client.aiohttp_client_session = aiohttp.ClientSession(trust_env=True)
        await own_session.close()
        client.proxy = None
        self.handler = handler
        await handler.connect_async()

    async def stop(self) -> None:
        if self.handler is not None:
            await self.handler.close_async()
            self.handler = None
