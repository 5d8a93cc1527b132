"""Console lines → InboundEvents. Pure: the state (who speaks, where) is passed in and returned.

A line may start with `@name` (who speaks) and/or `#channel` (where; `#dm` is a direct
message with the bot, `#private-…` a private channel); both persist for later lines.
`/wol …` is a slash command, `> text` replies in the thread of the conversation's last
message (a person's or the bot's), `!N` clicks button N, `!N @name` picks a person in
choice N and `!N option` picks an option.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial

from bot.events import (
    Action,
    Conversation,
    ConversationKind,
    EventKind,
    InboundEvent,
    Mentioned,
    PersonRef,
)
from bot.features.references import BROADCASTS
from bot.validation import checked

PLATFORM = "console"
_PREFIX = re.compile(r"^\s*(?:(@[\w.\-]+)|(#[\w.\-]+))\s*")
_SLASH = re.compile(r"^/([a-z][\w-]*)\s*(.*)$", re.DOTALL | re.IGNORECASE)
_CLICK = re.compile(r"^!(\d{1,7})(?:\s+(.*))?$", re.DOTALL)
# "@name" at the start or after a space or "(,;:" — not inside "<@x>", "a@b" or "@@x"
_AT = re.compile(r"(?:^|(?<=[\s(,;:]))@(\w(?:[\w.\-]*\w)?)")


def mentions_in(text: str) -> tuple[PersonRef, ...]:
    """The console's mentions: every `@name` in the line (the console has no picker, so
    typing the name is picking the person). `@channel`, `@here` and `@everyone` address
    everybody and name nobody."""
    seen: dict[str, PersonRef] = {}
    for name in _AT.findall(text):
        if name.lower() not in BROADCASTS and name not in seen:
            seen[name] = Mentioned(user_id=name, display_name=name, tag=f"@{name}")
    return tuple(seen.values())


@dataclass(frozen=True)
class ButtonRef:
    """A numbered button or choice the console showed."""

    action_id: str
    value: str
    message_id: str
    channel: str
    thread_id: str | None
    kind: str = "button"  # button | people | options
    options: tuple[tuple[str, str], ...] = ()  # (label, value) of an options choice


@dataclass(frozen=True)
class ConsoleState:
    workspace: str
    user: str
    channel: str
    # conversation id -> id of its last top-level message (typed, or posted by the bot)
    last_message: dict[str, str] = field(default_factory=dict)
    buttons: Mapping[int, ButtonRef] = field(default_factory=dict)  # number -> button


def click_number(line: str) -> int | None:
    """The button number of a `!N …` line (after any @name / #channel prefixes)."""
    m = _CLICK.match(split_prefixes(line)[1])
    return int(m.group(1)) if m else None


def split_prefixes(line: str, state: ConsoleState | None = None) -> tuple[ConsoleState | None, str]:
    """The state after the line's `@name` / `#channel` prefixes, and the rest of the line."""
    rest = line.rstrip("\n")
    while True:
        m = _PREFIX.match(rest)
        if not m:
            break
        if state is not None:
            if m.group(1):
                state = replace(state, user=m.group(1)[1:])
            else:
                state = replace(state, channel=m.group(2)[1:].lower())
        rest = rest[m.end() :]
    return state, rest.strip()


def _chosen(button: ButtonRef, argument: str) -> str | None:
    """The value a click sends: a button's own, the person of `!N @name`, an option's value."""
    if button.kind == "button":
        return button.value
    argument = argument.strip()
    if button.kind == "people":
        name = argument.removeprefix("@").strip()
        return name if re.fullmatch(r"[\w.\-]+", name) else None
    wanted = argument.lower()
    for label, value in button.options:
        if wanted in (label.lower(), value.lower()):
            return value
    return None


def conversation_for(state: ConsoleState, thread_id: str | None = None) -> Conversation:
    if state.channel == "dm":
        return Conversation(
            id=f"dm:{state.user}", kind=ConversationKind.DM, name="dm", thread_id=thread_id
        )
    kind = (
        ConversationKind.PRIVATE
        if state.channel.startswith("private-")
        else ConversationKind.PUBLIC
    )
    return Conversation(id=state.channel, kind=kind, name=state.channel, thread_id=thread_id)


def parse_line(line: str, state: ConsoleState) -> tuple[InboundEvent | None, ConsoleState]:
    """The event a typed line means (None for a line that only switches person or place), with
    NUL characters removed (PostgreSQL cannot store them), and the state for the next line."""
    event, state = _parse_line(line, state)
    return (None if event is None else checked(event)), state


def _parse_line(line: str, state: ConsoleState) -> tuple[InboundEvent | None, ConsoleState]:
    after, text = split_prefixes(line, state)
    assert after is not None
    state = after
    if not text:
        return None, state
    workspace_id = f"{PLATFORM}:{state.workspace}"
    user = PersonRef(user_id=state.user, display_name=state.user)
    event_id = uuid.uuid4().hex
    new_event = partial(
        InboundEvent, platform=PLATFORM, workspace_id=workspace_id, event_id=event_id, user=user
    )

    click = _CLICK.match(text)
    if click:
        button = state.buttons.get(int(click.group(1)))
        value = _chosen(button, click.group(2) or "") if button is not None else None
        if button is None or value is None:
            return None, state
        conv = replace(
            conversation_for(replace(state, channel=button.channel)), thread_id=button.thread_id
        )
        action = Action(action_id=button.action_id, value=value, message_id=button.message_id)
        return new_event(kind=EventKind.ACTION, conversation=conv, action=action), state

    slash = _SLASH.match(text)
    if slash:
        event = new_event(
            kind=EventKind.COMMAND,
            conversation=conversation_for(state),
            command=slash.group(1).lower(),
            text=slash.group(2).strip(),
            mentions=mentions_in(slash.group(2)),
        )
        return event, state

    message_id = f"m{uuid.uuid4().hex[:12]}"
    thread_id = None
    where = conversation_for(state).id
    if text.startswith(">"):
        thread_id = state.last_message.get(where)
        text = text[1:].strip()
        if not text:
            return None, state
    else:
        state = replace(state, last_message={**state.last_message, where: message_id})
    event = new_event(
        kind=EventKind.MESSAGE,
        conversation=conversation_for(state, thread_id),
        text=text,
        message_id=message_id,
        mentions=mentions_in(text),
    )
    return event, state
