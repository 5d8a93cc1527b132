"""HTTP mode: Slack's requests on the `wolbot serve` aiohttp app.

POST /slack/events takes Events API callbacks, slash commands and
interactivity (point all three Request URLs of the Slack app here); with
OAuth configured, GET /slack/install and /slack/oauth_redirect run the
install flow. The translation to and from bolt is bolt's own aiohttp adapter.
"""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from .config import SlackConfig

MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; refuse anything bigger


class SlackHttp:
    def __init__(self, app: AsyncApp) -> None:
        self.app = app

    def mount(self, web_app: web.Application, config: SlackConfig) -> None:
        web_app.router.add_post(config.events_path, self.events)
        if self.app.oauth_flow is not None:
            web_app.router.add_get(config.install_path, self.install)
            web_app.router.add_get(config.redirect_path, self.oauth_redirect)

    async def events(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413)
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def install(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request))
        )

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))
