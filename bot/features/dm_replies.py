"""Direct messages that are not narrations: a question gets a helpful answer ("who works on
X?" the answer of `/wol who X`, bot/features/who.py; others how to ask colleagues), thanks a
short one, small talk none (bot/features/dm_kinds.py tells them apart)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.features import ask_channels
from bot.features.commands import command_text
from bot.features.dm_kinds import DmKind, DmMessage
from bot.i18n import N_, CommandExample
from bot.langdetect import guess_language
from bot.messages import Context as ContextBlock
from bot.messages import OutboundMessage, Section, Strong, fill

if TYPE_CHECKING:
    from bot.context import Context
    from bot.events import InboundEvent

log = logging.getLogger(__name__)

WELCOME = N_("You're welcome!")
QUESTION = N_(
    "That sounds like a question for colleagues. Ask it with {ask} and I'll post it "
    "in the channel where anyone may ask anything ({anon} leaves your name out)."
)
QUESTION_NO_CHANNEL = N_(
    "That sounds like a question for colleagues, but there is no "
    "durf-te-vragen channel to ask it in yet: an admin can make one with "
    "{example}."
)
WHO_QUESTION = N_(
    "Who works on {topic}? Ask colleagues with {ask}, or tell me what you are "
    "working on yourself: when a colleague works on the same, I'll introduce "
    "you."
)
ONLY_NARRATIONS = N_("I keep only what you tell me you are working on, not questions.")


async def answer(
    event: InboundEvent, ctx: Context, text: str, kind: DmMessage, hint: OutboundMessage
) -> None:
    """Answer a DM that is no narration, in the language it was written in."""
    ctx.use_language(guess_language(text, ctx.t.lang))
    log.info("DM of kind %s not kept as a narration", kind.kind.value)
    if kind.kind is DmKind.SMALL_TALK:
        return
    if kind.kind is DmKind.THANKS:
        await ctx.respond(ctx.text(WELCOME))
        return
    if kind.kind is DmKind.QUESTION:
        await _question(event, ctx, text, kind.who_topic)
        return
    await ctx.respond(hint)  # a greeting or a few words: how to use the bot


async def _question(event: InboundEvent, ctx: Context, text: str, topic: str | None) -> None:
    nl = ctx.t.lang == "nl"
    if topic and ctx.hooks.colleague_finders:  # /wol who is there (bot/features/who.py)
        from bot.features.who import answer_who  # the same answer as /wol who <topic>

        await answer_who(ctx, topic)
        return
    question = " ".join(text.split())
    if len(question) > 80:
        question = question[:77].rstrip() + "…"
    ask = command_text(("vraag " if nl else "ask ") + question)
    anon = command_text("vraag anoniem …" if nl else "ask anon …")
    if not await ask_channels.exists(ctx.services, event.workspace_id):  # /wol ask would fail
        how = Strong(text=CommandExample.of(ask_channels.EX_ADD_DURF).render(ctx.t))
        first = Section(parts=fill(ctx.t.gettext(QUESTION_NO_CHANNEL), example=how))
    elif topic:
        first = Section(parts=fill(ctx.t.gettext(WHO_QUESTION), topic=Strong(text=topic), ask=ask))
    else:
        first = Section(parts=fill(ctx.t.gettext(QUESTION), ask=ask, anon=anon))
    await ctx.respond(
        OutboundMessage.of(first, ContextBlock(parts=(ctx.t.gettext(ONLY_NARRATIONS),)))
    )
