"""Narrations: people saying what they are working on, in channels, DMs and `/wol working on`.

The bot acknowledges quietly (see narration_ack.py; a short ephemeral line for commands) and
then calls the narration listeners (matching plugs in there), which answer in the
thread only when they have something useful to say.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.commands import Subcommand
from bot.errors import UserError
from bot.events import ConversationKind, EventKind, InboundEvent
from bot.features import dm_replies
from bot.features.commands import EX_HELP, example
from bot.features.dm_kinds import DmKind, DmMessage, classify
from bot.features.narration_ack import NOTED, acknowledge
from bot.features.narration_phrases import Phrase, match_phrase
from bot.i18n import N_
from bot.langdetect import guess_language
from bot.messages import OutboundMessage, Quote, Section, Strong, fill
from bot.router import Router, kind
from bot.store.tables import Narration
from bot.text import check_length, clean

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

log = logging.getLogger(__name__)

EMPTY = N_("Tell me what you are working on, for example: {example}")
EXAMPLE = N_("I'm working on the onboarding checklist for new colleagues")
DM_HINT = N_(
    "Tell me in a sentence or two what you are working on, and I'll keep it so "
    "colleagues can find you. Type {help} to see what else I can do."
)


def register(services: Services, router: Router) -> None:
    router.add(_channel_or_dm_message, on_message, name="narrations.message")
    router.add(kind(EventKind.MESSAGE_EDITED), on_edited, name="narrations.edited")
    router.add(kind(EventKind.MESSAGE_DELETED), on_deleted, name="narrations.deleted")
    router.commands.register(
        Subcommand(
            names={"en": ("working on", "narrate"), "nl": ("bezig met", "werk aan")},
            handler=on_command,
            summary=N_("Tell colleagues what you are working on"),
            usage=N_("<what you are working on>"),
            order=10,
        )
    )


def _channel_or_dm_message(event: InboundEvent) -> bool | None:
    return True if event.kind is EventKind.MESSAGE and not event.conversation.thread_id else None


async def on_message(event: InboundEvent, ctx: Context) -> None:
    text = clean(event.text)
    if event.is_dm:
        kind, phrase = dm_kind(ctx, text)
        if kind.kind is not DmKind.NARRATION:
            ctx.use_language(guess_language(text, ctx.t.lang))
            await dm_replies.answer(event, ctx, text, kind, ctx.text(DM_HINT, help=_help_word(ctx)))
            return
        await record_dm(event, ctx, text, phrase)
        return
    phrase = phrase_of(ctx, text)
    if phrase is None or not await _captures(ctx, event):
        return
    await record(event, ctx, text, phrase.topic, phrase.language, source="channel")


def dm_kind(ctx: Context, text: str) -> tuple[DmMessage, Phrase | None]:
    """What `text`, told the bot in the personal chat, is (a narration, a question, …:
    bot/features/dm_kinds.py), and the narration phrase it starts with."""
    phrase = phrase_of(ctx, text)
    kind = classify(
        text,
        min_words=ctx.settings.narrations.dm_min_words,
        narration_phrase=phrase is not None and bool(phrase.topic),
    )
    return kind, phrase


async def record_dm(
    event: InboundEvent, ctx: Context, text: str, phrase: Phrase | None
) -> Narration | None:
    """Record what `dm_kind` found a narration, as told in the personal chat: typed there,
    or in the check-in's form (bot/features/checkin_form.py)."""
    return await record(
        event,
        ctx,
        text,
        phrase.topic if phrase else text,
        phrase.language if phrase else None,
        source="dm",
    )


def phrase_of(ctx: Context, text: str) -> Phrase | None:
    """The narration phrase `text` starts with: built-in ones and the workspace's own."""
    extra = ctx.settings.workspace(ctx.event.workspace_id).narration_phrases
    return match_phrase(text, extra)


async def on_command(event: InboundEvent, ctx: Context, args: str) -> None:
    text = clean(args)
    await record(event, ctx, text, text, None, source="command")


