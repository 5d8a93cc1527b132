"""Slack payload -> neutral `InboundEvent`. Pure functions: no I/O, no SDK.

Three kinds of request reach the adapter: Events API callbacks (`type:
event_callback`), slash commands (a form body with `command`) and
interactivity payloads (`block_actions`, `view_submission`, `shortcut`,
`message_action`). `to_inbound` takes any of them (already parsed into a
dict) and returns one event, or None when the request means nothing to the
core (unfurl-only edits, channel topic changes, the messages tab, ...).

Message text is turned into plain text: Slack's `&amp; &lt; &gt;` are
unescaped, `<@U1>` becomes `@U1` (the person is listed in `mentions`),
`<!here>` becomes `@here` and `<url|label>` becomes `label (url)`. The core
treats the result as literal text and the renderer escapes it again, so a
repeated `<!channel>` can never ping anybody.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.events import (
    Action,
    Conversation,
    ConversationKind,
    EventKind,
    InboundEvent,
    Mentioned,
    PersonRef,
)
from bot.validation import MalformedEvent, checked

PLATFORM = "slack"

# Subtypes that are still somebody's message; every other subtype is a system notice.
_MESSAGE_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message", "bot_message"}
_CHANNEL_TYPES = {
    "channel": ConversationKind.PUBLIC,
    "group": ConversationKind.PRIVATE,
    "im": ConversationKind.DM,
    "mpim": ConversationKind.GROUP,
    # member_joined_channel uses one-letter codes
    "C": ConversationKind.PUBLIC,
    "G": ConversationKind.PRIVATE,
}
_ENTITY = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_LABELLED_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^<>]*))?>")
# Renderers make action ids unique within a block by adding "#n"; strip it on the way back.
_ACTION_SUFFIX = re.compile(r"#\d+$")
# Marks the JSON the renderer stores in a modal's private_metadata.
FORM_META_KEY = "wolbot"
RESPONSE_URL_TTL = 30 * 60


def to_inbound(body: Mapping[str, Any], *, bot_user_id: str | None = None) -> InboundEvent | None:
    """Translate any Slack request body into an event, or None when it is not for the core.

    Raises MalformedEvent for a body that no Slack request has (a field of the wrong type,
    ids that are not ids): the adapter answers 400 and drops it."""
    if not isinstance(body, Mapping):
        raise MalformedEvent("body")
    try:
        missing = missing_identity(body)
        if missing:
            raise MalformedEvent(f"missing {missing}")
        event = _translate(body, bot_user_id)
    except (AttributeError, TypeError, ValueError, LookupError) as exc:
        raise MalformedEvent(f"{type(exc).__name__}: {exc}"[:200]) from exc
    return None if event is None else checked(event)


# Events whose person wolbot acts for: they must say who (a user, or the bot that wrote it).
_PERSONAL_EVENTS = {"app_mention", "reaction_added", "member_joined_channel", "app_home_opened"}
_INTERACTIONS = {"block_actions", "view_submission", "shortcut", "message_action"}


def missing_identity(body: Mapping[str, Any]) -> str | None:
    """What a request lacks that every real Slack request of its kind has: its workspace
    ("team") or the person it comes from ("user"); None when complete. Cheap enough for the
    acknowledgement path, so `wolbot serve` answers 400 before anything is stored."""
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, Mapping):
            return "event"
        if not _team_of_event(body):
            return "team"
        etype = event.get("type")
        if etype == "message" and event.get("subtype") == "message_changed":
            message = event.get("message")
            who = message if isinstance(message, Mapping) else {}
        elif (etype == "message" and event.get("subtype") in _MESSAGE_SUBTYPES) or (
            etype in _PERSONAL_EVENTS
        ):
            who = event
        else:
            return None  # deletions, uninstalls, system notices: nobody acts
        return None if who.get("user") or who.get("bot_id") else "user"
    if "command" in body:
        if not (body.get("team_id") or body.get("enterprise_id")):
            return "team"
        return None if body.get("user_id") else "user"
    if kind in _INTERACTIONS:
        user = body.get("user")
        if not isinstance(user, Mapping) or not user.get("id"):
            return "user"
        return None if _team_of(body) else "team"
    return None


def _translate(body: Mapping[str, Any], bot_user_id: str | None) -> InboundEvent | None:
    kind = body.get("type")
    if kind == "event_callback":
        return from_event_callback(body, bot_user_id=bot_user_id)
    if "command" in body and "trigger_id" in body:
        return from_command(body)
    if kind == "block_actions":
        return from_block_actions(body)
    if kind == "view_submission":
        return from_view_submission(body)
    if kind in ("shortcut", "message_action"):
        return from_shortcut(body)
    return None


# --- Events API -------------------------------------------------------------------------


def from_event_callback(
    body: Mapping[str, Any], *, bot_user_id: str | None = None
) -> InboundEvent | None:
    event = body.get("event") or {}
    bot_user_id = bot_user_id or _bot_user_from_authorizations(body)
    etype = event.get("type")
    if etype in ("message", "app_mention"):
        return _message_event(body, event, bot_user_id)
    if etype == "member_joined_channel":
        return _member_joined(body, event, bot_user_id)
    if etype == "reaction_added":
        item = event.get("item") or {}
        if item.get("type") != "message":
            return None
        channel = item.get("channel", "")
        return _base(
            body,
            EventKind.REACTION_ADDED,
            user=PersonRef(event.get("user", "")),
            conversation=Conversation(channel, _kind_from_id(channel)),
            message_id=item.get("ts"),
            action=Action(
                action_id="reaction",
                value=event.get("reaction"),
                message_id=item.get("ts"),
            ),
            reply_hints={"item_user": event.get("item_user")} if event.get("item_user") else {},
        )
    if etype == "app_home_opened":
        if event.get("tab") != "home":
            return None  # the Messages tab: nothing to show
        channel = event.get("channel", "")
        user = event.get("user", "")
        return _base(
            body,
            EventKind.HOME_OPENED,
            user=PersonRef(user),
            conversation=Conversation(channel or user, ConversationKind.DM),
            reply_hints={"surface": "home", "user_id": user},
        )
    if etype == "app_uninstalled" or (
        etype == "tokens_revoked" and (event.get("tokens") or {}).get("bot")
    ):
        return _base(
            body,
            EventKind.UNINSTALLED,
            user=PersonRef(""),
            conversation=Conversation("", ConversationKind.PRIVATE),
            reply_hints={"tokens": event.get("tokens") or {}},
        )
    return None


def _message_event(
    body: Mapping[str, Any], event: Mapping[str, Any], bot_user_id: str | None
) -> InboundEvent | None:
    subtype = event.get("subtype")
    channel = event.get("channel", "")
    conv_kind = _CHANNEL_TYPES.get(event.get("channel_type", ""), _kind_from_id(channel))
    if event.get("channel_type") == "mpim":
        return None  # group DMs are never read (no message.mpim; an older install may send it)
    if subtype == "message_changed":
        message = event.get("message") or {}
        previous = event.get("previous_message") or {}
        if message.get("text", "") == previous.get("text", ""):
            return None  # an unfurl or attachment change, not an edit
        ts = message.get("ts") or previous.get("ts")
        return _base(
            body,
            EventKind.MESSAGE_EDITED,
            user=PersonRef(message.get("user") or message.get("bot_id") or ""),
            conversation=Conversation(channel, conv_kind, thread_id=message.get("thread_ts")),
            text=plain_text(message.get("text", "")),
            message_id=ts,
            mentions=_mentions(message.get("text", ""), bot_user_id),
            mentions_bot=_mentions_bot(message.get("text", ""), bot_user_id),
            is_from_bot=_is_bot(message),
        )
    if subtype == "message_deleted":
        previous = event.get("previous_message") or {}
        return _base(
            body,
            EventKind.MESSAGE_DELETED,
            user=PersonRef(previous.get("user") or previous.get("bot_id") or ""),
            conversation=Conversation(channel, conv_kind, thread_id=previous.get("thread_ts")),
            message_id=event.get("deleted_ts") or previous.get("ts"),
            is_from_bot=_is_bot(previous),
        )
    if subtype not in _MESSAGE_SUBTYPES:
        return None
    raw = event.get("text", "")
    mentions_bot = event.get("type") == "app_mention" or _mentions_bot(raw, bot_user_id)
    return _base(
        body,
        EventKind.MESSAGE,
        user=PersonRef(event.get("user") or event.get("bot_id") or "", event.get("username")),
        conversation=Conversation(channel, conv_kind, thread_id=event.get("thread_ts")),
        text=plain_text(_strip_leading_mention(raw, bot_user_id)),
        message_id=event.get("ts"),
        mentions=_mentions(raw, bot_user_id),
        mentions_bot=mentions_bot,
        is_from_bot=_is_bot(event),
    )


def _member_joined(
    body: Mapping[str, Any], event: Mapping[str, Any], bot_user_id: str | None
) -> InboundEvent:
    channel = event.get("channel", "")
    conv = Conversation(
        channel, _CHANNEL_TYPES.get(event.get("channel_type", ""), _kind_from_id(channel))
    )
    joined = event.get("user", "")
    if bot_user_id and joined == bot_user_id:
        inviter = event.get("inviter") or joined
        return _base(body, EventKind.BOT_ADDED, user=PersonRef(inviter), conversation=conv)
    return _base(
        body,
        EventKind.MEMBER_JOINED,
        user=PersonRef(joined),
        conversation=conv,
        mentions=(PersonRef(joined),),
    )


# --- slash commands ---------------------------------------------------------------------


def from_command(body: Mapping[str, Any]) -> InboundEvent:
    channel = body.get("channel_id", "")
    name = body.get("channel_name")
    kind = _kind_from_id(channel)
    if name == "directmessage":
        kind = ConversationKind.DM
    elif name == "privategroup":
        kind = ConversationKind.PRIVATE
    elif channel.startswith("G") and name and name.startswith("mpdm-"):
        kind = ConversationKind.GROUP
    hints = _response_hints(body.get("response_url"), body.get("trigger_id"))
    team = body.get("team_id") or body.get("enterprise_id") or ""
    return InboundEvent(
        platform=PLATFORM,
        workspace_id=workspace_id(team),
        event_id=_interaction_id("command", body),
        kind=EventKind.COMMAND,
        user=PersonRef(body.get("user_id", ""), body.get("user_name")),
        conversation=Conversation(channel, kind, name=_channel_name(name)),
        text=plain_text(body.get("text", "")).strip(),
        command=str(body.get("command", "")).lstrip("/"),
        mentions=_mentions(body.get("text", ""), None),
        locale=body.get("locale"),
        reply_hints=hints,
        reference=_reference(team, channel, body.get("enterprise_id")),
    )


# --- interactivity ----------------------------------------------------------------------


def from_block_actions(payload: Mapping[str, Any]) -> InboundEvent | None:
    actions = payload.get("actions") or []
    if not actions:
        return None
    first = actions[0]
    container = payload.get("container") or {}
    view = payload.get("view") or {}
    meta = decode_form_meta(view.get("private_metadata", "")) if view else {}
    user = payload.get("user") or {}
    conv = _interaction_conversation(payload, meta)
    message_id = container.get("message_ts") or (payload.get("message") or {}).get("ts")
    hints = _response_hints(payload.get("response_url"), payload.get("trigger_id"))
    if view:
        hints["view_id"] = view.get("id")
        if view.get("type") == "home":
            hints["surface"] = "home"
            hints["user_id"] = user.get("id", "")
    if container.get("is_ephemeral"):
        hints["ephemeral"] = True
    return InboundEvent(
        platform=PLATFORM,
        workspace_id=workspace_id(_team_of(payload)),
        event_id=_interaction_id("action", payload, first.get("action_ts")),
        kind=EventKind.ACTION,
        user=PersonRef(user.get("id", ""), user.get("username") or user.get("name")),
        conversation=conv,
        message_id=message_id,
        action=Action(
            action_id=_ACTION_SUFFIX.sub("", first.get("action_id", "")),
            value=_action_value(first),
            values=_state_values(view.get("state") or payload.get("state") or {}),
            message_id=message_id,
            form_id=view.get("callback_id") or None,
        ),
        locale=user.get("locale"),
        reply_hints=hints,
        reference=_reference(_team_of(payload), conv.id, _enterprise_of(payload)),
    )


def from_view_submission(payload: Mapping[str, Any]) -> InboundEvent:
    view = payload.get("view") or {}
    meta = decode_form_meta(view.get("private_metadata", ""))
    user = payload.get("user") or {}
    conv = _interaction_conversation(payload, meta)
    callback = view.get("callback_id", "")
    hints = _response_hints(None, payload.get("trigger_id"))
    hints["view_id"] = view.get("id")
    urls = payload.get("response_urls") or []
    if urls:
        hints["response_urls"] = list(urls)
    return InboundEvent(
        platform=PLATFORM,
        workspace_id=workspace_id(_team_of(payload)),
        event_id=_interaction_id("view", payload, view.get("hash")),
        kind=EventKind.FORM_SUBMIT,
        user=PersonRef(user.get("id", ""), user.get("username") or user.get("name")),
        conversation=conv,
        action=Action(
            action_id=callback,
            value=meta.get("m", "") if meta else view.get("private_metadata", ""),
            values=_state_values(view.get("state") or {}),
            form_id=callback,
            message_id=meta.get("msg") if meta else None,
        ),
        locale=user.get("locale"),
        reply_hints=hints,
    )


def from_shortcut(payload: Mapping[str, Any]) -> InboundEvent:
    user = payload.get("user") or {}
    message = payload.get("message") or {}
    conv = _interaction_conversation(payload, {})
    author = message.get("user") or message.get("bot_id")
    hints = _response_hints(payload.get("response_url"), payload.get("trigger_id"))
    if author:
        hints["message_user"] = author
    raw = message.get("text", "")
    return InboundEvent(
        platform=PLATFORM,
        workspace_id=workspace_id(_team_of(payload)),
        event_id=_interaction_id("shortcut", payload, payload.get("action_ts")),
        kind=EventKind.SHORTCUT,
        user=PersonRef(user.get("id", ""), user.get("username") or user.get("name")),
        conversation=conv,
        text=plain_text(raw),
        message_id=payload.get("message_ts") or message.get("ts"),
        action=Action(
            action_id=payload.get("callback_id", ""),
            value=author,
            message_id=payload.get("message_ts") or message.get("ts"),
        ),
        mentions=_mentions(raw, None),
        is_from_bot=False,
        locale=user.get("locale"),
        reply_hints=hints,
    )


def kind_is_known(body: Mapping[str, Any]) -> bool:
    """Whether the payload itself says if its conversation is public or private.

    Events carry `channel_type`; slash commands and interactivity do not (a private
    channel has a C… id like a public one), so the adapter asks conversations.info.
    """
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        return bool(event.get("channel_type")) or event.get("type") not in (
            "message",
            "app_mention",
        )
    if "command" in body:
        channel = str(body.get("channel_id", ""))
        return body.get("channel_name") in (
            "directmessage",
            "privategroup",
        ) or not channel.startswith("C")
    view = body.get("view") or {}
    return bool(decode_form_meta(view.get("private_metadata", "")).get("k"))


# --- text -------------------------------------------------------------------------------


def plain_text(text: str) -> str:
    """Slack mrkdwn as received -> the literal text a person wrote (see module docstring)."""

    def entity(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith(("@U", "@W", "@B")):
            return f"@{label or target[1:]}"
        if target.startswith("#C") or target.startswith("#G"):
            return f"#{label or target[1:]}"
        if target.startswith("!subteam^"):
            return label or "@group"
        if target.startswith("!date^"):
            return label or ""
        if target.startswith("!"):
            return "@" + target[1:]
        if label and label not in (target, target.removeprefix("mailto:")):
            return f"{label} ({target})"
        return target.removeprefix("mailto:")

    text = _ENTITY.sub(entity, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _strip_leading_mention(text: str, bot_user_id: str | None) -> str:
    if not bot_user_id:
        return text
    return re.sub(rf"^\s*<@{re.escape(bot_user_id)}(?:\|[^<>]*)?>[\s:,]*", "", text)


def _mentions(text: str, bot_user_id: str | None) -> tuple[PersonRef, ...]:
    """People mentioned, as Slack sends a real mention: `<@U1>` or `<@U1|anouk>`, unescaped.
    Each carries the tag plain_text leaves for it ("@anouk", else "@U1"). What a person
    typed arrives escaped (`&lt;@U1&gt;`) or without brackets (`@U1`) and is no mention."""
    seen: dict[str, str | None] = {}
    for user_id, label in _LABELLED_MENTION.findall(text or ""):
        if user_id != bot_user_id and user_id not in seen:
            seen[user_id] = label or None
    return tuple(Mentioned(u, name, tag=f"@{name or u}") for u, name in seen.items())


def _mentions_bot(text: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and bot_user_id in _USER_MENTION.findall(text or "")


# --- helpers ----------------------------------------------------------------------------


def workspace_id(team_or_enterprise: str) -> str:
    return f"{PLATFORM}:{team_or_enterprise}"


def team_of_workspace(workspace: str) -> str:
    return workspace.removeprefix(f"{PLATFORM}:")


def decode_form_meta(private_metadata: str) -> dict[str, Any]:
    """The dict the renderer stored in a modal's private_metadata, or {} for foreign views."""
    if not private_metadata or not private_metadata.startswith("{"):
        return {}
    try:
        data = json.loads(private_metadata)
    except ValueError:
        return {}
    if not isinstance(data, dict) or data.get(FORM_META_KEY) != 1:
        return {}
    return data


