"""When the bot is added to a channel it introduces itself once, briefly, in the channel's
language. "Once" holds across re-invites, retries and replicas: the message is queued
under an idempotency key made from the channel, and the outbox stores a key only once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.events import EventKind, InboundEvent
from bot.features import help as help_feature
from bot.features.commands import command_text
from bot.i18n import N_
from bot.messages import OutboundMessage, Strong, fill

from .inbound import PLATFORM

if TYPE_CHECKING:
    from bot.context import Context

INTRO = N_(
    "Hi, I'm wolbot. I help this channel work out loud: start a message with {phrase} and "
    "I'll keep it, so colleagues working on the same thing can find you. Type {help} to "
    "see what else I can do."
)


def is_bot_added(event: InboundEvent) -> bool | None:
    ok = event.kind is EventKind.BOT_ADDED and event.platform == PLATFORM
    return True if ok and not event.is_dm else None


def intro_key(event: InboundEvent) -> str:
    return f"{event.workspace_id}:slack-intro:{event.conversation.id}"


async def introduce(event: InboundEvent, ctx: Context) -> None:
    t = ctx.channel_t.gettext
    help_word = "hulp" if ctx.channel_t.lang == "nl" else "help"
    message = OutboundMessage.text(
        *fill(
            t(INTRO),
            phrase=Strong(text=t(help_feature.NARRATE_PHRASE)),
            help=command_text(help_word),
        )
    )
    await ctx.core.outbox.send(
        event.platform, ctx.destination(thread=False), message, key=intro_key(event)
    )


def register(core: Any) -> None:
    core.router.add(is_bot_added, introduce, name="slack.introduce")
