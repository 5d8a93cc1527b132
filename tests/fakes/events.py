"""Factories for neutral inbound events (python-telegram-bot's message factories)."""

from __future__ import annotations

import itertools
from typing import Any

from adapters.console.inbound import mentions_in
from bot.events import Action, Conversation, ConversationKind, EventKind, InboundEvent, PersonRef

__all__ = ["Action", "ConversationKind", "EventKind", "click", "command", "dm", "message"]

_ids = itertools.count(1)
WORKSPACE = "test:T1"


def message(
    text: str,
    *,
    user: str = "alice",
    channel: str = "C1",
    kind: ConversationKind = ConversationKind.PUBLIC,
    thread_id: str | None = None,
    event_id: str | None = None,
    message_id: str | None = None,
    workspace_id: str = WORKSPACE,
    **extra: Any,
) -> InboundEvent:
    n = next(_ids)
    extra.setdefault("mentions", mentions_in(text))  # "@name" is a mention, as on the console
    return InboundEvent(
        platform="test",
        workspace_id=workspace_id,
        event_id=event_id or f"E{n}",
        kind=extra.pop("event_kind", EventKind.MESSAGE),
        user=PersonRef(user, user),
        conversation=Conversation(id=channel, kind=kind, name=channel, thread_id=thread_id),
        text=text,
        message_id=message_id or f"m{n}",
        **extra,
    )


def dm(text: str, *, user: str = "alice", **extra: Any) -> InboundEvent:
    return message(text, user=user, channel=f"D-{user}", kind=ConversationKind.DM, **extra)


def command(text: str, *, user: str = "alice", channel: str = "C1", **extra: Any) -> InboundEvent:
    n = next(_ids)
    extra.setdefault("mentions", mentions_in(text))
    return InboundEvent(
        platform="test",
        workspace_id=extra.pop("workspace_id", WORKSPACE),
        event_id=extra.pop("event_id", f"E{n}"),
        kind=EventKind.COMMAND,
        user=PersonRef(user, user),
        conversation=Conversation(
            id=channel,
            kind=extra.pop("kind", ConversationKind.PUBLIC),
            name=channel,
            thread_id=extra.pop("thread_id", None),
        ),
        command=extra.pop("command", "wol"),
        text=text,
        **extra,
    )


def click(
    action_id: str,
    value: str = "",
    *,
    user: str = "alice",
    channel: str = "C1",
    message_id: str = "M1",
    **extra: Any,
) -> InboundEvent:
    n = next(_ids)
    return InboundEvent(
        platform="test",
        workspace_id=extra.pop("workspace_id", WORKSPACE),
        event_id=f"E{n}",
        kind=EventKind.ACTION,
        user=PersonRef(user, user),
        conversation=Conversation(id=channel, kind=ConversationKind.PUBLIC, name=channel),
        action=Action(action_id=action_id, value=value, message_id=message_id),
        **extra,
    )
