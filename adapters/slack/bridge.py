"""The bolt app and the one middleware that hands every Slack request to the core.

bolt-python does what it is good at — signature verification (forged or older
than 5 minutes → 401), url_verification, ssl_check, authorization (single
token or installations), ignoring the bot's own events — and then, instead of
bolt listeners, `CoreMiddleware` translates the request into one
`InboundEvent` and awaits `core.handle(event)`. The core de-duplicates on the
event id in the database, so Slack's retries (`X-Slack-Retry-Num`) and
duplicate deliveries have no second effect, across restarts and replicas.

Acknowledgement: Events API callbacks are translated once and the neutral event
is stored in the inbox (one INSERT, bot/delivery/inbox.py) and acknowledged at
once; the inbox worker hands them to the core, whose duplicate check is the
inbox's own row. Commands and interactivity are handled before the answer, because the
answer can carry their result (field errors in a modal) and they are rare;
should that take longer than `ack_budget`, the request is acknowledged anyway
(Slack gives up after 3 seconds) and the work continues in the background. A
database outage answers 503 on either path, so Slack retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.middleware.async_middleware_error_handler import AsyncMiddlewareErrorHandler
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import StoreUnavailable
from bot.events import EventKind, InboundEvent
from bot.validation import MalformedEvent

from .config import SlackConfig
from .inbound import kind_is_known, to_inbound
from .render import render_errors

log = logging.getLogger(__name__)
ACK_BUDGET = 2.5  # seconds; Slack waits 3 s for an acknowledgement

UninstallHook = Callable[[InboundEvent, dict[str, Any]], Awaitable[None]]
Resolver = Callable[[InboundEvent], Awaitable[InboundEvent]]
# Set in reply_hints when the payload does not say whether its C… conversation is public or
# private (slash commands, interactivity, app mentions): `resolve` asks Slack before handling.
KIND_UNKNOWN = "conversation_kind_unknown"


class CoreMiddleware(AsyncMiddleware):
    """The last global middleware: request -> InboundEvent -> core.handle -> response."""

    def __init__(
        self,
        core: Any,
        *,
        ack_budget: float = ACK_BUDGET,
        on_uninstall: UninstallHook | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        self.core = core
        self.ack_budget = ack_budget
        self.on_uninstall = on_uninstall
        self.resolve = resolve
        self.inbox: Any = None  # bot.delivery.inbox.Inbox: Events API events, stored first
        self._background: set[asyncio.Task[Any]] = set()

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # bolt calls with this keyword
    ) -> BoltResponse:
        try:
            return await self._process(req)
        except Exception:  # ours, not the payload's: 500 (bolt's handler would answer 400)
            log.exception("Slack request failed")
            return BoltResponse(status=500, body="")

    async def _process(self, req: AsyncBoltRequest) -> BoltResponse:
        body = req.body if isinstance(req.body, dict) else {}
        try:
            event = to_inbound(body, bot_user_id=req.context.bot_user_id)
        except MalformedEvent as exc:
            log.warning("malformed Slack payload refused: %s", exc)
            return malformed()
        if event is not None and not kind_is_known(body):
            event = replace(event, reply_hints={**event.reply_hints, KIND_UNKNOWN: True})
        if event is None:
            if body.get("type") == "app_rate_limited":
                # Slack drops this workspace's events for the rest of the minute (>30,000/hour)
                log.warning("Slack rate-limited events for team %s", body.get("team_id"))
            return BoltResponse(status=200, body="")
        retries = req.headers.get("x-slack-retry-num")
        retry = retries[0] if retries else None
        if retry:
            log.info("Slack retry %s of event %s", retry, event.event_id)
        if event.kind is EventKind.UNINSTALLED and self.on_uninstall is not None:
            await self.on_uninstall(event, body)
        if self.inbox is not None and body.get("type") == "event_callback":
            return await self._store(event)
        task = asyncio.create_task(
            self.handle(event, claimed=False), name=f"slack:{event.event_id}"
        )
        try:
            await asyncio.wait_for(asyncio.shield(task), self.ack_budget)
        except TimeoutError:
            log.warning("event %s acknowledged before its handling finished", event.event_id)
            self._background.add(task)
            task.add_done_callback(self._finished)
            return BoltResponse(status=200, body="")
        except StoreUnavailable as exc:
            log.warning("database unavailable, asking Slack to retry %s: %s", event.event_id, exc)
            return BoltResponse(status=503, body="")
        except Exception:
            log.exception("handling Slack event %s failed", event.event_id)
            return BoltResponse(status=500, body="")
        ctx = task.result()  # field errors of a submitted form go back in the ack
        return self._ack(event, getattr(ctx, "form_errors", None))

    async def _store(self, event: InboundEvent) -> BoltResponse:
        try:
            if not await self.inbox.put(event):
                log.info("duplicate Slack event %s acknowledged", event.event_id)
        except StoreUnavailable as exc:
            log.warning("database unavailable, asking Slack to retry %s: %s", event.event_id, exc)
            return BoltResponse(status=503, body="")
        return BoltResponse(status=200, body="")

    async def handle(self, event: InboundEvent, *, claimed: bool = True) -> Any:
        """Hand an event to the core: `claimed` (from the inbox) when its one duplicate
        check was the inbox's row."""
        if self.resolve is not None:
            event = await self.resolve(event)
        return await self.core.handle(event, claimed=claimed)

    def _ack(self, event: InboundEvent, errors: dict[str, str] | None) -> BoltResponse:
        if event.kind is EventKind.FORM_SUBMIT and errors:
            return BoltResponse(
                status=200,
                body=json.dumps(render_errors(errors)),
                headers={"content-type": "application/json"},
            )
        return BoltResponse(status=200, body="")

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("late failure handling a Slack event", exc_info=task.exception())

    async def drain(self, timeout: float = 10.0) -> None:
        """Let handling that outlived its acknowledgement finish (on shutdown)."""
        if self._background:
            await asyncio.wait(self._background, timeout=timeout)
        for task in self._background:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def malformed() -> BoltResponse:
    """400: a signed request whose body no Slack request has; Slack does not retry a 4xx."""
    return BoltResponse(
        status=400,
        body=json.dumps({"error": "malformed Slack payload"}),
        headers={"content-type": "application/json"},
    )