async def record(
    event: InboundEvent, ctx: Context, text: str, topic: str, language: str | None, *, source: str
) -> Narration | None:
    """Validate, store, acknowledge and hand the narration to the listeners."""
    if language:
        ctx.use_language(language)
    if not topic.strip():
        raise UserError(EMPTY, example=ctx.t.gettext(EXAMPLE))
    check_length(text, ctx.settings.narrations.max_length)
    language = language or guess_language(topic, ctx.t.lang)
    ctx.use_language(language)
    conv = event.conversation
    narration = Narration(
        workspace_id=event.workspace_id,
        author_id=event.user.user_id,
        text=text,
        topic=topic,
        channel_id=conv.id,
        message_id=event.message_id if source != "command" else None,
        thread_id=conv.thread_id,
        visibility=_visibility(conv.kind),
        language=language,
        source=source,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    for prepare in ctx.hooks.narration_preparers:
        await prepare(narration, ctx)
    narration, created = await ctx.narrations.add(narration)
    if not created:
        if source != "command":
            # A retry of an event whose handling failed after the narration was stored (the
            # database went away): its acknowledgement may never have been queued. The outbox
            # key (event id) makes it a no-op when it was.
            await acknowledge(ctx, narration)
        return narration
    log.info(
        "narration %s recorded (%s, %s, %s)", narration.id, event.workspace_id, source, language
    )
    if source == "command":
        await ctx.respond(
            OutboundMessage.of(Section(parts=fill(ctx.t.gettext(NOTED))), Quote(text=topic))
        )
    else:
        await acknowledge(ctx, narration)
    for listener in ctx.hooks.narration_listeners:
        await listener(narration, ctx)
    return narration


async def on_edited(event: InboundEvent, ctx: Context) -> None:
    """An edited narration follows its message; editing the phrase away removes it; a plain
    channel message edited into "I'm working on …" becomes a narration, as if posted so."""
    repo = ctx.narrations
    existing = await repo.by_message(event.workspace_id, event.conversation.id, event.message_id)
    text = clean(event.text)
    phrase = phrase_of(ctx, text)
    if existing is None:
        if (
            not event.is_dm
            and phrase is not None
            and phrase.topic
            and len(text) <= ctx.settings.narrations.max_length
            and await _captures(ctx, event)
        ):
            await record(event, ctx, text, phrase.topic, phrase.language, source="channel")
        return
    if existing.source == "channel" and (phrase is None or not phrase.topic):
        await repo.delete(existing.id or 0)
        await _notify_removed(ctx, existing)
        return
    topic = phrase.topic if phrase else text
    if not topic or len(text) > ctx.settings.narrations.max_length:
        return  # keep the last good version rather than store an invalid one
    updated = await repo.update_text(existing.id or 0, text, topic, ctx.now)
    if updated is not None:
        for listener in ctx.hooks.narration_updated_listeners:
            await listener(updated, ctx)


async def on_deleted(event: InboundEvent, ctx: Context) -> None:
    repo = ctx.narrations
    existing = await repo.by_message(event.workspace_id, event.conversation.id, event.message_id)
    if existing is not None:
        await repo.delete(existing.id or 0)
        await _notify_removed(ctx, existing)


async def _notify_removed(ctx: Context, narration: Narration) -> None:
    log.info("narration %s removed with its message", narration.id)
    for listener in ctx.hooks.narration_removed_listeners:
        await listener(narration, ctx)


async def _captures(ctx: Context, event: InboundEvent) -> bool:
    """Narration capture in this channel (admin override > app.yaml > default: on)."""
    return bool(
        await ctx.config.value(
            event.workspace_id, "narrations.capture", event.conversation.id, event.conversation.name
        )
    )


def _visibility(kind_: ConversationKind) -> str:
    if kind_ is ConversationKind.PUBLIC:
        return "public"
    if kind_ is ConversationKind.DM:
        return "dm"
    return "private"


def _help_word(ctx: Context) -> Strong:
    return example(ctx.t, EX_HELP)
