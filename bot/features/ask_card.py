"""The card of a durf-te-vragen question, showing its state, and kept current in place.

One card per question: who acknowledged it, whether the asker marked it answered, and the
buttons that still make sense. After a change the card is rendered again and updated where
it was posted (`Context.show`). Platforms that render a card per viewer ask again
(`VIEW`) for the people in `refresh.viewers`: managers see "Acknowledge" until they did,
the asker sees "Mark answered", everyone else sees the state only. A question an admin hid
stays hidden: its card says so and nothing else, at every later rendering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import N_, Translator
from bot.messages import (
    Actions,
    Button,
    Inline,
    Mention,
    OutboundMessage,
    Quote,
    Refresh,
    Section,
    fill,
)
from bot.messages import Context as ContextBlock
from bot.ports import Destination
from bot.roles import ADMIN, MANAGER
from bot.store.tables.asks import Question

if TYPE_CHECKING:
    from bot.services import Services

ACK, ACK_NOTE, ANSWERED, VIEW = "ask.ack", "ask.ack_note", "ask.answered", "ask.view"

TITLE_NAMED = N_("Question from {asker} (#{number})")
TITLE_ANON = N_("Anonymous question (#{number})")
CARD_HINT = N_("Managers: acknowledge it. Know the answer, or who does? Reply in the thread.")
BTN_ACK = N_("Acknowledge")
BTN_ACK_NOTE = N_("Acknowledge with a note…")
BTN_ANSWERED = N_("Mark answered")
ACKED_BY = N_("Acknowledged by")
IS_ANSWERED = N_("✅ The asker marked this question answered.")
HIDDEN = N_("This question was hidden by an admin.")


async def acknowledged_by(services: Services, question: Question) -> tuple[str, ...]:
    return await services.asks.acknowledgers(question.id)


async def viewers(services: Services, question: Question) -> tuple[str, ...]:
    """Who gets a version of their own: managers and admins, and a named asker."""
    people = [
        *await services.roles.holders(question.workspace_id, MANAGER),
        *await services.roles.holders(question.workspace_id, ADMIN),
    ]
    if question.asker_id:
        people.append(question.asker_id)
    return tuple(dict.fromkeys(people))


def question_card(
    t: Translator,
    question: Question,
    *,
    with_text: bool,
    acks: tuple[str, ...] = (),
    viewers: tuple[str, ...] = (),
    for_viewer: tuple[bool, bool] | None = None,
) -> OutboundMessage:
    """The card everyone sees; with `for_viewer` = (may acknowledge, is the asker) the
    version of one viewer, holding only the buttons that are theirs. A hidden question's
    card is only that notice, whatever happens to the question later."""
    if question.hidden:
        return OutboundMessage.text(t.gettext(HIDDEN))
    blocks: list[Section | Quote | ContextBlock | Actions] = []
    if with_text:
        title = (
            fill(t.gettext(TITLE_ANON), number=question.id or 0)
            if question.asker_id is None
            else fill(
                t.gettext(TITLE_NAMED),
                number=question.id or 0,
                asker=Mention(user_id=question.asker_id),
            )
        )
        blocks += [Section(parts=title), Quote(text=question.text)]
    if acks:
        parts: list[Inline] = [t.gettext(ACKED_BY), " "]
        for n, manager in enumerate(acks):
            parts += ([", "] if n else []) + [Mention(user_id=manager)]
        blocks.append(ContextBlock(parts=tuple(parts)))
    if question.answered_at is not None:
        blocks.append(ContextBlock(parts=(t.gettext(IS_ANSWERED),)))
        return OutboundMessage(blocks=tuple(blocks))
    value = str(question.id)
    may_ack, is_asker = for_viewer if for_viewer is not None else (True, True)
    buttons: list[Button] = []
    if may_ack:
        buttons += [
            Button(label=t.gettext(BTN_ACK), action_id=ACK, value=value, style="primary"),
            Button(label=t.gettext(BTN_ACK_NOTE), action_id=ACK_NOTE, value=value, opens_form=True),
        ]
    if is_asker:
        buttons.append(Button(label=t.gettext(BTN_ANSWERED), action_id=ANSWERED, value=value))
    blocks.append(ContextBlock(parts=(t.gettext(CARD_HINT),)))
    if buttons:
        blocks.append(Actions(elements=tuple(buttons), viewers_only=for_viewer is None))
    refresh = Refresh(action_id=VIEW, value=value, viewers=viewers) if viewers else None
    return OutboundMessage(blocks=tuple(blocks), refresh=refresh)


async def current_card(
    services: Services,
    question: Question,
    *,
    for_viewer: tuple[bool, bool] | None = None,
    t: Translator | None = None,
) -> OutboundMessage:
    return question_card(
        t or services.translator(question.language),
        question,
        with_text=question.card_key is None,
        acks=await acknowledged_by(services, question),
        viewers=await viewers(services, question),
        for_viewer=for_viewer,
    )


async def card_location(services: Services, question: Question) -> tuple[Destination, str | None]:
    """Where the card was posted: in the question's thread, or as the question itself."""
    if question.card_key:
        return (
            Destination(question.workspace_id, question.channel_id, thread_id=question.message_id),
            await services.outbox.result_message_id(question.card_key),
        )
    return (
        Destination(question.workspace_id, question.channel_id),
        await services.outbox.result_message_id(question.posted_key or ""),
    )
