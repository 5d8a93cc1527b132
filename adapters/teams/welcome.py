"""When wolbot is installed in a team, a group chat or a personal chat, it introduces itself
once, briefly, in that conversation's language. "Once" holds across re-installs, retries
and replicas: the message is queued under an idempotency key made from the conversation,
and the outbox stores a key only once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.teams.inbound import PLATFORM
from bot.events import EventKind, InboundEvent
from bot.features import help as help_feature
from bot.features.commands import command_text
from bot.i18n import N_
from bot.messages import OutboundMessage, Strong, fill

if TYPE_CHECKING:
    from bot.context import Context

TEAM_INTRO = N_(
    "Hi, I'm wolbot. I help this team work out loud: start a message with {phrase} and "
    "I'll keep it, so colleagues working on the same thing can find you. Type {help} "
    "to see what else I can do."
)
PERSONAL_INTRO = N_(
    "Hi, I'm wolbot. Tell me in a sentence or two what you are working on, and I'll help "
    "colleagues who work on the same thing find you. Type {help} to see what else I can do."
)


def is_bot_installed(event: InboundEvent) -> bool | None:
    return True if event.kind is EventKind.BOT_ADDED and event.platform == PLATFORM else None


def intro_key(event: InboundEvent) -> str:
    return f"{event.workspace_id}:teams-intro:{event.conversation.id}"


async def introduce(event: InboundEvent, ctx: Context) -> None:
    translator = ctx.t if event.is_dm else ctx.channel_t
    t = translator.gettext
    help_word = "hulp" if translator.lang == "nl" else "help"
    template = PERSONAL_INTRO if event.is_dm else TEAM_INTRO
    message = OutboundMessage.text(
        *fill(
            t(template),
            phrase=Strong(text=t(help_feature.NARRATE_PHRASE)),
            help=command_text(help_word),
        )
    )
    await ctx.core.outbox.send(
        event.platform, ctx.destination(thread=False), message, key=intro_key(event)
    )


def register(core: Any) -> None:
    core.router.add(is_bot_installed, introduce, name="teams.introduce")