def _base(body: Mapping[str, Any], kind: EventKind, **fields: Any) -> InboundEvent:
    team = _team_of_event(body)
    conv: Conversation = fields["conversation"]
    return InboundEvent(
        platform=PLATFORM,
        workspace_id=workspace_id(team),
        event_id=body.get("event_id") or _fallback_event_id(body),
        kind=kind,
        received_at=_event_time(body),
        reference=_reference(team, conv.id, body.get("enterprise_id")) if conv.id else None,
        **fields,
    )


def _fallback_event_id(body: Mapping[str, Any]) -> str:
    # Very old envelopes (before 2017) carry no event_id: derive a stable one.
    event = body.get("event") or {}
    return f"{event.get('type', 'event')}:{_team_of_event(body)}:{event.get('event_ts', '')}"


def _event_time(body: Mapping[str, Any]) -> datetime:
    ts = body.get("event_time")
    if isinstance(ts, int | float):
        return datetime.fromtimestamp(ts, UTC)
    return datetime.now(UTC)


def _team_of_event(body: Mapping[str, Any]) -> str:
    # The installation the event was delivered for (shared channels carry the source team in
    # team_id); org-wide installs may have no team at all, then the enterprise is the workspace.
    for auth in body.get("authorizations") or []:
        if auth.get("team_id"):
            return _str(auth["team_id"])
    event = body.get("event") or {}
    return _str(body.get("team_id") or event.get("team") or body.get("enterprise_id") or "")


