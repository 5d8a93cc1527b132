"""SlackPort: the core's `ChatPort`, implemented with slack_sdk's AsyncWebClient.

One request per call, failures reported precisely as `DeliveryError`; the
core's outbox owns retries, rate limits and idempotency, so the SDK's own
retry handlers are switched off (one retry policy, not two).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.events import ConversationKind
from bot.messages import Form, OutboundMessage
from bot.ports import DeliveryError, Destination, PersonInfo, Sent

from .render import emoji_name, post_options, render_form, render_home, render_message

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
RESPONSE_URL_USES = 5  # Slack: a response_url accepts 5 posts within 30 minutes
RESPONSE_URL_TTL = 30 * 60
CONVERSATION_KIND_TTL = 3600.0
# Message metadata that tags an outbox delivery (see `send_tagged` / `find_tagged`).
OUTBOX_EVENT_TYPE = "wolbot_outbox"
HISTORY_PAGES = 3  # at most this many pages of 200 messages are searched for a tagged copy

# Retrying cannot help: the conversation is gone, the bot is not in it, the person or the
# installation is deactivated, or the request itself is wrong.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "restricted_action",
        "ekm_access_denied",
        "team_access_not_granted",
        "org_login_required",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "cant_update_message",
        "edit_window_closed",
        "message_not_found",
        "expired_trigger_id",
        "invalid_trigger_id",
        "exchanged_trigger_id",
        "too_many_emoji",
        "too_many_reactions",
        "invalid_name",
        "not_reactable",
        "duplicate_channel_not_found",
        "no_trigger_id",
    }
)


class TokenSource(Protocol):
    async def bot_token(self, workspace_id: str) -> str:
        """The bot token for a workspace; raises DeliveryError(permanent) when not installed."""
        ...


class StaticToken:
    """Single-workspace mode: one bot token from SLACK_BOT_TOKEN."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def bot_token(self, workspace_id: str) -> str:
        return self._token


