"""HTTP mode: Slack's requests on the `wolbot serve` aiohttp app.

POST /slack/events takes Events API callbacks, slash commands and
interactivity (point all three Request URLs of the Slack app here); with
OAuth configured, GET /slack/install and /slack/oauth_redirect run the
install flow. The translation to and from bolt is bolt's own aiohttp adapter.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from .config import SlackConfig
from .inbound import missing_identity

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; refuse anything bigger
MAX_AGE = 5 * 60  # Slack: a request older than five minutes is a replay


class _TooLarge(Exception):
    pass


class SlackHttp:
    """Checks a request before bolt sees it: size (413), then the signature over the raw
    bytes (401: nothing unauthenticated is even parsed), then that the body is a Slack
    payload at all (400: not JSON / form / `payload=` JSON of an object). This is the one
    signature check (bolt's own is off, see `build_bolt_app`); bolt does the rest. A signed
    payload without its workspace or person (`missing_identity`) is refused with 400 before
    anything is stored."""

    def __init__(self, app: AsyncApp, signing_secret: str = "") -> None:
        self.app = app
        self.signing_secret = signing_secret

    def mount(self, web_app: web.Application, config: SlackConfig) -> None:
        self.signing_secret = config.signing_secret or ""
        web_app.router.add_post(config.events_path, self.events)
        if self.app.oauth_flow is not None:
            web_app.router.add_get(config.install_path, self.install)
            web_app.router.add_get(config.redirect_path, self.oauth_redirect)

    async def events(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413)
        try:
            raw = await _read(request)
        except _TooLarge:
            return web.Response(status=413)
        if not self.signed(raw, request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = AsyncBoltRequest(
                body=raw.decode("utf-8"),
                query=request.query_string,
                headers=dict(request.headers.items()),  # a repeated header: the last, as before
            )
            valid = isinstance(bolt_request.body, dict)
        except (ValueError, TypeError, AttributeError, LookupError, RecursionError) as exc:
            # undecodable bytes, broken JSON, a `payload=` that is not an object, nesting
            # deeper than the parser goes: bolt's own parsing gives up
            log.info("signed Slack request with a malformed body: %s", type(exc).__name__)
            valid = False
        if not valid:
            return web.json_response({"error": "malformed Slack payload"}, status=400)
        try:
            missing = missing_identity(bolt_request.body)
        except (AttributeError, TypeError, ValueError, LookupError) as exc:
            missing = type(exc).__name__
        if missing:
            # a signed request without its workspace or person: refused before it is stored
            log.warning("signed Slack request without its %s refused", missing)
            return web.json_response(
                {"error": f"malformed Slack payload: no {missing}"}, status=400
            )
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    def signed(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """The v0 signature of Slack (HMAC-SHA256 of `v0:{timestamp}:{body}`), at most five
        minutes old; False for missing or malformed headers."""
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not self.signing_secret or not timestamp.isascii() or not timestamp.isdigit():
            return False
        if abs(time.time() - int(timestamp)) > MAX_AGE:
            return False
        digest = hmac.new(
            self.signing_secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest("v0=" + digest, signature.encode("ascii", "replace").decode())

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


async def _read(request: web.Request) -> bytes:
    """The body, refusing more than MAX_BODY bytes also when no Content-Length was sent."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)
