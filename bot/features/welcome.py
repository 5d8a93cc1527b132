"""When the bot joins a channel, team, group chat or personal chat, it introduces itself
once, briefly, in that conversation's language; in the personal chat with the "Narrate my
work" button (share_work.narrate_button). "Once" holds across re-installs, retries and
replicas: the message is queued under an idempotency key made from the conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.events import EventKind, InboundEvent
from bot.features import help as help_feature
from bot.features.commands import EX_HELP, example
from bot.features.share_work import narrate_button
from bot.i18n import N_
from bot.messages import Actions, OutboundMessage, Section, Strong, fill
from bot.router import Router, kind

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

CHANNEL_INTRO = N_(
    "Hi, I'm wolbot. I help this channel work out loud: start a message with {phrase} and "
    "I'll keep it, so colleagues working on the same thing can find you. Type {help} to "
    "see what else I can do."
)
PERSONAL_INTRO = N_(
    "Hi, I'm wolbot. Tell me in a sentence or two what you are working on, and I'll help "
    "colleagues who work on the same thing find you. Type {help} to see what else I can do."
)


def register(services: Services, router: Router) -> None:
    router.add(kind(EventKind.BOT_ADDED), introduce, name="welcome")


def intro_key(event: InboundEvent) -> str:
    return f"{event.workspace_id}:intro:{event.conversation.id}"


async def introduce(event: InboundEvent, ctx: Context) -> None:
    translator = ctx.t if event.is_dm else ctx.channel_t
    t = translator.gettext
    template = PERSONAL_INTRO if event.is_dm else CHANNEL_INTRO
    intro = Section(
        parts=fill(
            t(template),
            phrase=Strong(text=t(help_feature.NARRATE_PHRASE)),
            help=example(translator, EX_HELP),
        )
    )
    # in the personal chat the form is one click away; the narration stays private there
    button = Actions(elements=(narrate_button(translator),))
    message = OutboundMessage.of(intro, button) if event.is_dm else OutboundMessage.of(intro)
    await ctx.outbox.send(
        event.platform, ctx.destination(thread=False), message, key=intro_key(event)
    )
