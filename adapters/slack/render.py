"""Neutral `OutboundMessage` / `Form` -> Slack Block Kit JSON. Pure functions.

User text (a plain `str` part, a `Quote`, a `Strong`) is escaped with Slack's
three entities only (`&`, `<`, `>`), so `<!channel>` written by a person comes
out as visible text and never pings. People are mentioned with `<@U…>` only
when the core says so with a `Mention`. Every message also gets a plain-text
`text` fallback for notifications and screen readers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from bot.messages import (
    Actions,
    Button,
    Context,
    Divider,
    Form,
    Inline,
    Link,
    Mention,
    OutboundMessage,
    Quote,
    Section,
    Select,
    Strong,
    TextInput,
)

from .inbound import FORM_META_KEY

# Block Kit limits (https://api.slack.com/reference/block-kit)
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 3000
MAX_FALLBACK = 3000
MAX_BUTTON_LABEL = 75
MAX_VIEW_TITLE = 24
MAX_ACTIONS_ELEMENTS = 25
MAX_OPTIONS = 100
MAX_METADATA = 3000
_SAFE_SCHEMES = {"http", "https", "mailto"}


def escape(text: str) -> str:
    """Slack's escaping for literal text: `&`, `<` and `>` only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(parts: Iterable[Inline]) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(escape(part))
        elif isinstance(part, Mention):
            out.append(_mention(part))
        elif isinstance(part, Strong):
            # Slack only bolds when the asterisks touch the words: keep spaces outside them.
            text = part.text.strip()
            lead = part.text[: len(part.text) - len(part.text.lstrip())]
            trail = part.text[len(part.text.rstrip()) :]
            out.append(f"{lead}*{escape(text)}*{trail}" if text else part.text)
        elif isinstance(part, Link):
            out.append(_link(part))
    return "".join(out)


def render_message(message: OutboundMessage) -> dict[str, Any]:
    """`{"text": fallback, "blocks": [...]}`, ready for chat.postMessage / chat.update."""
    return {
        "text": fallback_text(message),
        "blocks": render_blocks(message, limit=MAX_MESSAGE_BLOCKS),
    }


def post_options(message: OutboundMessage, thread_ts: str | None) -> dict[str, Any]:
    """chat.postMessage arguments beyond the content: a thread reply the channel sees too."""
    return {"reply_broadcast": True} if message.broadcast and thread_ts else {}


def render_blocks(message: OutboundMessage, *, limit: int = MAX_MESSAGE_BLOCKS) -> list[dict]:
    ids = _ActionIds()
    blocks: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, Section):
            blocks.extend(_sections(mrkdwn(block.parts)))
        elif isinstance(block, Context):
            text = _clip(mrkdwn(block.parts), MAX_TEXT)
            if text:
                blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
        elif isinstance(block, Quote):
            blocks.extend(_sections(_quote(block)))
        elif isinstance(block, Actions):
            # a choice without options is invalid Block Kit (Slack refuses the whole message)
            usable = [
                e for e in block.elements if not isinstance(e, Select) or e.people or e.options
            ]
            elements = [_element(e, ids) for e in usable][:MAX_ACTIONS_ELEMENTS]
            if elements:
                blocks.append({"type": "actions", "elements": elements})
        elif isinstance(block, Divider):
            blocks.append({"type": "divider"})
    return blocks[:limit]


def fallback_text(message: OutboundMessage) -> str:
    """The notification text: readable without Block Kit, escaped, mentions kept live."""
    lines: list[str] = []
    for block in message.blocks:
        if isinstance(block, Section | Context):
            lines.append(mrkdwn(_unstyled(block.parts)).strip())
        elif isinstance(block, Quote):
            lines.append(_quote(block))
    text = "\n".join(line for line in lines if line)
    return _clip(text, MAX_FALLBACK) or " "


