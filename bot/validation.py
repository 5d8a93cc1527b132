"""The last check on an `InboundEvent` an adapter built from a platform payload.

The adapters read payloads leniently (`.get(...)`), so a malformed or hostile payload can
produce an event whose ids are not strings, are megabytes long, or hold control
characters, which would fail deep inside the core or the database (PostgreSQL refuses NUL
in text). `checked(event)` refuses such an event with `MalformedEvent` (the adapter
answers 400 and drops it) and strips NUL characters from free text, so what reaches the
core has the types the dataclasses promise.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from bot.events import Action, InboundEvent, Mentioned, PersonRef

MAX_ID = 255  # platform ids, names, locales: Slack's and Teams' are far shorter
MAX_TEXT = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MalformedEvent(ValueError):
    """A platform payload that cannot be a real request: refused, never retried."""


def checked(event: InboundEvent) -> InboundEvent:
    """`event` when every field has its type and a sane size (NULs removed from text), or
    MalformedEvent naming the first field that is wrong."""
    _id("workspace_id", event.workspace_id)
    _id("event_id", event.event_id)
    _person("user", event.user)
    conv = event.conversation
    _id("conversation.id", conv.id, empty=True)
    _name("conversation.name", conv.name)
    _id("conversation.thread_id", conv.thread_id, optional=True)
    _id("message_id", event.message_id, optional=True)
    _name("command", event.command)
    _name("locale", event.locale)
    _name("timezone", event.timezone)
    if not isinstance(event.mentions, tuple):
        raise MalformedEvent("mentions")
    for person in event.mentions:
        _person("mentions", person)
    if not isinstance(event.reply_hints, dict) or not (
        event.reference is None or isinstance(event.reference, dict)
    ):
        raise MalformedEvent("reply_hints")
    text = _text("text", event.text)
    action = _action(event.action) if event.action is not None else None
    if text is event.text and action is event.action:
        return event
    return replace(event, text=text, action=action)


def _id(field: str, value: Any, *, optional: bool = False, empty: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or len(value) > MAX_ID or _CONTROL.search(value):
        raise MalformedEvent(field)
    if not value and not empty:
        raise MalformedEvent(field)


def _name(field: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or len(value) > MAX_ID or "\x00" in value:
        raise MalformedEvent(field)


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise MalformedEvent(field)
    return value.replace("\x00", "") if "\x00" in value else value


def _person(field: str, person: Any) -> None:
    if not isinstance(person, PersonRef):
        raise MalformedEvent(field)
    _id(f"{field}.user_id", person.user_id)
    _name(f"{field}.display_name", person.display_name)
    if isinstance(person, Mentioned):
        _name(f"{field}.tag", person.tag)


def _action(action: Any) -> Action:
    if not isinstance(action, Action):
        raise MalformedEvent("action")
    _name("action.action_id", action.action_id)
    if action.action_id is None:
        raise MalformedEvent("action.action_id")
    _id("action.message_id", action.message_id, optional=True)
    _name("action.form_id", action.form_id)
    value = None if action.value is None else _text("action.value", action.value)
    if not isinstance(action.values, dict):
        raise MalformedEvent("action.values")
    values = {}
    for key, item in action.values.items():
        _name("action.values", key)
        values[key] = _text("action.values", item)
    if value == action.value and values == action.values:
        return action
    return replace(action, value=value, values=values)


MAX_ID_DIGITS = 18  # below 2**63: what SQLite and PostgreSQL integer keys hold


def as_number(text: str | None) -> int | None:
    """A row id or count typed or carried in a button ("12", "#12"), or None. Only ASCII
    digits: `"²".isdigit()` is True but int("²") fails, and a 5,000-digit number (or one
    beyond 2**63, which the database refuses) is no id either."""
    if not text:
        return None
    text = text.removeprefix("#")
    if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
        return None
    return int(text)
