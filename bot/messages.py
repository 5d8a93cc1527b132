"""The one neutral outbound message every adapter renders its own way.

A message is a tuple of blocks; text inside blocks is a tuple of inline parts.
A plain `str` part is *literal text*: adapters escape it, so user text can never
inject markup or mentions. People are mentioned with `Mention`, never by
formatting a platform string. Messages are pydantic models so the outbox can
store them as JSON and load them back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True)


class Mention(_Part):
    """A person, rendered as a real, notifying mention on platforms that have them."""

    type: Literal["mention"] = "mention"
    user_id: str
    name: str | None = None


class Strong(_Part):
    type: Literal["strong"] = "strong"
    text: str


class Link(_Part):
    type: Literal["link"] = "link"
    url: str
    label: str


Inline = str | Mention | Strong | Link
Parts = tuple[Inline, ...]


class Section(_Part):
    """A paragraph of text."""

    type: Literal["section"] = "section"
    parts: Parts


class Context(_Part):
    """A small, secondary line (who, when, hints)."""

    type: Literal["context"] = "context"
    parts: Parts


class Quote(_Part):
    """Somebody's own words, quoted verbatim (and escaped) with an optional attribution."""

    type: Literal["quote"] = "quote"
    text: str
    author: Mention | None = None


class Button(_Part):
    type: Literal["button"] = "button"
    label: str
    action_id: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None
    # The click opens a form: platforms that open a dialog only as the click's own answer
    # (Teams) have to render such a button differently.
    opens_form: bool = False


class Option(_Part):
    label: str
    value: str


class Select(_Part):
    """A choice among options, or of a person when `people` is true."""

    type: Literal["select"] = "select"
    action_id: str
    placeholder: str
    options: tuple[Option, ...] = ()
    people: bool = False


class Actions(_Part):
    type: Literal["actions"] = "actions"
    elements: tuple[Annotated[Button | Select, Field(discriminator="type")], ...]
    # Buttons meant for the message's `refresh.viewers` only: platforms that render a message
    # per viewer leave them out of the version everyone else sees; others show them to all.
    viewers_only: bool = False


class Divider(_Part):
    type: Literal["divider"] = "divider"


Block = Annotated[Section | Context | Quote | Actions | Divider, Field(discriminator="type")]


class Refresh(_Part):
    """The message shows state and can be rendered again, for each viewer.

    A platform that renders a message per viewer asks the bot again with `action_id` and
    `value` when one of `viewers` (at most 60 are used) looks at it, and shows that person
    the answer (`Context.show`); everyone else, and every other platform, sees the message
    as sent, which the bot keeps current by updating it in place after a change.
    """

    action_id: str
    value: str = ""
    viewers: tuple[str, ...] = ()


class OutboundMessage(_Part):
    blocks: tuple[Block, ...]
    # A reply in a thread that the whole channel should see too (a round's summary): Slack
    # posts it with reply_broadcast; platforms without that show it in the thread only.
    broadcast: bool = False
    refresh: Refresh | None = None

    @classmethod
    def of(cls, *blocks: Section | Context | Quote | Actions | Divider) -> OutboundMessage:
        return cls(blocks=blocks)

    @classmethod
    def text(cls, *parts: Inline) -> OutboundMessage:
        return cls(blocks=(Section(parts=parts),))

    def plain_text(self) -> str:
        """A readable text rendering: the fallback for notifications and the console."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Section | Context):
                lines.append(plain(block.parts))
            elif isinstance(block, Quote):
                who = f" — {plain((block.author,))}" if block.author else ""
                lines.extend(f"> {line}" for line in block.text.splitlines() or [""])
                if who:
                    lines.append(who.strip())
            elif isinstance(block, Actions):
                labels = [
                    f"[{e.label}]" if isinstance(e, Button) else f"[{e.placeholder} ▾]"
                    for e in block.elements
                ]
                lines.append(" ".join(labels))
            elif isinstance(block, Divider):
                lines.append("---")
        return "\n".join(lines)

    def mentioned_user_ids(self) -> tuple[str, ...]:
        found: list[str] = []
        for block in self.blocks:
            parts: Iterable[Inline] = ()
            if isinstance(block, Section | Context):
                parts = block.parts
            elif isinstance(block, Quote) and block.author:
                parts = (block.author,)
            for part in parts:
                if isinstance(part, Mention) and part.user_id not in found:
                    found.append(part.user_id)
        return tuple(found)


class TextInput(_Part):
    type: Literal["text_input"] = "text_input"
    field_id: str
    label: str
    multiline: bool = False
    initial: str = ""
    placeholder: str = ""
    max_length: int | None = None
    optional: bool = False


class Form(_Part):
    """A modal (Slack) or task module / card form (Teams) asking for a few fields."""

    form_id: str
    title: str
    submit_label: str
    fields: tuple[TextInput, ...]
    intro: Parts = ()
    private_metadata: str = ""
    # What an adapter without forms (the console) says instead, in the reader's language.
    elsewhere: str = ""


def plain(parts: Iterable[Inline]) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Mention):
            out.append(f"@{part.name or part.user_id}")
        elif isinstance(part, Strong):
            out.append(part.text)
        elif isinstance(part, Link):
            out.append(f"{part.label} ({part.url})")
    return "".join(out)


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def fill(template: str, **values: Inline | int | Parts) -> Parts:
    """Split a translated template at `{name}` placeholders into inline parts.

    `fill(_("Similar work: {person}"), person=Mention(user_id="U1"))` keeps the
    mention a typed part, so translators can move it while it stays a real mention.
    Unknown placeholders are left as written rather than raising, so a translation
    mistake degrades to visible text instead of a crash.
    """
    parts: list[Inline] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name not in values:
            continue
        if match.start() > pos:
            parts.append(template[pos : match.start()])
        value = values[name]
        if isinstance(value, tuple):
            parts.extend(value)
        else:
            parts.append(str(value) if isinstance(value, int) else value)
        pos = match.end()
    if pos < len(template):
        parts.append(template[pos:])
    return _merge_text(parts)


def listed(items: Sequence[Inline], and_word: str) -> Parts:
    """ "a", "a and b", "a, b and c" (`and_word` translated, with its spaces: " and ")."""
    parts: list[Inline] = []
    for i, item in enumerate(items):
        if i:
            parts.append(and_word if i == len(items) - 1 else ", ")
        parts.append(item)
    return _merge_text(parts)


def _merge_text(parts: list[Inline]) -> Parts:
    merged: list[Inline] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + part
        elif part != "":
            merged.append(part)
    return tuple(merged)