def render_form(
    form: Form,
    *,
    channel_id: str | None = None,
    thread_id: str | None = None,
    conversation_kind: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A modal view for views.open. Field ids become block and action ids, so the
    submission's values and any `response_action: errors` map back by field id."""
    blocks: list[dict[str, Any]] = []
    if form.intro:
        blocks.extend(_sections(mrkdwn(form.intro)))
    blocks.extend(_input(f) for f in form.fields)
    meta: dict[str, Any] = {FORM_META_KEY: 1, "m": form.private_metadata}
    if channel_id:
        meta["c"] = channel_id
    if thread_id:
        meta["t"] = thread_id
    if conversation_kind:
        meta["k"] = conversation_kind
    if message_id:
        meta["msg"] = message_id
    encoded = json.dumps(meta, separators=(",", ":"))
    if len(encoded) > MAX_METADATA:
        raise ValueError("form private_metadata too long for Slack (3000 characters)")
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "title": _plain(form.title, MAX_VIEW_TITLE),
        "submit": _plain(form.submit_label, MAX_VIEW_TITLE),
        "private_metadata": encoded,
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def render_home(message: OutboundMessage) -> dict[str, Any]:
    """An App Home view for views.publish."""
    return {"type": "home", "blocks": render_blocks(message, limit=MAX_VIEW_BLOCKS)}


def render_errors(errors: Mapping[str, str]) -> dict[str, Any]:
    """The ack body that shows field-level errors inside an open modal."""
    return {"response_action": "errors", "errors": {k: _clip(v, 150) for k, v in errors.items()}}


def emoji_name(emoji: str) -> str:
    """A neutral reaction name ("memo", ":memo:") as reactions.add expects it."""
    return emoji.strip().strip(":")


# --- pieces -----------------------------------------------------------------------------


def _mention(part: Mention) -> str:
    user_id = part.user_id
    if not user_id or user_id[0] not in "UW" or not user_id.isalnum():
        return escape(f"@{part.name or user_id}")  # not a Slack user id: show, never ping
    return f"<@{user_id}>"


def _link(part: Link) -> str:
    label = escape(part.label.replace("\n", " "))
    scheme = urlsplit(part.url).scheme.lower()
    if scheme not in _SAFE_SCHEMES:
        return label or escape(part.url)
    url = part.url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E")
    url = url.replace("|", "%7C").replace(" ", "%20")
    return f"<{url}|{label}>" if label else f"<{url}>"


def _quote(block: Quote) -> str:
    lines = [f">{' ' if line else ''}{escape(line)}" for line in block.text.splitlines() or [""]]
    if block.author:
        lines.append(f"— {_mention(block.author)}")
    return "\n".join(lines)


def _unstyled(parts: Iterable[Inline]) -> list[Inline]:
    return [p.text if isinstance(p, Strong) else p for p in parts]


def _sections(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in _chunks(text)
    ]


def _chunks(text: str) -> list[str]:
    """Split text longer than a section allows at line (or word) boundaries."""
    if not text.strip():
        return []
    chunks: list[str] = []
    while len(text) > MAX_TEXT:
        cut = text.rfind("\n", 0, MAX_TEXT)
        if cut <= 0:
            cut = text.rfind(" ", 0, MAX_TEXT)
        if cut <= 0:
            cut = MAX_TEXT
        # never cut inside an entity such as &amp; or <@U1>
        for opener, closer in (("&", ";"), ("<", ">")):
            start = text.rfind(opener, 0, cut)
            if start != -1 and text.find(closer, start) >= cut:
                cut = start
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        chunks.append(text)
    return chunks


def _element(element: Button | Select, ids: _ActionIds) -> dict[str, Any]:
    if isinstance(element, Button):
        out: dict[str, Any] = {
            "type": "button",
            "text": _plain(element.label, MAX_BUTTON_LABEL),
            "action_id": ids.unique(element.action_id),
            "value": element.value[:2000],
        }
        if element.style:
            out["style"] = element.style
        return out
    if element.people:
        return {
            "type": "users_select",
            "action_id": ids.unique(element.action_id),
            "placeholder": _plain(element.placeholder, 150),
        }
    return {
        "type": "static_select",
        "action_id": ids.unique(element.action_id),
        "placeholder": _plain(element.placeholder, 150),
        "options": [
            {"text": _plain(o.label, 75), "value": o.value[:150]}
            for o in element.options[:MAX_OPTIONS]
        ],
    }


def _input(field: TextInput) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": field.field_id,
        "multiline": field.multiline,
    }
    if field.initial:
        element["initial_value"] = field.initial[:3000]
    if field.placeholder:
        element["placeholder"] = _plain(field.placeholder, 150)
    if field.max_length:
        element["max_length"] = min(field.max_length, 3000)
    return {
        "type": "input",
        "block_id": field.field_id,
        "label": _plain(field.label, 2000),
        "optional": field.optional,
        "element": element,
    }


def _plain(text: str, limit: int) -> dict[str, Any]:
    # plain_text is shown literally by Slack: no escaping, only length limits.
    return {"type": "plain_text", "text": _clip(text, limit) or " ", "emoji": True}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _ActionIds:
    """Slack rejects a message whose action ids repeat; add `#n` (inbound strips it)."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def unique(self, action_id: str) -> str:
        count = self._seen.get(action_id, 0)
        self._seen[action_id] = count + 1
        return action_id if count == 0 else f"{action_id}#{count}"