class RefuseMalformed(AsyncMiddlewareErrorHandler):
    """bolt's own middleware (authorization, self-event filter…) failed on a signed body of
    a shape Slack never sends: answer 400 instead of bolt's default 500. CoreMiddleware
    answers its own failures itself, so only bolt's reach this handler. (bolt's custom
    `app.error` handlers cannot be used: bolt builds their arguments from the same body
    and fails again.)"""

    async def handle(
        self, error: Exception, request: AsyncBoltRequest, response: BoltResponse | None
    ) -> None:
        log.warning("Slack request refused, bolt could not process it: %s: %s",
                    type(error).__name__, str(error)[:200])  # fmt: skip
        if response is not None:
            refused = malformed()
            response.status, response.body, response.headers = (
                refused.status,
                refused.body,
                refused.headers,
            )


def build_bolt_app(
    config: SlackConfig,
    middleware: CoreMiddleware,
    *,
    client: AsyncWebClient,
    authorize: AsyncAuthorize,
    oauth_flow: AsyncOAuthFlow | None = None,
) -> AsyncApp:
    """One AsyncApp for HTTP and Socket Mode.

    The signature is checked once per request, by `SlackHttp.events` (adapters/slack/http.py)
    over the raw bytes before anything is parsed: it is the only way an HTTP request reaches
    this app (`async_dispatch`), and Socket Mode needs no signature (bolt skips it there), so
    bolt's own verification, a second HMAC over the same bytes, is off."""
    kwargs: dict[str, Any] = {"authorize": authorize}
    if oauth_flow is not None:
        kwargs["oauth_flow"] = oauth_flow
    app = AsyncApp(
        name="wolbot",
        signing_secret=config.signing_secret or "",
        client=client,
        process_before_response=True,
        request_verification_enabled=False,  # SlackHttp verified it (see above)
        ignoring_self_events_enabled=True,
        url_verification_enabled=True,
        ssl_check_enabled=True,
        **kwargs,
    )
    app.use(middleware)
    assert hasattr(app, "_async_middleware_error_handler"), "slack-bolt changed"
    app._async_middleware_error_handler = RefuseMalformed()
    return app
