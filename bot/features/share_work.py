"""Narrating from a form: "Narrate my work" and "Share as working out loud" on a message.

- "Narrate my work" (Slack's global shortcut `wol_narrate`, its App Home button, and the
  `narrate_button` under the welcome and the help in the personal chat, which Teams opens
  as a dialog) opens a form; its submission becomes a narration kept private (no channel:
  on Slack there is none, on Teams it is the personal chat).
- "Share as working out loud" on any message (Slack's message shortcut, Teams' message
  action, both `wol_share_message`) opens the same form filled with the message, so any
  message can become a narration in its conversation; when the sharer wrote the message,
  the narration follows its edits.
Field problems (empty, too long) are shown inside the form (Slack `response_action: errors`,
a Teams dialog shown again): the handler leaves them in `ctx.form_errors`.
Recording itself is `bot.features.narrations.record`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.authorisation import ANYONE
from bot.errors import UserError
from bot.events import InboundEvent
from bot.features import narrations
from bot.features.narration_ack import NOTED
from bot.features.narration_phrases import match_phrase, topicless
from bot.i18n import N_, Translator
from bot.messages import (
    Button,
    Form,
    OutboundMessage,
    Quote,
    Section,
    TextInput,
    fill,
    plain,
)
from bot.router import Router, form, shortcut
from bot.text import clean

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

NARRATE_SHORTCUT = "wol_narrate"
SHARE_SHORTCUT = "wol_share_message"
NARRATE_BUTTON = "wol_open_narrate"
NARRATE_FORM = "wol_narrate"
TEXT_FIELD = "text"
MIN_WORDS = 2

TITLE = N_("Narrate my work")
SHARE_TITLE = N_("Share your work")
SUBMIT = N_("Share")
INTRO = N_("What are you working on? Colleagues who work on something similar can then find you.")
SHARE_INTRO = N_("Share this message as what you are working on. You can edit the text first.")
LABEL = N_("I'm working on…")
TOO_SHORT = N_("Tell me in a few words what you are working on.")


def narrate_button(t: Translator) -> Button:
    """The "Narrate my work" button: its click opens `narrate_form` (a Slack modal, a
    Teams dialog). Only in the personal chat and Slack's App Home, where the narration
    stays private."""
    return Button(
        label=t.gettext(TITLE), action_id=NARRATE_BUTTON, style="primary", opens_form=True
    )


def narrate_form(ctx: Context, *, initial: str = "", share: str | None = None) -> Form:
    t = ctx.t.gettext
    return Form(
        form_id=NARRATE_FORM,
        title=t(SHARE_TITLE if share else TITLE),
        submit_label=t(SUBMIT),
        intro=(t(SHARE_INTRO if share else INTRO),),
        fields=(
            TextInput(
                field_id=TEXT_FIELD,
                label=t(LABEL),
                multiline=True,
                initial=initial[: ctx.settings.narrations.max_length],
                placeholder=t(narrations.EXAMPLE)[:150],
                max_length=min(ctx.settings.narrations.max_length, 3000),
            ),
        ),
        private_metadata=share or "",
    )


async def open_narrate(event: InboundEvent, ctx: Context) -> None:
    await ctx.open_form(narrate_form(ctx))


async def open_share(event: InboundEvent, ctx: Context) -> None:
    action = event.action
    author = action.value if action else None
    share = json.dumps({"author": author, "ts": action.message_id if action else None})
    await ctx.open_form(narrate_form(ctx, initial=event.text, share=share))


async def submit_narration(event: InboundEvent, ctx: Context) -> None:
    """The modal's submission: validate, then let the core record it."""
    values = event.action.values if event.action else {}
    text = clean(values.get(TEXT_FIELD, ""))
    phrase = match_phrase(text)
    topic = phrase.topic if phrase else text
    if len(topic.split()) < MIN_WORDS or topicless(text):
        ctx.form_errors[TEXT_FIELD] = ctx.t.gettext(TOO_SHORT)
        return
    shared = _share_origin(event)
    recorded_event = event
    if shared.get("ts") and shared.get("author") == event.user.user_id:
        # the author's own message: the narration follows its edits and deletion
        recorded_event = replace(event, message_id=shared["ts"])
    try:
        narration = await narrations.record(
            recorded_event,
            ctx,
            text,
            topic,
            phrase.language if phrase else None,
            source="shortcut",
        )
    except UserError as exc:
        ctx.form_errors[TEXT_FIELD] = plain(exc.parts(ctx.t))
        return
    if narration is not None:
        await ctx.respond(
            OutboundMessage.of(Section(parts=fill(ctx.t.gettext(NOTED))), Quote(text=topic))
        )


def _share_origin(event: InboundEvent) -> dict[str, Any]:
    raw = event.action.value if event.action else None
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def register(services: Services, router: Router) -> None:
    # A form for the clicker, and what they submit recorded as theirs (a shared message
    # follows its edits only when the clicker wrote it: _share_origin's author).
    router.add(
        shortcut(NARRATE_SHORTCUT, NARRATE_BUTTON), open_narrate, name="share.narrate", who=ANYONE
    )
    router.add(shortcut(SHARE_SHORTCUT), open_share, name="share.message", who=ANYONE)
    router.add(form(NARRATE_FORM), submit_narration, name="share.narrate_submit", who=ANYONE)