def _team_of(payload: Mapping[str, Any]) -> str:
    view = payload.get("view") or {}
    team = payload.get("team") or {}
    user = payload.get("user") or {}
    return _str(
        view.get("app_installed_team_id")
        or team.get("id")
        or user.get("team_id")
        or _enterprise_of(payload)
        or ""
    )


def _str(value: Any) -> str:
    """An id as Slack sends it (a string); anything else is a malformed payload."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _enterprise_of(payload: Mapping[str, Any]) -> str | None:
    team = payload.get("team") or {}
    enterprise = payload.get("enterprise") or {}
    return team.get("enterprise_id") or enterprise.get("id")


def _bot_user_from_authorizations(body: Mapping[str, Any]) -> str | None:
    for auth in body.get("authorizations") or []:
        if auth.get("is_bot") and auth.get("user_id"):
            return _str(auth["user_id"])
    return None


def _kind_from_id(channel: str) -> ConversationKind:
    if channel.startswith("D"):
        return ConversationKind.DM
    if channel.startswith("G"):
        return ConversationKind.PRIVATE
    return ConversationKind.PUBLIC


def _channel_name(name: str | None) -> str | None:
    return None if name in (None, "directmessage", "privategroup") else name


def _is_bot(message: Mapping[str, Any]) -> bool:
    return bool(message.get("bot_id")) or message.get("subtype") == "bot_message"


def _interaction_conversation(payload: Mapping[str, Any], meta: Mapping[str, Any]) -> Conversation:
    channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get(
        "channel_id"
    )
    if not channel and meta.get("c"):
        channel = meta["c"]
    if channel:
        name = (payload.get("channel") or {}).get("name")
        kind = ConversationKind(meta["k"]) if meta.get("k") else _kind_from_id(channel)
        return Conversation(channel, kind, name=_channel_name(name), thread_id=meta.get("t"))
    # Global shortcuts, App Home and modals opened from them have no channel: posting to
    # the user id reaches the person in the app's Messages tab.
    return Conversation((payload.get("user") or {}).get("id", ""), ConversationKind.DM)


def _response_hints(response_url: str | None, trigger_id: str | None) -> dict[str, Any]:
    hints: dict[str, Any] = {}
    if response_url:
        hints["response_url"] = response_url
        # Slack honours a response_url for 30 minutes; keep a margin for queueing.
        hints["response_url_expires_at"] = int(time.time()) + RESPONSE_URL_TTL - 60
    if trigger_id:
        hints["trigger_id"] = trigger_id
    return hints


def _interaction_id(prefix: str, payload: Mapping[str, Any], extra: Any = None) -> str:
    # Slack does not retry interactivity or commands, but the same trigger_id must still
    # map to the same id so a replayed request is de-duplicated like an event retry.
    trigger = payload.get("trigger_id") or ""
    return f"{prefix}:{trigger}" if trigger else f"{prefix}:{extra or ''}"


def _action_value(action: Mapping[str, Any]) -> str | None:
    if "value" in action:
        return action.get("value")
    selected = action.get("selected_option")
    if selected:
        return selected.get("value")
    for key in ("selected_user", "selected_conversation", "selected_channel", "selected_date"):
        if action.get(key):
            return str(action[key])
    return None


def _state_values(state: Mapping[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for block in (state.get("values") or {}).values():
        for action_id, element in block.items():
            value = _action_value(element)
            if value is None and "selected_options" in element:
                value = ",".join(o.get("value", "") for o in element["selected_options"])
            if value is None and "selected_users" in element:
                value = ",".join(element["selected_users"])
            values[_ACTION_SUFFIX.sub("", action_id)] = value or ""
    return values


def _reference(team: str, channel: str, enterprise: str | None) -> dict[str, Any] | None:
    if not channel:
        return None
    ref: dict[str, Any] = {"platform": PLATFORM, "team_id": team, "channel_id": channel}
    if enterprise:
        ref["enterprise_id"] = enterprise
    return ref
