"""The one neutral inbound event every chat platform is translated into.

Adapters build an `InboundEvent` from a platform payload (pure functions in
`adapters/<platform>/inbound.py`); the router dispatches it once. Nothing here
knows which platform it came from beyond the `platform` string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    MESSAGE = "message"  # a new message in a channel, group or DM
    MESSAGE_EDITED = "message_edited"  # `message_id` names the edited message, `text` is new
    MESSAGE_DELETED = "message_deleted"  # `message_id` names the deleted message
    COMMAND = "command"  # a slash command: `command` is "wol", `text` its arguments
    ACTION = "action"  # a button/choice/card submit: see `action`
    FORM_SUBMIT = "form_submit"  # a modal / task module submitted: see `action.values`
    SHORTCUT = "shortcut"  # a global or message shortcut: see `action`
    REACTION_ADDED = "reaction_added"  # `action.value` is the reaction name
    BOT_ADDED = "bot_added"  # the bot joined a channel / team / chat
    MEMBER_JOINED = "member_joined"  # people joined a conversation: `mentions` lists them
    HOME_OPENED = "home_opened"  # the person opened the bot's home tab
    UNINSTALLED = "uninstalled"  # the app was removed from the workspace


class ConversationKind(StrEnum):
    PUBLIC = "public"  # a channel anyone in the workspace can read
    PRIVATE = "private"  # a channel only its members can read
    GROUP = "group"  # a multi-person direct conversation
    DM = "dm"  # a one-to-one conversation with the bot


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person as the platform names them; `user_id` is unique within a workspace."""

    user_id: str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Mentioned(PersonRef):
    """A person the sender picked with the platform's own mention (Slack `<@U…>`, a Teams
    mention entity, the console's `@name`), and `tag`: how that mention reads in the event's
    text ("@anouk", "@Ben Okafor"). Text the sender typed never becomes one of these, so
    the core takes people only from `InboundEvent.mentions`, never from words."""

    tag: str = ""


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where an event happened. `thread_id` is set when it happened inside a thread."""

    id: str
    kind: ConversationKind
    name: str | None = None
    thread_id: str | None = None

    @property
    def is_private(self) -> bool:
        return self.kind is not ConversationKind.PUBLIC


@dataclass(frozen=True, slots=True)
class Action:
    """A click, choice, shortcut or form submission.

    `action_id` is the id the bot gave the button/field (see `bot.messages.Button`),
    `value` its value; `values` holds submitted form fields by field id.
    `message_id` names the message the action was taken on, when there is one.
    """

    action_id: str
    value: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    form_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboundEvent:
    platform: str  # "slack" | "teams" | "console"
    workspace_id: str  # platform-qualified: "slack:T0123", "teams:<tenant id>", "console:local"
    event_id: str  # the platform's id for this delivery; the router de-duplicates on it
    kind: EventKind
    user: PersonRef
    conversation: Conversation
    text: str = ""
    message_id: str | None = None  # the platform id of the message, when there is one
    command: str | None = None  # for COMMAND: the command word without slash, e.g. "wol"
    action: Action | None = None
    # People the sender mentioned with the platform's picker (bot excluded), as `Mentioned`
    # with the tag that stands for them in `text`; MEMBER_JOINED lists the people who joined.
    mentions: tuple[PersonRef, ...] = ()
    mentions_bot: bool = False
    is_from_bot: bool = False  # sent by a bot (ours or another): ignored by default
    locale: str | None = None  # the person's locale as the platform reports it ("nl-NL")
    timezone: str | None = None  # IANA zone as the platform reports it, when it does
    # Opaque, JSON-serialisable data the adapter needs to answer later (Teams conversation
    # reference, Slack response_url/trigger_id). Stored by the router; never shown to people.
    reply_hints: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] | None = None  # conversation reference to store for proactive use
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def is_dm(self) -> bool:
        return self.conversation.kind is ConversationKind.DM


# -- storing an event (the inbox keeps the neutral event between acknowledging and handling) --
def event_to_json(event: InboundEvent) -> dict[str, Any]:
    """The event as JSON-serialisable data; `event_from_json` gives it back unchanged."""
    return {
        "platform": event.platform,
        "workspace_id": event.workspace_id,
        "event_id": event.event_id,
        "kind": event.kind.value,
        "user": _person_to_json(event.user),
        "conversation": {
            "id": event.conversation.id,
            "kind": event.conversation.kind.value,
            "name": event.conversation.name,
            "thread_id": event.conversation.thread_id,
        },
        "text": event.text,
        "message_id": event.message_id,
        "command": event.command,
        "action": None
        if event.action is None
        else {
            "action_id": event.action.action_id,
            "value": event.action.value,
            "values": dict(event.action.values),
            "message_id": event.action.message_id,
            "form_id": event.action.form_id,
        },
        "mentions": [_person_to_json(p) for p in event.mentions],
        "mentions_bot": event.mentions_bot,
        "is_from_bot": event.is_from_bot,
        "locale": event.locale,
        "timezone": event.timezone,
        "reply_hints": dict(event.reply_hints),
        "reference": event.reference,
        "received_at": event.received_at.isoformat(),
    }


def event_from_json(data: dict[str, Any]) -> InboundEvent:
    """The event `event_to_json` stored. Raises KeyError, TypeError or ValueError on data of
    another shape."""
    conv = data["conversation"]
    action = data.get("action")
    return InboundEvent(
        platform=str(data["platform"]),
        workspace_id=str(data["workspace_id"]),
        event_id=str(data["event_id"]),
        kind=EventKind(data["kind"]),
        user=_person_from_json(data["user"]),
        conversation=Conversation(
            id=str(conv["id"]),
            kind=ConversationKind(conv["kind"]),
            name=conv.get("name"),
            thread_id=conv.get("thread_id"),
        ),
        text=str(data.get("text") or ""),
        message_id=data.get("message_id"),
        command=data.get("command"),
        action=None
        if action is None
        else Action(
            action_id=str(action["action_id"]),
            value=action.get("value"),
            values=dict(action.get("values") or {}),
            message_id=action.get("message_id"),
            form_id=action.get("form_id"),
        ),
        mentions=tuple(_person_from_json(p) for p in data.get("mentions") or ()),
        mentions_bot=bool(data.get("mentions_bot")),
        is_from_bot=bool(data.get("is_from_bot")),
        locale=data.get("locale"),
        timezone=data.get("timezone"),
        reply_hints=dict(data.get("reply_hints") or {}),
        reference=data.get("reference"),
        received_at=datetime.fromisoformat(data["received_at"]),
    )


def _person_to_json(person: PersonRef) -> dict[str, Any]:
    found: dict[str, Any] = {"user_id": person.user_id, "display_name": person.display_name}
    if isinstance(person, Mentioned):
        found["tag"] = person.tag
    return found


def _person_from_json(data: dict[str, Any]) -> PersonRef:
    if "tag" in data:
        return Mentioned(str(data["user_id"]), data.get("display_name"), str(data["tag"]))
    return PersonRef(str(data["user_id"]), data.get("display_name"))
