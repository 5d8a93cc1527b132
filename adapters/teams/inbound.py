"""Bot Framework activity (a plain dict, as Teams posts it) → neutral `InboundEvent`.

Pure functions, no SDK: they are tested on recorded Teams payloads. The adapter
calls `parse_activity` with the JSON body it received on `/api/messages`.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.context import FORM_INLINE_HINT, RESPOND_INLINE_HINT
from bot.events import (
    Action,
    Conversation,
    ConversationKind,
    EventKind,
    InboundEvent,
    Mentioned,
    PersonRef,
)

PLATFORM = "teams"
COMMAND = "wol"

# Keys the renderer puts into Adaptive Card action data (see render.py).
ACTION_KEY = "wolbot_action"
VALUE_KEY = "wolbot_value"
SELECT_KEY = "wolbot_select"
PEOPLE_KEY = "wolbot_people"  # the select is Teams' people picker: its value is an AAD object id
FORM_KEY = "wolbot_form"
META_KEY = "wolbot_meta"
DIALOG_KEY = "wolbot_dialog"  # the form a Teams dialog shows, to show it again with errors
_OWN_KEYS = {
    ACTION_KEY,
    VALUE_KEY,
    SELECT_KEY,
    PEOPLE_KEY,
    FORM_KEY,
    META_KEY,
    DIALOG_KEY,
    "msteams",
}
# Invokes of the message action "Share as working out loud" (manifest composeExtensions).
FETCH_MESSAGE_ACTION = "composeExtension/fetchTask"
SUBMIT_MESSAGE_ACTION = "composeExtension/submitAction"
# Where the endpoint finds a people-picker choice that still names an AAD object id.
PEOPLE_HINT = "people_picker_aad_object_id"

# Teams' reaction types under the neutral (Slack-style) names the core uses.
TEAMS_REACTIONS = {
    "like": "+1",
    "heart": "heart",
    "laugh": "laughing",
    "surprised": "open_mouth",
    "sad": "cry",
    "angry": "angry",
}
_AT_TAG = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_COMMAND_RE = re.compile(rf"^\s*/?{COMMAND}(?:\s+|$)(.*)$", re.IGNORECASE | re.DOTALL)
_PRIVATE_CHANNEL_TYPES = {"private", "shared"}


def tenant_id(activity: dict[str, Any]) -> str | None:
    conversation = activity.get("conversation") or {}
    tenant = conversation.get("tenantId") or _get(activity, "channelData", "tenant", "id")
    return str(tenant) if tenant else None


def workspace_id_for(tenant: str) -> str:
    return f"{PLATFORM}:{tenant}"


def split_conversation_id(raw_id: str) -> tuple[str, str | None]:
    """A channel thread is addressed as "<channel id>;messageid=<root message id>"."""
    base, sep, rest = raw_id.partition(";messageid=")
    return base, (rest or None) if sep else None


def conversation_kind(activity: dict[str, Any]) -> ConversationKind:
    conversation = activity.get("conversation") or {}
    kind = conversation.get("conversationType")
    if kind == "personal":
        return ConversationKind.DM
    if kind == "groupChat":
        return ConversationKind.GROUP
    if kind == "channel":
        channel = _get(activity, "channelData", "channel") or {}
        membership = str(channel.get("membershipType") or channel.get("type") or "").lower()
        if membership in _PRIVATE_CHANNEL_TYPES:
            return ConversationKind.PRIVATE
        return ConversationKind.PUBLIC
    # Older payloads lack conversationType: a non-group conversation is a 1:1 chat.
    return ConversationKind.GROUP if conversation.get("isGroup") else ConversationKind.DM


def conversation_reference(activity: dict[str, Any]) -> dict[str, Any]:
    """What a later proactive message needs: service URL, conversation, tenant, bot.

    The conversation id is stored without any ";messageid=" suffix, so a proactive
    post lands in the channel itself; thread replies add the suffix again.
    """
    conversation = dict(activity.get("conversation") or {})
    base, _thread = split_conversation_id(str(conversation.get("id", "")))
    conversation["id"] = base
    tenant = tenant_id(activity)
    if tenant:
        conversation["tenantId"] = tenant
    reference: dict[str, Any] = {
        "serviceUrl": activity.get("serviceUrl"),
        "channelId": activity.get("channelId", "msteams"),
        "conversation": conversation,
        "bot": _account(activity.get("recipient")),
        "user": _account(activity.get("from")),
    }
    if activity.get("locale"):
        reference["locale"] = activity["locale"]
    team = _get(activity, "channelData", "team")
    if isinstance(team, dict) and team.get("id"):
        reference["teamId"] = team["id"]
    return reference


def locale_and_timezone(activity: dict[str, Any]) -> tuple[str | None, str | None]:
    locale = activity.get("locale")
    timezone = activity.get("localTimezone")
    for entity in activity.get("entities") or ():
        if isinstance(entity, dict) and entity.get("type") == "clientInfo":
            locale = locale or entity.get("locale")
            timezone = timezone or entity.get("timezone")
    return locale, timezone


def strip_mentions(
    text: str, entities: list[dict[str, Any]] | None, bot_id: str | None
) -> tuple[str, tuple[PersonRef, ...], bool]:
    """Remove the bot's `<at>` mention, turn other people's into "@Name".

    Returns the cleaned text, the people mentioned (bot excluded; each a `Mentioned` whose
    tag is the "@Name" it left in the text, multi-word names included) and whether the bot
    was mentioned. Only mention entities name people: an `<at>` without an entity, or
    "@someone" typed as text, stays text.
    """
    people: list[PersonRef] = []
    mentions_bot = False
    seen: set[str] = set()
    for entity in entities or ():
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        if not isinstance(mentioned, dict):
            continue
        mentioned_id = mentioned.get("id")
        if not mentioned_id or not isinstance(mentioned_id, str):
            continue
        tag = entity.get("text") or ""
        if not isinstance(tag, str):
            tag = ""
        if mentioned_id == bot_id:
            mentions_bot = True
            if tag:
                text = text.replace(tag, " ")
            continue
        name = mentioned.get("name") if isinstance(mentioned.get("name"), str) else None
        # A mentioned channel, team or tag ("19:…@thread…") is not a person: "#Name".
        is_person = not mentioned_id.startswith("19:")
        shown = ""
        if tag and tag in text:
            inner = _AT_TAG.sub(lambda m: m.group(1), tag)
            text = text.replace(tag, f"{'@' if is_person else '#'}{inner}")
            shown = "@" + _plain(inner).strip()
        if is_person and mentioned_id not in seen:
            seen.add(mentioned_id)
            people.append(Mentioned(user_id=mentioned_id, display_name=name, tag=shown))
    # Tags without an entity carry no identity: keep only the name they show.
    text = _AT_TAG.sub(lambda m: m.group(1), text)
    text = "\n".join(line.strip() for line in _plain(text).strip().splitlines())
    return text, tuple(people), mentions_bot


def _plain(text: str) -> str:
    """Teams' HTML-escaped text as read: entities undone, no-break and repeated spaces one."""
    return re.sub(r"[ \t]+", " ", html.unescape(text).replace("\xa0", " "))