class SlackPort:
    platform = "slack"
    # Seconds between requests to one channel: Slack allows about one message per second per
    # channel (chat.postMessage is "special" tier); the core's delivery worker paces by this.
    min_interval = 1.0
    workspace_interval = 0.0  # set from SLACK_MAX_MESSAGES_PER_SECOND (see config.py)

    def __init__(
        self,
        tokens: TokenSource,
        *,
        base_url: str = DEFAULT_API_URL,
        timeout: float = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = tokens
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[str, AsyncWebClient] = {}
        self._identities: dict[str, dict[str, Any]] = {}
        self._kinds: dict[tuple[str, str], tuple[float, ConversationKind]] = {}
        self._response_url_uses: OrderedDict[str, int] = OrderedDict()
        # response_urls are only followed to Slack itself or to the configured API host.
        self._response_url_hosts = {"hooks.slack.com", urlsplit(self.base_url).netloc}

    # --- plumbing ------------------------------------------------------------------------

    async def client(self, workspace_id: str) -> AsyncWebClient:
        token = await self._tokens.bot_token(workspace_id)
        client = self._clients.get(token)
        if client is None:
            client = AsyncWebClient(
                token=token,
                base_url=self.base_url,
                session=self._http(),
                timeout=self._timeout,  # type: ignore[arg-type]  # slack_sdk says int; aiohttp takes float
                retry_handlers=[],
            )
            # slack_sdk applies HTTPS_PROXY but ignores NO_PROXY; leave proxy choice to the
            # session (trust_env), which honours both.
            client.proxy = None
            self._clients[token] = client
        return client

    def forget(self, workspace_id: str) -> None:
        """Drop cached identities and clients after an uninstall or token revocation."""
        self._identities.clear()
        self._clients.clear()
        self._kinds = {k: v for k, v in self._kinds.items() if k[0] != workspace_id}

    async def token(self, workspace_id: str) -> str:
        return await self._tokens.bot_token(workspace_id)

    async def identity(self, workspace_id: str) -> Mapping[str, Any]:
        """auth.test for the workspace's token (bot user id, bot id, team), cached per token."""
        token = await self._tokens.bot_token(workspace_id)
        cached = self._identities.get(token)
        if cached is None:
            cached = dict(await self.call(workspace_id, "auth.test"))
            self._identities[token] = cached
        return cached

    async def conversation_kind(self, workspace_id: str, channel_id: str) -> ConversationKind:
        """Whether a channel is public, private, a group DM or a DM (conversations.info), cached.

        Slash commands and interactivity payloads do not say whether a C… channel is
        private (private channels have C ids too); when Slack cannot tell us, the answer
        is PRIVATE, so nothing said there is ever treated as public.
        """
        key = (workspace_id, channel_id)
        hit = self._kinds.get(key)
        if hit is not None and self._clock() - hit[0] < CONVERSATION_KIND_TTL:
            return hit[1]
        try:
            data = await self.call(workspace_id, "conversations.info", channel=channel_id)
        except DeliveryError as exc:
            log.info("conversations.info %s failed (%s): treating it as private", channel_id, exc)
            return ConversationKind.PRIVATE
        info = data.get("channel") or {}
        if info.get("is_im"):
            kind = ConversationKind.DM
        elif info.get("is_mpim"):
            kind = ConversationKind.GROUP
        elif info.get("is_private") or info.get("is_group") or not info:
            kind = ConversationKind.PRIVATE
        else:
            kind = ConversationKind.PUBLIC
        self._kinds[key] = (self._clock(), kind)
        while len(self._kinds) > 50_000:
            self._kinds.pop(next(iter(self._kinds)))
        return kind

    def session(self) -> aiohttp.ClientSession:
        """The HTTP session shared by every client of this adapter (created on first use)."""
        return self._http()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout), trust_env=True
            )
            self._clients.clear()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._clients.clear()

    async def call(self, workspace_id: str, method: str, **kwargs: Any) -> Mapping[str, Any]:
        """Call a Web API method, translating every failure into a DeliveryError."""
        client = await self.client(workspace_id)
        sdk_method = getattr(client, method.replace(".", "_"))
        args = {k: v for k, v in kwargs.items() if v is not None}
        try:
            response = await sdk_method(**args)
        except SlackApiError as exc:
            raise _delivery_error(method, exc) from None
        except aiohttp.ClientConnectorError as exc:  # never connected: it did not arrive
            raise DeliveryError(f"{method} failed: {type(exc).__name__}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # a timeout or a dropped connection: the request may have reached Slack
            raise DeliveryError(f"{method} failed: {type(exc).__name__}", uncertain=True) from None
        return response.data if isinstance(response.data, dict) else {}

    # --- ChatPort ------------------------------------------------------------------------

    async def send(self, dest: Destination, message: OutboundMessage) -> Sent:
        return await self._send(dest, message)

    async def send_tagged(self, dest: Destination, message: OutboundMessage, tag: str) -> Sent:
        """`send`, with the outbox tag in the message's metadata (DeliveryVerifier)."""
        return await self._send(
            dest, message, {"event_type": OUTBOX_EVENT_TYPE, "event_payload": {"key": tag}}
        )

    async def find_tagged(self, dest: Destination, tag: str, since: datetime) -> Sent | None:
        """The bot's message carrying `tag` posted in `dest` since `since`, if any
        (conversations.history / .replies with include_all_metadata). Ephemeral messages and
        App Home views cannot be found: None (the worker sends them again)."""
        hints = dest.hints or {}
        if dest.ephemeral_user or hints.get("surface") == "home":
            return None
        channel = dest.channel_id
        if _is_user_id(channel):  # posted to a user id: the history is the DM's
            data = await self.call(dest.workspace_id, "conversations.open", users=channel)
            channel = str((data.get("channel") or {}).get("id", ""))
        method = "conversations.replies" if dest.thread_id else "conversations.history"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            data = await self.call(
                dest.workspace_id,
                method,
                channel=channel,
                ts=dest.thread_id,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for item in data.get("messages") or []:
                meta = item.get("metadata") or {}
                if (
                    meta.get("event_type") == OUTBOX_EVENT_TYPE
                    and (meta.get("event_payload") or {}).get("key") == tag
                ):
                    return Sent(message_id=str(item.get("ts", "")), channel_id=channel)
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None

    async def _send(
        self, dest: Destination, message: OutboundMessage, metadata: dict[str, Any] | None = None
    ) -> Sent:
        hints = dest.hints or {}
        if hints.get("surface") == "home" and hints.get("user_id"):
            view_id = await self.publish_home(dest.workspace_id, hints["user_id"], message)
            return Sent(message_id=view_id, channel_id=dest.channel_id)
        rendered = render_message(message)
        if dest.ephemeral_user:
            return await self._send_ephemeral(dest, rendered)
        data = await self.call(
            dest.workspace_id,
            "chat.postMessage",
            channel=dest.channel_id,
            thread_ts=dest.thread_id,
            unfurl_links=False,
            unfurl_media=False,
            metadata=metadata,
            **rendered,
            **post_options(message, dest.thread_id),
        )
        return Sent(
            message_id=str(data.get("ts", "")),
            channel_id=str(data.get("channel") or dest.channel_id),
        )

    async def send_file(
        self, dest: Destination, filename: str, content: bytes, message: OutboundMessage
    ) -> Sent:
        """The message, then the file in the same conversation (files.uploadV2: an upload URL,
        the bytes, then completeUploadExternal)."""
        sent = await self.send(dest, message)
        await self.call(
            dest.workspace_id,
            "files.upload_v2",
            channel=sent.channel_id or dest.channel_id,
            thread_ts=dest.thread_id,
            content=content,
            filename=filename,
            title=filename,
        )
        return sent

    async def update(self, dest: Destination, message_id: str, message: OutboundMessage) -> None:
        hints = dest.hints or {}
        if hints.get("surface") == "home" and hints.get("user_id"):
            await self.publish_home(dest.workspace_id, hints["user_id"], message)
            return
        if dest.ephemeral_user:
            await self._replace_own(dest, message_id, render_message(message))
            return
        await self.call(
            dest.workspace_id,
            "chat.update",
            channel=dest.channel_id,
            ts=message_id,
            **render_message(message),
        )

    async def react(self, dest: Destination, message_id: str, emoji: str) -> None:
        try:
            await self.call(
                dest.workspace_id,
                "reactions.add",
                channel=dest.channel_id,
                timestamp=message_id,
                name=emoji_name(emoji),
            )
        except DeliveryError as exc:
            if exc.reason != "already_reacted":  # the goal is reached: not an error
                raise

    async def open_dm(self, workspace_id: str, user_ids: tuple[str, ...]) -> str:
        if len(user_ids) == 1:
            # chat.postMessage to a user id lands in the app's DM with them: no
            # conversations.open (a rate-limited tier) per person in a large fan-out.
            return user_ids[0]
        data = await self.call(workspace_id, "conversations.open", users=",".join(user_ids))
        return str((data.get("channel") or {}).get("id", ""))

    async def open_form(self, dest: Destination, form: Form) -> None:
        hints = dest.hints or {}
        trigger_id = hints.get("trigger_id")
        if not trigger_id:
            raise DeliveryError("no_trigger_id", permanent=True)
        view = render_form(
            form,
            channel_id=None if _is_user_id(dest.channel_id) else dest.channel_id,
            thread_id=dest.thread_id,
            conversation_kind=hints.get("conversation_kind"),
            message_id=hints.get("message_id"),
        )
        # Inside an open modal a new view must be pushed onto its stack.
        method = "views.push" if hints.get("in_modal") else "views.open"
        await self.call(dest.workspace_id, method, trigger_id=trigger_id, view=view)

    async def lookup_person(self, workspace_id: str, user_id: str) -> PersonInfo:
        data = await self.call(workspace_id, "users.info", user=user_id, include_locale=True)
        return person_info(data.get("user") or {"id": user_id})

    # --- Slack-only surfaces -------------------------------------------------------------

    async def publish_home(self, workspace_id: str, user_id: str, message: OutboundMessage) -> str:
        data = await self.call(
            workspace_id, "views.publish", user_id=user_id, view=render_home(message)
        )
        return str((data.get("view") or {}).get("id", ""))

    async def _send_ephemeral(self, dest: Destination, rendered: dict[str, Any]) -> Sent:
        hints = dest.hints or {}
        url = hints.get("response_url")
        if (
            url
            and self._response_url_usable(url, hints)
            and await self._post_response_url(url, rendered)
        ):
            return Sent(message_id="", channel_id=dest.channel_id)
        if _is_user_id(dest.channel_id):
            # No channel (global shortcut, App Home): the person's DM with the app is private.
            data = await self.call(
                dest.workspace_id, "chat.postMessage", channel=dest.channel_id, **rendered
            )
            return Sent(message_id=str(data.get("ts", "")), channel_id=str(data.get("channel", "")))
        try:
            data = await self.call(
                dest.workspace_id,
                "chat.postEphemeral",
                channel=dest.channel_id,
                user=dest.ephemeral_user,
                thread_ts=dest.thread_id,
                **rendered,
            )
        except DeliveryError as exc:
            if exc.reason not in ("not_in_channel", "channel_not_found") or not dest.ephemeral_user:
                raise
            # The bot is not in that channel (a shortcut or modal from elsewhere): an answer
            # meant for one person goes to their DM with the app instead.
            data = await self.call(
                dest.workspace_id, "chat.postMessage", channel=dest.ephemeral_user, **rendered
            )
            return Sent(message_id=str(data.get("ts", "")), channel_id=str(data.get("channel", "")))
        return Sent(message_id=str(data.get("message_ts", "")), channel_id=dest.channel_id)

    async def _replace_own(
        self, dest: Destination, message_id: str, rendered: dict[str, Any]
    ) -> None:
        """Replace the message a person clicked that was theirs alone: an ephemeral one can
        only be replaced through the click's response_url; without it (expired, used up) a
        message in their DM is updated, and an ephemeral one answered anew."""
        hints = dest.hints or {}
        url = hints.get("response_url")
        if (
            url
            and self._response_url_usable(url, hints)
            and await self._post_response_url(url, rendered, replace_original=True)
        ):
            return
        if message_id and not hints.get("ephemeral"):
            await self.call(
                dest.workspace_id, "chat.update", channel=dest.channel_id, ts=message_id, **rendered
            )
            return
        await self._send_ephemeral(
            replace(dest, hints={k: v for k, v in hints.items() if k != "response_url"}), rendered
        )

    def _response_url_usable(self, url: str, hints: Mapping[str, Any]) -> bool:
        parts = urlsplit(url)
        if parts.netloc not in self._response_url_hosts:
            log.warning("ignoring response_url on unexpected host %s", parts.netloc)
            return False
        if parts.scheme != "https" and parts.netloc == "hooks.slack.com":
            return False
        expires = hints.get("response_url_expires_at")
        if isinstance(expires, int | float) and self._clock() >= expires:
            return False
        return self._response_url_uses.get(url, 0) < RESPONSE_URL_USES

    async def _post_response_url(
        self, url: str, rendered: dict[str, Any], *, replace_original: bool = False
    ) -> bool:
        self._response_url_uses[url] = self._response_url_uses.get(url, 0) + 1
        self._response_url_uses.move_to_end(url)
        while len(self._response_url_uses) > 10_000:
            self._response_url_uses.popitem(last=False)
        body = {"response_type": "ephemeral", "replace_original": replace_original, **rendered}
        try:
            async with self._http().post(url, json=body) as resp:
                if resp.status == 200:
                    return True
                log.info(
                    "response_url answered %s; falling back to chat.postEphemeral", resp.status
                )
                if resp.status == 404:  # used up or expired: never try it again
                    self._response_url_uses[url] = RESPONSE_URL_USES
                return False
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.info("response_url failed (%s); falling back", type(exc).__name__)
            return False


def person_info(user: Mapping[str, Any]) -> PersonInfo:
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user.get("id", "")
    )
    return PersonInfo(
        user_id=str(user.get("id", "")),
        display_name=str(name),
        timezone=user.get("tz") or None,
        locale=user.get("locale") or None,
        is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        is_bot=bool(user.get("is_bot")),
        deleted=bool(user.get("deleted")),
        email=profile.get("email") or None,
    )


def _is_user_id(channel_id: str) -> bool:
    return channel_id[:1] in ("U", "W")


def _delivery_error(method: str, exc: SlackApiError) -> DeliveryError:
    response = exc.response
    status = getattr(response, "status_code", None)
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    reason = error or f"http_{status}"
    if status == 429 or error == "ratelimited":
        retry_after = _retry_after(getattr(response, "headers", None) or {})
        return DeliveryError("ratelimited", retry_after=retry_after or 1.0)
    # A server error may come after the message was stored: the outcome is unknown.
    uncertain = isinstance(status, int) and status >= 500
    return DeliveryError(reason, permanent=reason in PERMANENT_ERRORS, uncertain=uncertain)


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                return None
    return None
