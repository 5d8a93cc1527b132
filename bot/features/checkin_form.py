"""The check-in's "Narrate my work" button: the answer to "What are you working on this
week?" written in a form (a Teams dialog, a Slack modal) instead of typed in the chat.

The submission is handled as that text typed in the personal chat: the same rules
(`narrations.dm_kind`: a question or a few words are no narration), the same recording
(`narrations.record_dm`), so the same check-in answer ("Thanks! …", bot/features/checkins.py
`on_narration`), the same matching and suggestions in the personal chat. A typed answer's
📝 has no message to go under here: the form's answer says "noted" instead (Teams shows it
as the dialog closes). What would not be kept is shown in the form again, with what to
write instead. The button and the form carry the id of the person the check-in was sent
to: only they may open or submit it (`ADDRESSEE`), so a forged submission for someone else
stores nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.authorisation import ADDRESSEE
from bot.errors import UserError
from bot.events import InboundEvent
from bot.features import narrations, share_work
from bot.features.dm_kinds import DmKind
from bot.features.dm_replies import ONLY_NARRATIONS
from bot.features.narration_ack import NOTED
from bot.i18n import Translator
from bot.messages import Button, OutboundMessage, Quote, Section, fill, plain
from bot.router import Router, form, shortcut
from bot.text import clean

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

NARRATE_BUTTON = "checkin.narrate"
NARRATE_FORM = "checkin.narrate_form"


def narrate_button(t: Translator, user_id: str) -> Button:
    """ "Narrate my work" on the check-in sent to `user_id`: opens `open_form`'s form."""
    return Button(
        label=t.gettext(share_work.TITLE),
        action_id=NARRATE_BUTTON,
        value=user_id,
        style="primary",
        opens_form=True,
    )


async def open_form(event: InboundEvent, ctx: Context) -> None:
    """The narrate form, submitted as this check-in's answer by its addressee."""
    await ctx.open_form(
        share_work.narrate_form(ctx).model_copy(
            update={"form_id": NARRATE_FORM, "private_metadata": event.user.user_id}
        )
    )


async def submit(event: InboundEvent, ctx: Context) -> None:
    values = event.action.values if event.action else {}
    text = clean(values.get(share_work.TEXT_FIELD, ""))
    kind, phrase = narrations.dm_kind(ctx, text)
    if kind.kind is not DmKind.NARRATION:
        error = ONLY_NARRATIONS if kind.kind is DmKind.QUESTION else share_work.TOO_SHORT
        ctx.form_errors[share_work.TEXT_FIELD] = ctx.t.gettext(error)
        return
    try:
        narration = await narrations.record_dm(event, ctx, text, phrase)
    except UserError as exc:  # too long
        ctx.form_errors[share_work.TEXT_FIELD] = plain(exc.parts(ctx.t))
        return
    if narration is not None:
        await ctx.respond(
            OutboundMessage.of(
                Section(parts=fill(ctx.t.gettext(NOTED))), Quote(text=narration.topic)
            )
        )


def register(services: Services, router: Router) -> None:
    router.add(shortcut(NARRATE_BUTTON), open_form, name="checkins.narrate", who=ADDRESSEE)
    router.add(form(NARRATE_FORM), submit, name="checkins.narrate_submit", who=ADDRESSEE)