def missing_field(activity: dict[str, Any]) -> str | None:
    """The first of `conversation`, `from` and `serviceUrl` an activity lacks (or has in a
    shape Teams never sends); None when all are there. Every activity the Bot Connector
    sends carries them, and without them there is nobody to act for and nowhere to answer,
    so the endpoint refuses the activity (400) before anything is stored or sent."""
    for key in ("conversation", "from"):
        value = activity.get(key)
        if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
            return key
    service_url = activity.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        return "serviceUrl"
    return None


def parse_command(text: str) -> str | None:
    """Arguments of a typed command: "/wol help" or "wol help" → "help"; else None."""
    match = _COMMAND_RE.match(text)
    return match.group(1).strip() if match else None


def is_menu_command(text: str, names: frozenset[str]) -> bool:
    """A command picked from the Teams command menu, or typed like one.

    The menu inserts a bare name ("help", "working on"), to which people may add
    arguments. A bare single word followed by more text is ordinary language ("ik heb
    een vraag" is not the command "ik"), so it counts only as the whole message, or
    with a leading slash ("/taal nl"); multi-word names may carry arguments.
    """
    slash = text.startswith("/")
    words = " ".join(text.lstrip("/").split()).lower()
    for name in names:
        if words == name:
            return True
        if words.startswith(name + " ") and (slash or " " in name):
            return True
    return False


