"""A manager's public "great that you ask": one click, or with a personal line in a form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.authorisation import Verdict, owner
from bot.communities import platform_of
from bot.events import EventKind, InboundEvent
from bot.features import role_admin
from bot.features.ask_card import ACK, ACK_NOTE, card_location, current_card
from bot.features.asks import ensure_open, get_question, is_asker
from bot.features.commands import example
from bot.i18n import N_
from bot.messages import Context as ContextBlock
from bot.messages import Form, Mention, OutboundMessage, Quote, Section, TextInput, fill
from bot.ports import Destination
from bot.router import Router, action
from bot.store.tables.asks import Question
from bot.text import clean
from bot.validation import as_number

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

FORM_ID = "ask.ack_form"
DEFAULT_ACK = N_("Great that you ask this!")
BY = N_("— {manager}")
ONLY_MANAGERS = N_(
    "Acknowledging questions is for managers, so the asker knows the question is "
    "welcome. Thanks for wanting to! An admin can make someone a manager with "
    "{example}."
)
ALREADY = N_("You already acknowledged this question.")
FORM_TITLE = N_("Acknowledge")
FORM_NOTE = N_("A personal line (optional)")
FORM_SEND = N_("Post")
GONE = N_("I can't find that question any more.")


def register(services: Services, router: Router) -> None:
    router.add(action("ask.ack"), on_ack, name="asks.ack", who=owner("a manager", _manager))


async def _manager(event: InboundEvent, ctx: Context) -> Verdict:
    """Acknowledging (button, note form) is for managers (bot/authorisation.py asks)."""
    if ctx.is_manager:
        return True
    refusal = ctx.text(ONLY_MANAGERS, example=example(ctx.t, role_admin.EX_GRANT))
    question = await get_question(
        ctx.services, event.workspace_id, as_number(event.action.value if event.action else "") or 0
    )
    if question is not None and not question.hidden:
        # The card comes back as it was, with the reason under it, for the clicker only.
        card = await current_card(
            ctx.services,
            question,
            t=ctx.channel_t,
            for_viewer=(False, is_asker(ctx.services, question, event.user.user_id)),
        )
        paragraph = refusal.blocks[0]
        assert isinstance(paragraph, Section)  # ctx.text makes one
        await ctx.show(
            card.model_copy(update={"blocks": (*card.blocks, ContextBlock(parts=paragraph.parts))})
        )
    return refusal


async def on_ack(event: InboundEvent, ctx: Context) -> None:
    assert event.action is not None
    if event.kind is EventKind.FORM_SUBMIT and event.action.form_id == FORM_ID:
        number, note = event.action.value or "", clean(event.action.values.get("note", ""))
    elif event.action.action_id in (ACK, ACK_NOTE):
        number, note = event.action.value or "", ""
    else:
        return
    question = await get_question(ctx.services, event.workspace_id, as_number(number) or 0)
    if question is None:
        await ctx.respond(ctx.text(GONE))
        return
    ensure_open(question)  # a hidden question's card stays as it is
    if await ctx.asks.acknowledged(question.id, event.user.user_id):
        # a second click changes nothing
        await ctx.show(await current_card(ctx.services, question, t=ctx.channel_t))
        await ctx.respond(ctx.text(ALREADY))
        return
    if event.action.action_id == ACK_NOTE and event.kind is not EventKind.FORM_SUBMIT:
        t = ctx.t.gettext
        await ctx.open_form(
            Form(
                form_id=FORM_ID,
                title=t(FORM_TITLE),
                submit_label=t(FORM_SEND),
                fields=(
                    TextInput(
                        field_id="note",
                        label=t(FORM_NOTE),
                        multiline=True,
                        optional=True,
                        max_length=500,
                    ),
                ),
                private_metadata=str(question.id),
            )
        )
        return
    await acknowledge(ctx.services, ctx, question, event.user.user_id, note or None)


async def acknowledge(
    services: Services, ctx: Context, question: Question, manager_id: str, note: str | None
) -> None:
    await services.asks.acknowledge(question, manager_id, note, ctx.now)
    text = await services.config.value(question.workspace_id, "ack_text", question.channel_id)
    t = services.translator(question.language)
    blocks: list[Section | Quote | ContextBlock] = [
        Section(parts=(text or t.gettext(DEFAULT_ACK),)),
        ContextBlock(parts=fill(t.gettext(BY), manager=Mention(user_id=manager_id))),
    ]
    if note:
        blocks.insert(1, Quote(text=note))
    thread = question.message_id or await services.outbox.result_message_id(
        question.posted_key or ""
    )
    await services.outbox.send(
        platform_of(question.workspace_id),
        Destination(question.workspace_id, question.channel_id, thread_id=thread),
        OutboundMessage(blocks=tuple(blocks)),
        key=ctx.key("ack"),
    )
    # The card shows who acknowledged, for everyone, where it was posted.
    dest, card_id = await card_location(services, question)
    await ctx.show(await current_card(services, question), shared_at=dest, message_id=card_id)
