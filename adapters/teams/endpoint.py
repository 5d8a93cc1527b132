"""`POST /api/messages`: authenticate, translate once, then store or handle, and answer.

Message activities (messages, edits, deletions, reactions, conversation updates, card
submits) are stored in the inbox (bot/delivery/inbox.py: one INSERT) and answered at
once; the inbox worker hands them to the core afterwards, so the Bot Connector's answer
never waits for handling. Invoke activities (Universal Actions `adaptiveCard/action`,
dialogs `task/fetch` and `task/submit`, message actions `composeExtension/*`,
`fileConsent/invoke`) are handled before the answer, because the answer carries their
result (the card as it now is, the dialog to show, its field errors); the core only
records and enqueues (replies leave later through the outbox), so that answer comes well
within Teams' 15-second window. Invoke activities get a real invoke response, never the
SDK's default 501. When the database is down the answer is 503, so the Bot Connector
retries the activity later.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from http import HTTPStatus
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from msrest.exceptions import DeserializationError
from pydantic import ValidationError

from adapters.teams.inbound import (
    DIALOG_KEY,
    FETCH_MESSAGE_ACTION,
    PEOPLE_HINT,
    SUBMIT_MESSAGE_ACTION,
    missing_field,
    parse_activity,
)
from adapters.teams.members import Members, Seen
from adapters.teams.port import TeamsPort
from adapters.teams.render import CARD_CONTENT_TYPE, render_card, render_dialog
from bot.context import Context
from bot.delivery.inbox import Inbox
from bot.errors import StoreUnavailable
from bot.events import EventKind, InboundEvent
from bot.i18n import N_, normalise_language
from bot.messages import Form, OutboundMessage
from bot.validation import MalformedEvent, checked

log = logging.getLogger(__name__)

ACK = N_("Thanks, got it.")
CARD_ACTION = "adaptiveCard/action"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
FILE_CONSENT = "fileConsent/invoke"
# reply_hints key of a stored event: the person the activity showed (`Seen`), recorded when
# the event is handled (bot/delivery/inbox.py), and removed before the core sees the event.
SEEN_HINT = "teams_seen"


class TeamsEndpoint:
    def __init__(
        self,
        core: Any,
        adapter: CloudAdapter,
        members: Members,
        *,
        command_names: frozenset[str] = frozenset(),
        port: TeamsPort | None = None,
    ) -> None:
        self.core = core
        self.adapter = adapter
        self.members = members
        self.command_names = command_names
        self.port = port
        self.inbox: Inbox | None = None  # message activities: stored, answered, then handled

    async def handle(self, request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # also undecodable bytes, nesting too deep
            return web.json_response({"error": "invalid JSON"}, status=400)
        if not isinstance(body, dict) or not body.get("type"):
            return web.json_response({"error": "not an activity"}, status=400)
        try:
            activity = Activity().deserialize(body)
            seen, event = self._translate(body)
        except (MalformedEvent, DeserializationError, RecursionError) as exc:
            log.warning("malformed activity refused: %s", str(exc)[:200])
            return web.json_response({"error": "not an activity"}, status=400)
        auth = self.adapter.bot_framework_authentication
        try:
            authenticated = await auth.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
        except Exception as exc:  # PermissionError, bad signature, unknown key, expired…
            log.info("rejected /api/messages request: %s", type(exc).__name__)
            return web.json_response({"error": "unauthorized"}, status=401)
        if event is not None and event.kind == EventKind.BOT_ADDED and self.port is not None:
            try:
                own = await self.port.created_chat(event.workspace_id, event.conversation.id)
            except StoreUnavailable as exc:
                log.warning("database unavailable, asking the Bot Connector to retry: %s", exc)
                return web.json_response(
                    {"error": "temporarily unavailable"}, status=503, headers={"Retry-After": "5"}
                )
            if own:
                # wolbot added itself to an introduction's group chat: the introduction is
                # the first message there, not the welcome a team or chat people added it to
                event = None
        if (
            self.inbox is not None
            and event is not None
            and body.get("type") != ActivityTypes.invoke
        ):
            return await self._store(event, seen)

        async def turn(context: TurnContext) -> None:
            await self._turn(context, body, seen, event)

        try:
            response = await self.adapter.process_activity(authenticated, activity, turn)
        except StoreUnavailable as exc:
            log.warning("database unavailable, asking the Bot Connector to retry: %s", exc)
            return web.json_response(
                {"error": "temporarily unavailable"}, status=503, headers={"Retry-After": "5"}
            )
        if response is None:
            return web.Response(status=201)
        if response.body is None:
            return web.Response(status=int(response.status))
        return web.json_response(response.body, status=int(response.status))

    async def _store(self, event: InboundEvent, seen: Seen | None) -> web.Response:
        """Store a message activity's event (the Bot Connector's answer waits only for this
        INSERT); a copy stored before is answered the same way and not handled again."""
        if seen is not None:
            event = replace(event, reply_hints={**event.reply_hints, SEEN_HINT: asdict(seen)})
        assert self.inbox is not None
        try:
            if not await self.inbox.put(event):
                log.info("duplicate Teams activity %s acknowledged", event.event_id)
        except StoreUnavailable as exc:
            log.warning("database unavailable, asking the Bot Connector to retry: %s", exc)
            return web.json_response(
                {"error": "temporarily unavailable"}, status=503, headers={"Retry-After": "5"}
            )
        return web.Response(status=201)

    async def handle_stored(self, event: InboundEvent) -> Context:
        """The inbox worker's turn for a stored message activity: record the person it
        showed, then hand the event to the core (the inbox row was its duplicate check)."""
        hints = dict(event.reply_hints)
        shown = hints.pop(SEEN_HINT, None)
        event = replace(event, reply_hints=hints)
        if isinstance(shown, dict):
            anonymous = await self.core.is_anonymous(event)
            await self.members.seen(
                Seen(**shown), anonymous=anonymous, traceless=await self.core.is_traceless(event)
            )
        return await self.core.handle(await self._resolve_people_picker(event), claimed=True)

    def _translate(self, body: dict[str, Any]) -> tuple[Seen | None, InboundEvent | None]:
        """The person the activity shows and its event; MalformedEvent for an activity whose
        fields have types or sizes Teams never sends, or that lacks its conversation, sender
        or service URL (`missing_field`)."""
        missing = missing_field(body)
        if missing:
            raise MalformedEvent(f"missing {missing}")
        try:
            seen = Seen.from_activity(body)
            event = parse_activity(body, command_names=self.command_names)
        except (AttributeError, TypeError, ValueError, LookupError) as exc:
            raise MalformedEvent(f"{type(exc).__name__}: {exc}") from exc
        if seen is not None:
            for name in (
                "workspace_id",
                "user_id",
                "aad_object_id",
                "name",
                "locale",
                "timezone",
                "conversation_id",
                "service_url",
                "bot_id",
            ):
                value = getattr(seen, name)
                if value is not None and (not isinstance(value, str) or len(value) > 2048):
                    raise MalformedEvent(f"from.{name}")
        return seen, None if event is None else checked(event)

    async def _turn(
        self,
        context: TurnContext,
        body: dict[str, Any],
        seen: Seen | None,
        event: InboundEvent | None,
    ) -> None:
        if seen is not None:
            anonymous = event is not None and await self.core.is_anonymous(event)
            traceless = event is not None and await self.core.is_traceless(event)
            await self.members.seen(seen, anonymous=anonymous, traceless=traceless)
        if body.get("name") == FILE_CONSENT and seen is not None and self.port is not None:
            await self.port.file_consent(seen.workspace_id, seen.user_id, body.get("value") or {})
        ctx: Context | None = None
        if event is not None:
            ctx = await self.core.handle(await self._resolve_people_picker(event))
        if body.get("type") == ActivityTypes.invoke:
            await context.send_activity(
                Activity(
                    type=ActivityTypes.invoke_response,
                    value=await self._invoke_response(body, ctx),
                )
            )

    def _dialog_answer(self, body: dict[str, Any], ctx: Context | None, ack: str) -> Any:
        """A dialog to open or show again (with the fields' errors), else a closing text."""
        data = (body.get("value") or {}).get("data") or {}
        posted = _dialog_form(data)
        if ctx is not None and ctx.form_errors and posted is not None:
            values = {k: str(v) for k, v in data.items() if isinstance(v, str)}
            return render_dialog(posted, values=values, errors=ctx.form_errors)
        if ctx is not None and ctx.opened_form is not None:
            return render_dialog(ctx.opened_form)
        if body.get("name") == "task/fetch" and posted is not None and ctx is None:
            return render_dialog(posted)  # the button of a form the bot posted
        if body.get("name") in ("task/submit", SUBMIT_MESSAGE_ACTION) and not (ctx and ctx.told):
            return None  # closes the dialog
        return {"task": {"type": "message", "value": _told(ctx) or ack}}

    async def _resolve_people_picker(self, event: InboundEvent) -> InboundEvent:
        aad_object_id = event.reply_hints.get(PEOPLE_HINT)
        if not aad_object_id or event.action is None or self.port is None:
            return event
        user_id = await self.port.user_id_for_aad_object_id(
            event.workspace_id, event.conversation.id, str(aad_object_id)
        )
        if user_id is None:
            return event  # leave the AAD object id: the feature can tell it is unknown
        return replace(event, action=replace(event.action, value=user_id))

    async def _invoke_response(self, body: dict[str, Any], ctx: Context | None) -> InvokeResponse:
        name = body.get("name")
        ack = self.core.translator(normalise_language(body.get("locale"))).gettext(ACK)
        if name == CARD_ACTION:
            if ctx is not None and ctx.shown is not None and self.port is not None:
                # Universal Actions: the clicked card as it now is, for the clicker (the
                # card in the conversation is updated for everyone through the outbox).
                shown = await self.port.prepare(ctx.event.workspace_id, _with_told(ctx.shown, ctx))
                return InvokeResponse(
                    status=HTTPStatus.OK,
                    body={
                        "statusCode": 200,
                        "type": CARD_CONTENT_TYPE,
                        "value": render_card(shown),
                    },
                )
            # Otherwise Teams leaves the card as it was and shows this text to the person.
            return InvokeResponse(
                status=HTTPStatus.OK,
                body={"statusCode": 200, "type": MESSAGE_RESPONSE, "value": _told(ctx) or ack},
            )
        if name in ("task/fetch", "task/submit", FETCH_MESSAGE_ACTION, SUBMIT_MESSAGE_ACTION):
            return InvokeResponse(status=HTTPStatus.OK, body=self._dialog_answer(body, ctx, ack))
        # Card buttons with an msteams invoke, and invokes wolbot does not use, are
        # acknowledged with an empty answer.
        return InvokeResponse(status=HTTPStatus.OK, body=None)


def _told(ctx: Context | None) -> str:
    """What the person was told in this turn, as the text of the click's answer."""
    return "\n\n".join(m.plain_text() for m in ctx.told) if ctx is not None else ""


def _with_told(shown: OutboundMessage, ctx: Context) -> OutboundMessage:
    """The card answering a click, with what the clicker was told under it (once: a feature
    may have put it there already), as Slack would tell them in an only-you message."""
    have = shown.plain_text()
    told = [
        block
        for message in ctx.told
        if message.plain_text() not in have
        for block in message.blocks
    ]
    return shown.model_copy(update={"blocks": (*shown.blocks, *told)}) if told else shown


def _dialog_form(data: Any) -> Form | None:
    """The form a dialog's card carried (only shown again, never trusted for anything else)."""
    raw = data.get(DIALOG_KEY) if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return None
    try:
        return Form.model_validate(raw)
    except ValidationError:
        log.info("a dialog carried an unreadable form")
        return None