def parse_activity(
    activity: dict[str, Any], *, command_names: frozenset[str] = frozenset()
) -> InboundEvent | None:
    """Translate one activity; None for activities wolbot does not act on.

    `command_names` are the names of `/wol` subcommands ("help", "working on"): a
    message that addresses the bot (a 1:1 chat, or a message starting with the bot's
    mention) and starts with one of them is a command too, as the manifest's command
    menu inserts the bare name ("help") or "@wolbot help".
    """
    tenant = tenant_id(activity)
    kind = activity.get("type")
    if not tenant or kind not in {
        "message",
        "conversationUpdate",
        "invoke",
        "messageUpdate",
        "messageDelete",
        "messageReaction",
    }:
        return None
    raw_conversation = activity.get("conversation") or {}
    base_id, root_id = split_conversation_id(str(raw_conversation.get("id", "")))
    activity_id = str(activity.get("id") or "")
    thread_id = root_id if root_id and root_id != activity_id else None
    conversation = Conversation(
        id=base_id,
        kind=conversation_kind(activity),
        name=raw_conversation.get("name") or _get(activity, "channelData", "channel", "name"),
        thread_id=thread_id,
    )
    sender = activity.get("from") or {}
    bot_id = (activity.get("recipient") or {}).get("id")
    locale, timezone = locale_and_timezone(activity)
    reference = conversation_reference(activity)
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "workspace_id": workspace_id_for(tenant),
        "event_id": activity_id,
        "user": PersonRef(user_id=str(sender.get("id", "")), display_name=sender.get("name")),
        "conversation": conversation,
        "locale": locale,
        "timezone": timezone,
        "reference": reference,
        "is_from_bot": sender.get("role") == "bot" or str(sender.get("id", "")).startswith("28:"),
        "reply_hints": _reply_hints(activity, root_id),
    }
    if kind == "conversationUpdate":
        return _conversation_update(activity, common, bot_id)
    if kind == "invoke":
        return _invoke(activity, common)
    if kind == "messageReaction":
        return _reaction(activity, common)
    if kind == "messageDelete":
        common["event_id"] = f"delete:{activity_id}"
        return InboundEvent(kind=EventKind.MESSAGE_DELETED, message_id=activity_id, **common)

    text, mentions, mentions_bot = strip_mentions(
        str(activity.get("text") or ""), activity.get("entities"), bot_id
    )
    common.update(mentions=mentions, mentions_bot=mentions_bot)
    if kind == "messageUpdate":
        if _get(activity, "channelData", "eventType") not in (None, "editMessage"):
            return None
        common["event_id"] = f"edit:{activity_id}:{activity.get('timestamp', '')}"
        return InboundEvent(
            kind=EventKind.MESSAGE_EDITED, message_id=activity_id, text=text, **common
        )

    value = activity.get("value")
    if isinstance(value, dict) and not text:
        return _card_data_event(value, activity.get("replyToId"), common)

    arguments = parse_command(text)
    if arguments is None and command_names and text:
        addressed = conversation.kind is ConversationKind.DM or _starts_with_bot_mention(
            str(activity.get("text") or ""), activity.get("entities"), bot_id
        )
        if addressed and is_menu_command(text, command_names):
            arguments = text.lstrip("/")
    if arguments is not None:
        return InboundEvent(
            kind=EventKind.COMMAND,
            command=COMMAND,
            text=arguments,
            message_id=activity_id,
            **common,
        )
    return InboundEvent(kind=EventKind.MESSAGE, text=text, message_id=activity_id, **common)


def _conversation_update(
    activity: dict[str, Any], common: dict[str, Any], bot_id: str | None
) -> InboundEvent | None:
    added = [m for m in activity.get("membersAdded") or () if isinstance(m, dict)]
    if not added:
        return None  # members removed, channel created/renamed, team renamed…
    if any(m.get("id") == bot_id for m in added):
        return InboundEvent(kind=EventKind.BOT_ADDED, **common)
    people = tuple(
        PersonRef(user_id=str(m["id"]), display_name=m.get("name")) for m in added if m.get("id")
    )
    return InboundEvent(kind=EventKind.MEMBER_JOINED, mentions=people, **common)


def _reaction(activity: dict[str, Any], common: dict[str, Any]) -> InboundEvent | None:
    """A reaction added to a message (Teams reports those on the bot's own messages)."""
    added = [r for r in activity.get("reactionsAdded") or () if isinstance(r, dict)]
    target = activity.get("replyToId")
    if not added or not target:
        return None  # reactions removed
    name = str(added[0].get("type") or "")
    action = Action(
        action_id="reaction", value=TEAMS_REACTIONS.get(name, name), message_id=str(target)
    )
    return InboundEvent(
        kind=EventKind.REACTION_ADDED, message_id=str(target), action=action, **common
    )


# Invokes whose answer carries a card, a dialog or a text for the clicker (an msteams
# "invoke" button's answer carries nothing: what it tells goes to the personal chat).
_ANSWERED_INVOKES = frozenset(
    {
        "adaptiveCard/action",
        "task/fetch",
        "task/submit",
        FETCH_MESSAGE_ACTION,
        SUBMIT_MESSAGE_ACTION,
    }
)


