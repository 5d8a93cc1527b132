"""Neutral `OutboundMessage` / `Form` → Bot Framework message activity with an Adaptive Card.

Pure functions, no SDK. Every plain `str` part is user text: it is escaped so it
cannot inject markdown, HTML or `<at>` mentions. People are mentioned with real
mention entities (`msteams.entities`), which is what makes Teams notify them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from adapters.teams.inbound import (
    ACTION_KEY,
    DIALOG_KEY,
    FORM_KEY,
    META_KEY,
    PEOPLE_KEY,
    SELECT_KEY,
    VALUE_KEY,
)
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
    plain,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
SUMMARY_LIMIT = 200
REFRESH_USER_LIMIT = 60  # Teams refreshes a card automatically for at most 60 users
# Neutral reaction names (as Slack spells them) and the emoji a Teams reply uses instead.
REACTION_EMOJI = {
    "memo": "📝",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "tada": "🎉",
    "+1": "👍",
    "thumbsup": "👍",
    "heart": "❤️",
    "eyes": "👀",
    "raised_hands": "🙌",
    "clap": "👏",
    "wave": "👋",
    "bulb": "💡",
    "star": "⭐",
    "pray": "🙏",
    "sparkles": "✨",
    "handshake": "🤝",
}
_SELECT_SUBMIT_LABEL = "OK"  # the same word in Dutch and English

# Characters Teams' card markdown gives a meaning to; "<" ">" "&" become entities.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]()~|{}])")
_LINE_START_MARKERS = re.compile(r"^(\s*)([#+\-=])", re.MULTILINE)
_ORDERED_LIST_MARKER = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)
_SAFE_SCHEMES = {"http", "https", "mailto"}


def escape_text(text: str) -> str:
    """Make user text literal in an Adaptive Card TextBlock."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIALS.sub(r"\\\1", text)
    text = _LINE_START_MARKERS.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return _ORDERED_LIST_MARKER.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def safe_url(url: str) -> str | None:
    """Only http(s)/mailto links, with characters that would end the markdown link encoded."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    if scheme not in _SAFE_SCHEMES:
        return None
    return quote(url.strip(), safe=":/?#[]@!$&'*+,;=%-._~")


class _Mentions:
    """Collects mention entities while inline parts are rendered."""

    def __init__(self) -> None:
        self.entities: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str]] = set()

    def tag(self, mention: Mention) -> str:
        name = escape_text(mention.name or mention.user_id)
        tag = f"<at>{name}</at>"
        if (mention.user_id, tag) not in self._seen:
            self._seen.add((mention.user_id, tag))
            self.entities.append(
                {
                    "type": "mention",
                    "text": tag,
                    "mentioned": {"id": mention.user_id, "name": mention.name or mention.user_id},
                }
            )
        return tag


def inline_markdown(parts: tuple[Inline, ...], mentions: _Mentions) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(escape_text(part))
        elif isinstance(part, Mention):
            out.append(mentions.tag(part))
        elif isinstance(part, Strong):
            out.append(f"**{escape_text(part.text)}**")
        elif isinstance(part, Link):
            url = safe_url(part.url)
            label = escape_text(part.label)
            out.append(f"[{label}]({url})" if url else label)
    return "".join(out)


def render_card(message: OutboundMessage) -> dict[str, Any]:
    """The Adaptive Card (schema 1.5) for a message, mention entities included."""
    mentions = _Mentions()
    body: list[dict[str, Any]] = []
    separator = False
    refresh = message.refresh
    per_viewer = refresh is not None and bool(refresh.viewers)
    for block in message.blocks:
        element: dict[str, Any] | None = None
        elements: list[dict[str, Any]] = []
        if isinstance(block, Section):
            element = _text_block(inline_markdown(block.parts, mentions))
        elif isinstance(block, Context):
            element = _text_block(inline_markdown(block.parts, mentions))
            element.update(size="Small", isSubtle=True)
        elif isinstance(block, Quote):
            items = [_text_block(escape_text(block.text))]
            if block.author:
                author = _text_block("— " + mentions.tag(block.author))
                author.update(size="Small", isSubtle=True)
                items.append(author)
            element = {"type": "Container", "style": "emphasis", "items": items}
        elif isinstance(block, Actions):
            if block.viewers_only and per_viewer:
                continue  # only in each viewer's own version (see `refresh`)
            elements = _action_elements(block)
        elif isinstance(block, Divider):
            separator = True
            continue
        if element is not None:
            elements = [element]
        if not elements:
            continue
        if separator:
            elements[0]["separator"] = True
            separator = False
        body.extend(elements)
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "fallbackText": message.plain_text(),
        "msteams": {"width": "Full"},
    }
    if mentions.entities:
        card["msteams"]["entities"] = mentions.entities
    if refresh is not None and refresh.viewers:
        # Universal Actions: Teams asks the bot for the card of each listed viewer.
        card["refresh"] = {
            "action": {
                "type": "Action.Execute",
                "verb": refresh.action_id,
                "data": {ACTION_KEY: refresh.action_id, VALUE_KEY: refresh.value},
            },
            "userIds": list(refresh.viewers[:REFRESH_USER_LIMIT]),
        }
    return card


def render_activity(message: OutboundMessage) -> dict[str, Any]:
    """A message activity: the card, plus a plain-text summary for notifications."""
    return {
        "type": "message",
        "summary": _summary(message.plain_text()),
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": render_card(message)}],
    }


def render_form_card(
    form: Form, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """The card of a Teams dialog: the form's inputs, `values` as entered, `errors` under
    their fields. Its submit carries the form itself, so the dialog can be shown again."""
    mentions = _Mentions()
    values, errors = values or {}, errors or {}
    body: list[dict[str, Any]] = [
        {**_text_block(escape_text(form.title)), "weight": "Bolder", "size": "Medium"}
    ]
    if form.intro:
        body.append(_text_block(inline_markdown(form.intro, mentions)))
    for field in form.fields:
        element: dict[str, Any] = {
            "type": "Input.Text",
            "id": field.field_id,
            "label": field.label,
            "isMultiline": field.multiline,
            "isRequired": not field.optional,
        }
        value = values.get(field.field_id, field.initial)
        if value:
            element["value"] = value
        if field.placeholder:
            element["placeholder"] = field.placeholder
        if field.max_length:
            element["maxLength"] = field.max_length
        body.append(element)
        if field.field_id in errors:
            body.append(
                {
                    **_text_block(escape_text(errors[field.field_id])),
                    "color": "Attention",
                    "size": "Small",
                    "spacing": "None",
                }
            )
    submit = {
        "type": "Action.Submit",
        "title": form.submit_label,
        "style": "positive",
        "data": {
            FORM_KEY: form.form_id,
            META_KEY: form.private_metadata,
            DIALOG_KEY: form.model_dump(mode="json"),
        },
    }
    fallback = "\n".join([form.title, plain(form.intro), *(f.label for f in form.fields)])
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "actions": [submit],
        "fallbackText": fallback.strip(),
        "msteams": {"width": "Full"},
    }
    if mentions.entities:
        card["msteams"]["entities"] = mentions.entities
    return card


def render_dialog(
    form: Form, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """A task module response opening (or showing again) the form as a Teams dialog."""
    return {
        "task": {
            "type": "continue",
            "value": {
                "title": form.title,
                "card": {
                    "contentType": CARD_CONTENT_TYPE,
                    "content": render_form_card(form, values=values, errors=errors),
                },
            },
        }
    }


def render_form_activity(form: Form) -> dict[str, Any]:
    """A form the bot opens on its own (not as a click's answer): Teams opens dialogs only
    from a click, so the chat gets a card whose button opens the form as a dialog."""
    mentions = _Mentions()
    body = [{**_text_block(escape_text(form.title)), "weight": "Bolder", "size": "Medium"}]
    if form.intro:
        body.append(_text_block(inline_markdown(form.intro, mentions)))
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "actions": [
            {
                "type": "Action.Submit",
                "title": form.title,
                "style": "positive",
                "data": {
                    "msteams": {"type": "task/fetch"},
                    DIALOG_KEY: form.model_dump(mode="json"),
                },
            }
        ],
        "fallbackText": "\n".join([form.title, plain(form.intro)]).strip(),
        "msteams": {"width": "Full"},
    }
    if mentions.entities:
        card["msteams"]["entities"] = mentions.entities
    return {
        "type": "message",
        "summary": _summary(form.title),
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }


def _action_elements(block: Actions) -> list[dict[str, Any]]:
    """Buttons become an ActionSet; each Select an Input.ChoiceSet with its own OK button."""
    body: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for element in block.elements:
        if isinstance(element, Button) and element.opens_form:
            # Only a task/fetch click can open a dialog (Action.Execute cannot).
            action: dict[str, Any] = {
                "type": "Action.Submit",
                "title": element.label,
                "associatedInputs": "none",
                "data": {
                    "msteams": {"type": "task/fetch"},
                    ACTION_KEY: element.action_id,
                    VALUE_KEY: element.value,
                },
            }
            actions.append(action)
        elif isinstance(element, Button):
            action = {
                "type": "Action.Execute",
                "title": element.label,
                "verb": element.action_id,
                "associatedInputs": "none",
                "data": {ACTION_KEY: element.action_id, VALUE_KEY: element.value},
            }
            if element.style == "primary":
                action["style"] = "positive"
            elif element.style == "danger":
                action["style"] = "destructive"
            actions.append(action)
        elif isinstance(element, Select):
            body.append(_choice_set(element))
            data = {ACTION_KEY: element.action_id, SELECT_KEY: element.action_id}
            if element.people:
                data[PEOPLE_KEY] = "1"
            actions.append(
                {
                    "type": "Action.Execute",
                    "title": _SELECT_SUBMIT_LABEL,
                    "verb": element.action_id,
                    "data": data,
                }
            )
    if actions:
        body.append({"type": "ActionSet", "actions": actions})
    return body


def _choice_set(select: Select) -> dict[str, Any]:
    choice: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": select.action_id,
        "placeholder": select.placeholder,
        "style": "compact",
        "choices": [{"title": o.label, "value": o.value} for o in select.options],
    }
    if select.people:
        # Teams' people picker: searches the organisation's directory.
        choice["choices.data"] = {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    return choice


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True}


def _summary(text: str) -> str:
    first = " ".join(text.split())
    return first if len(first) <= SUMMARY_LIMIT else first[: SUMMARY_LIMIT - 1] + "…"
