"""`/wol thanks @person <what for>`: public appreciation where it was given, in the channel's
language, linked to the narration or question of the thread it came from. A daily limit per
person keeps it meaningful; there is no leaderboard.

The people thanked are the ones really mentioned (the platform's picker) at the start; the
reason is the rest, kept as written (a mention or `@word` in it stays text). Thanking two
people is one post naming both."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.commands import Subcommand
from bot.errors import UserError
from bot.events import InboundEvent
from bot.features.references import leading_people
from bot.i18n import N_, CommandExample
from bot.messages import Mention, OutboundMessage, Quote, Section, fill, listed
from bot.router import Router
from bot.store.tables.asks import Thanks
from bot.text import check_length, clean

EX_THANKS = N_("/wol thanks @anouk for the onboarding tips")

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

DAILY_LIMIT = 10
THANKS = N_("🙌 {giver} thanks {receiver}:")
AND = N_(" and ")
USAGE = N_("Who and what for? For example: {example}")
NOT_YOURSELF = N_("Thanking yourself is sweet, but let's keep thanks for others.")
IN_PRIVATE = N_(
    "Thanks are for everyone to see, and only you read this conversation: say it "
    "in a channel you share, for example: {example}"
)
LIMIT = N_(
    "You've given {limit} thanks today; that's the daily limit, so each one stays "
    "special. More tomorrow!"
)


def register(services: Services, router: Router) -> None:
    router.commands.register(
        Subcommand(
            names={"en": ("thanks", "thank"), "nl": ("bedankt", "dank")},
            handler=on_thanks,
            summary=N_("Thank a colleague in public"),
            usage=N_("@person <what for>"),
            order=30,
        )
    )


async def on_thanks(event: InboundEvent, ctx: Context, args: str) -> None:
    people, rest = leading_people(args, event)
    reason = check_length(clean(rest), 1000)
    if not people or not reason:
        raise UserError(USAGE, example=CommandExample.of(EX_THANKS))
    if any(p.user_id == event.user.user_id for p in people):
        raise UserError(NOT_YOURSELF)
    if event.is_dm:  # a post here would reach nobody but the giver
        raise UserError(IN_PRIVATE, example=CommandExample.of(EX_THANKS))
    narration_id, question_id = await _linked(ctx, event)
    # counted and written under one lock, so replicas together keep to the limit
    given = await ctx.thanks.give(
        event.workspace_id,
        event.user.user_id,
        [
            Thanks(
                workspace_id=event.workspace_id,
                channel_id=event.conversation.id,
                giver_id=event.user.user_id,
                receiver_id=person.user_id,
                reason=reason,
                narration_id=narration_id,
                question_id=question_id,
                created_at=ctx.now,
            )
            for person in people
        ],
        since=ctx.now - timedelta(days=1),
        limit=DAILY_LIMIT,
    )
    if not given:
        raise UserError(LIMIT, limit=DAILY_LIMIT)
    t = ctx.channel_t
    receivers = listed(
        [Mention(user_id=p.user_id, name=p.display_name) for p in people], t.gettext(AND)
    )
    message = OutboundMessage.of(
        Section(
            parts=fill(
                t.gettext(THANKS), giver=Mention(user_id=event.user.user_id), receiver=receivers
            )
        ),
        Quote(text=reason),
    )
    if event.conversation.thread_id:
        await ctx.reply(message)
    else:
        await ctx.say(message)


async def _linked(ctx: Context, event: InboundEvent) -> tuple[int | None, int | None]:
    thread = event.conversation.thread_id
    if not thread:
        return None, None
    narration = await ctx.narrations.by_message(event.workspace_id, event.conversation.id, thread)
    question = await ctx.asks.question_id_in(event.workspace_id, event.conversation.id, thread)
    return (narration.id if narration else None), question