def _invoke(activity: dict[str, Any], common: dict[str, Any]) -> InboundEvent | None:
    name = activity.get("name")
    value = activity.get("value")
    if not isinstance(value, dict):
        return None
    reply_to = activity.get("replyToId")
    if name in _ANSWERED_INVOKES:
        # The answer shows the clicker what they are told, to them alone (endpoint.py):
        # nothing more goes to their personal chat.
        common["reply_hints"] = {**common["reply_hints"], RESPOND_INLINE_HINT: True}
    if name == "adaptiveCard/action":
        action = value.get("action") or {}
        data = dict(action.get("data") or {})
        if action.get("verb") and ACTION_KEY not in data and FORM_KEY not in data:
            data[ACTION_KEY] = action["verb"]
        return _card_data_event(data, reply_to, common)
    if name in ("task/fetch", "task/submit"):
        data = dict(value.get("data") or {})
        if name == "task/fetch" and not data.get(ACTION_KEY):
            return None  # a dialog of a posted form: the endpoint opens it on its own
        # Teams takes a form (its dialog) as the direct answer to these (Context.open_form).
        common["reply_hints"] = {**common["reply_hints"], FORM_INLINE_HINT: True}
        return _card_data_event(data, reply_to, common)
    if name is None:  # a card button with an msteams "invoke" action
        return _card_data_event(value, reply_to, common)
    if name in (FETCH_MESSAGE_ACTION, SUBMIT_MESSAGE_ACTION):
        return _message_action(activity, name, value, common)
    return None


def _message_action(
    activity: dict[str, Any], name: str, value: dict[str, Any], common: dict[str, Any]
) -> InboundEvent | None:
    """A message extension action on a message ("Share as working out loud"): its dialog is
    the answer (fetchTask), and its submission a form submit (submitAction)."""
    common["reply_hints"] = {**common["reply_hints"], FORM_INLINE_HINT: True}
    if name == SUBMIT_MESSAGE_ACTION:
        return _card_data_event(dict(value.get("data") or {}), None, common)
    command = value.get("commandId")
    payload = value.get("messagePayload") or {}
    if not command or not isinstance(payload, dict):
        return None
    body = payload.get("body") or {}
    text = str(body.get("content") or "")
    if str(body.get("contentType") or "").lower() == "html":
        text = _html_text(text)
    author = str(_get(payload, "from", "user", "id") or "") or None
    if author and author == (activity.get("from") or {}).get("aadObjectId"):
        author = common["user"].user_id  # the sharer's own message
    message_id = str(payload.get("id") or "") or None
    action = Action(action_id=str(command), value=author, message_id=message_id)
    return InboundEvent(
        kind=EventKind.SHORTCUT, action=action, text=text.strip(), message_id=message_id, **common
    )


def _html_text(content: str) -> str:
    """A Teams message's HTML body as the plain text its reader saw."""
    text = re.sub(r"<\s*(br|/p|/div|/li)\s*/?>", "\n", content, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text).replace("\xa0", " ")
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _card_data_event(
    data: dict[str, Any], message_id: str | None, common: dict[str, Any]
) -> InboundEvent:
    values = {str(k): _as_text(v) for k, v in data.items() if k not in _OWN_KEYS and v is not None}
    if data.get(FORM_KEY):
        form_id = str(data[FORM_KEY])
        action = Action(
            action_id=form_id,
            value=_as_text(data.get(META_KEY, "")),
            values=values,
            message_id=message_id,
            form_id=form_id,
        )
        return InboundEvent(kind=EventKind.FORM_SUBMIT, action=action, **common)
    action_id = str(data.get(ACTION_KEY) or "")
    select_id = data.get(SELECT_KEY)
    if select_id:
        chosen = values.pop(str(select_id), None)
        if data.get(PEOPLE_KEY) and chosen:
            # The picker answers with an Azure AD object id; the endpoint swaps in the
            # Bot Framework user id the rest of wolbot uses (see endpoint.py).
            common["reply_hints"] = {**common["reply_hints"], PEOPLE_HINT: chosen}
        action = Action(
            action_id=action_id or str(select_id),
            value=chosen,
            values=values,
            message_id=message_id,
        )
    else:
        action = Action(
            action_id=action_id,
            value=_as_text(data[VALUE_KEY]) if VALUE_KEY in data else None,
            values=values,
            message_id=message_id,
        )
    return InboundEvent(kind=EventKind.ACTION, action=action, **common)


def _reply_hints(activity: dict[str, Any], root_id: str | None) -> dict[str, Any]:
    hints: dict[str, Any] = {"activity_id": activity.get("id")}
    if root_id:
        hints["thread_root"] = root_id
    if activity.get("replyToId"):
        hints["reply_to_id"] = activity["replyToId"]
    return hints


def _starts_with_bot_mention(
    raw_text: str, entities: list[dict[str, Any]] | None, bot_id: str | None
) -> bool:
    for entity in entities or ():
        if (
            isinstance(entity, dict)
            and entity.get("type") == "mention"
            and (entity.get("mentioned") or {}).get("id") == bot_id
            and entity.get("text")
        ):
            return raw_text.lstrip().startswith(entity["text"])
    return False


def _account(account: Any) -> dict[str, Any]:
    if not isinstance(account, dict):
        return {}
    return {k: account[k] for k in ("id", "name", "aadObjectId", "role") if account.get(k)}


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _get(data: dict[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node
