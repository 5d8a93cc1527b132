"""Durf te vragen: a channel where anyone may ask anything, named or anonymously.

A question is a top-level message in a durf-te-vragen community, or `/wol ask …` from
anywhere (posted by the bot into the community). Managers acknowledge it publicly with one
click; answers in the thread are tracked (and relayed to an anonymous asker by DM); the
asker marks it answered. Acknowledgements live in `ask_ack.py`, nudges in `ask_nudges.py`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.authorisation import ANYONE, Verdict, owner
from bot.clock import utc
from bot.commands import Subcommand
from bot.communities import Community, community, platform_of
from bot.errors import UserError
from bot.events import EventKind, InboundEvent
from bot.features import ask_channels
from bot.features.ask_card import (
    ANSWERED,
    VIEW,
    acknowledged_by,
    card_location,
    current_card,
    question_card,
    viewers,
)
from bot.features.commands import command_text, example
from bot.i18n import N_, CommandExample
from bot.langdetect import guess_language
from bot.messages import Actions, Button, Mention, OutboundMessage, Quote, Section, Strong, fill
from bot.ports import Destination
from bot.roles import admin_only
from bot.router import Group, Router, action, kind
from bot.secrets import ANON_ASKER, ANON_CONTACT
from bot.store.tables.asks import Question
from bot.text import check_length, clean
from bot.validation import as_number

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

log = logging.getLogger(__name__)
ANON_PER_DAY = 3
MAX_QUESTION = 3000
CHECK = "white_check_mark"

NO_ANON = N_(
    "Anonymous questions are not allowed in {channel}. You can ask with your name, or "
    "ask an admin to allow them."
)
TOO_MANY_ANON = N_(
    "You've asked {limit} anonymous questions today; that's the limit. Try "
    "again tomorrow, or ask with your name."
)
EMPTY = N_("What would you like to ask? For example: {example}")
POSTED = N_("Your question is in {channel} (#{number}).")
POSTED_ANON = N_(
    "Your question is in {channel} as #{number}, without your name. I'll send "
    "you the answers in a direct message. Reply anonymously with {reply}; mark it "
    "answered with {answered}."
)
# Command examples in each language's words (bot.features.commands.example).
EX_ASK_ANON = N_("/wol ask anon How do I request leave?")
EX_REPLY = N_("/wol ask reply {number} …")
EX_ANSWERED = N_("/wol ask answered {number}")
RELAY = N_("An answer to your anonymous question #{number}:")
BTN_THIS_ANSWERED = N_("This answered my question")
ASKER_REPLY = N_("The asker replies:")
MARKED = N_("Marked as answered. Thanks for asking!")
NOT_ASKER = N_("Only the person who asked can mark it answered.")
UNKNOWN_QUESTION = N_("I can't find question #{number}.")
IS_HIDDEN = N_(
    "Question #{number} was hidden by an admin, so it's closed: it can't be "
    "replied to, acknowledged or marked answered any more."
)
NOT_ASKER_REPLY = N_(
    "Only the person who asked question #{number} can reply to it as the "
    "asker. Know the answer? Reply in its thread in {channel}."
)
EMPTY_REPLY = N_("What would you like to add? For example: {example}")
REPLY_POSTED = N_("Your reply is in the thread of question #{number} in {channel}.")
HIDE_DONE = N_("Question #{number} is hidden.")


def register(services: Services, router: Router) -> None:
    router.add(
        _top_level_in_channel, on_channel_question, group=Group.QUESTIONS, name="asks.question"
    )
    router.add(_thread_reply, on_thread_reply, group=Group.QUESTIONS, name="asks.answer")
    router.add(
        kind(EventKind.REACTION_ADDED), on_reaction, group=Group.QUESTIONS, name="asks.reaction"
    )
    router.add(
        action(ANSWERED),
        on_answered_click,
        name="asks.answered",
        who=owner("the person who asked", _asker),
    )
    router.add(action(VIEW), on_view, name="asks.view", who=ANYONE)
    router.commands.register(
        Subcommand(
            names={"en": ("ask",), "nl": ("vraag",)},
            handler=on_ask,
            summary=N_(
                "Ask a question in the durf-te-vragen channel, with your name or anonymously"
            ),
            usage=N_("[anon] [#channel] <question>"),
            order=20,
        )
    )
    services.hooks.anonymous_events.append(lambda event: is_anonymous_event(services, event))
    services.hooks.privacy_exporters.append(lambda ws, uid: export_anonymous(services, ws, uid))
    services.hooks.privacy_erasers.append(lambda ws, uid: erase_anonymous(services, ws, uid))


ASK_WORDS = ("ask", "vraag")
HIDE_WORDS = ("hide", "verberg", "verbergen")  # an admin's `/wol ask hide <n>`
# `/wol ask <word> …` by an asker who may be anonymous: asking, replying, marking answered
ANONYMOUS_WORDS = ("anon", "anoniem", "anonymous", "reply", "antwoord", "answered", "beantwoord")


async def is_anonymous_event(services: Services, event: InboundEvent) -> bool:
    """An event of a (possibly) anonymous asker, known before anything is stored: the
    core then writes nothing that names or times them (bot/turns.py `Turns.is_anonymous`)."""
    if event.kind is EventKind.COMMAND:
        words = event.text.lower().split()
        return len(words) > 1 and words[0] in ASK_WORDS and words[1] in ANONYMOUS_WORDS
    if (
        event.kind is EventKind.ACTION
        and event.action is not None
        and event.action.action_id == ANSWERED
    ):
        number = as_number((event.action.value or "").partition(":")[0])
        question = await get_question(services, event.workspace_id, number or 0)
        return question is not None and question.asker_id is None
    return False


def anon_ref(services: Services, workspace_id: str, user_id: str) -> str:
    return services.keyring.mac(ANON_ASKER, workspace_id, user_id)


def anon_refs(services: Services, workspace_id: str, user_id: str) -> list[str]:
    """The keyed hash under every accepted key (during a key rotation, old rows too)."""
    return services.keyring.macs(ANON_ASKER, workspace_id, user_id)


def is_asker(services: Services, question: Question, user_id: str) -> bool:
    if question.asker_id is not None:
        return question.asker_id == user_id
    return question.anon_ref in anon_refs(services, question.workspace_id, user_id)


def ensure_open(question: Question) -> None:
    """A question an admin hid is closed: no replies, acknowledgements or "answered"."""
    if question.hidden:
        raise UserError(IS_HIDDEN, number=question.id or 0)


# -- asking -------------------------------------------------------------------------------------
def _top_level_in_channel(event: InboundEvent) -> bool | None:
    ok = (
        event.kind is EventKind.MESSAGE
        and not event.conversation.thread_id
        and not event.is_dm
        and bool(event.text.strip())
    )
    return True if ok else None


async def on_channel_question(event: InboundEvent, ctx: Context) -> None:
    item = await community(ctx.services, event.workspace_id, event.conversation.id)
    if item is None or item.kind != "durf-te-vragen":
        return
    text = check_length(clean(event.text), MAX_QUESTION)
    if not text:
        return
    question = await _store(
        ctx, item, text, asker_id=event.user.user_id, message_id=event.message_id
    )
    question.card_key = await ctx.reply(
        question_card(
            ctx.channel_t, question, with_text=False, viewers=await viewers(ctx.services, question)
        )
    )
    await _save(ctx.services, question)


async def on_ask(event: InboundEvent, ctx: Context, args: str) -> None:
    words = args.split()
    head = words[0].lower() if words else ""
    if head in ("reply", "antwoord"):
        await on_anonymous_reply(event, ctx, words[1:])
        return
    if head in ("answered", "beantwoord"):
        question = await _question_from(ctx, words[1:])
        await mark_answered(ctx, question, None)
        return
    if head in HIDE_WORDS:
        await hide(event, ctx, words[1:])
        return
    anonymous = head in ("anon", "anoniem", "anonymous")
    ctx.anonymous = anonymous
    words = words[1:] if anonymous else words
    text_language = guess_language(" ".join(words), ctx.t.lang)
    item, words, _ = await ask_channels.choose(
        ctx.services, event, words, anonymous=anonymous, language=text_language
    )
    text = check_length(clean(" ".join(words)), MAX_QUESTION)
    if not text:
        raise UserError(EMPTY, example=CommandExample.of(EX_ASK_ANON))
    label = f"#{item.channel_id}"
    if anonymous:
        if not item.anonymous:
            raise UserError(NO_ANON, channel=label)
        question = await _store_anonymous(ctx, item, text, event.user.user_id)
    else:
        question = await _store(ctx, item, text, asker_id=event.user.user_id)
    t = ctx.translator(item.language)
    question.posted_key = f"ask:{item.workspace_id}:{question.id}"
    await _save(ctx.services, question)
    await ctx.outbox.send(
        item.platform,
        Destination(item.workspace_id, item.channel_id),
        question_card(t, question, with_text=True, viewers=await viewers(ctx.services, question)),
        key=question.posted_key,
    )
    if anonymous:  # the confirmation links the asker to the question: never keep it
        await ctx.respond(
            ctx.text(
                POSTED_ANON,
                channel=label,
                number=question.id or 0,
                reply=example(ctx.t, EX_REPLY, number=question.id or 0),
                answered=example(ctx.t, EX_ANSWERED, number=question.id or 0),
            ),
            erase_after_delivery=True,
        )
    else:
        await ctx.respond(ctx.text(POSTED, channel=label, number=question.id or 0))


async def _store(
    ctx: Context,
    item: Community,
    text: str,
    *,
    asker_id: str | None = None,
    message_id: str | None = None,
) -> Question:
    question = Question(
        workspace_id=item.workspace_id,
        channel_id=item.channel_id,
        message_id=message_id,
        asker_id=asker_id,
        text=text,
        language=item.language,
        created_at=ctx.now,
    )
    question = await _save(ctx.services, question)
    log.info("question %s in %s/%s (named)", question.id, item.workspace_id, item.channel_id)
    return question


async def _store_anonymous(ctx: Context, item: Community, text: str, user_id: str) -> Question:
    """Counted and stored under one lock (bot/store/limits.py), so replicas together never
    let anyone past the daily limit; the question's own rows are the count."""
    ref = anon_ref(ctx.services, item.workspace_id, user_id)
    refs = anon_refs(ctx.services, item.workspace_id, user_id)
    stored = await ctx.asks.add_anonymous(
        Question(
            workspace_id=item.workspace_id,
            channel_id=item.channel_id,
            anon_ref=ref,
            anon_contact=ctx.keyring.encrypt(ANON_CONTACT, user_id),
            text=text,
            language=item.language,
            created_at=ctx.now,
        ),
        refs,
        since=ctx.now - timedelta(days=1),
        limit=ANON_PER_DAY,
    )
    if stored is None:
        raise UserError(TOO_MANY_ANON, limit=ANON_PER_DAY)
    question = stored
    log.info("question %s in %s/%s (anonymous)", question.id, item.workspace_id, item.channel_id)
    return question


async def _save(services: Services, question: Question) -> Question:
    return await services.asks.save(question)


async def get_question(services: Services, workspace_id: str, number: int) -> Question | None:
    return await services.asks.get(workspace_id, number)


async def _question_from(ctx: Context, words: list[str]) -> Question:
    number = (as_number(words[0]) or 0) if words else 0
    question = await get_question(ctx.services, ctx.event.workspace_id, number)
    if question is None:
        raise UserError(UNKNOWN_QUESTION, number=words[0] if words else "?")
    return question


async def question_for_thread(
    services: Services, workspace_id: str, channel_id: str, thread_id: str
) -> Question | None:
    found, unresolved = await services.asks.in_thread(workspace_id, channel_id, thread_id)
    if found is not None:
        return found
    for question in unresolved:  # learn the bot's message id once it was delivered
        question.message_id = await services.outbox.result_message_id(question.posted_key or "")
        if question.message_id:
            await services.asks.set_message_id(question.id, question.message_id)
            if question.message_id == thread_id:
                return question
    return None


# -- answers ------------------------------------------------------------------------------------
def _thread_reply(event: InboundEvent) -> bool | None:
    ok = event.kind is EventKind.MESSAGE and bool(event.conversation.thread_id) and event.text
    return True if ok else None


async def on_thread_reply(event: InboundEvent, ctx: Context) -> None:
    question = await question_for_thread(
        ctx.services, event.workspace_id, event.conversation.id, event.conversation.thread_id or ""
    )
    if question is None or question.id is None or question.hidden:
        return
    if question.asker_id == event.user.user_id:
        return  # the asker's own follow-up is not an answer
    if question.first_answer_at is None:
        await ctx.asks.first_answered(question.id, ctx.now)
    if question.anon_contact and event.message_id:
        await _relay(ctx, question, event)


async def _relay(ctx: Context, question: Question, event: InboundEvent) -> None:
    asker = ctx.keyring.decrypt(ANON_CONTACT, question.anon_contact or "")
    if asker is None or event.message_id is None:
        log.warning("cannot relay to the asker of question %s (key changed?)", question.id)
        return
    await ctx.asks.add_relayed(question.id or 0, event.message_id)
    t = ctx.translator(
        await ctx.languages.person(question.workspace_id, asker, channel_id=question.channel_id)
    )
    message = OutboundMessage.of(
        Section(parts=fill(t.gettext(RELAY), number=question.id or 0)),
        Quote(text=clean(event.text), author=Mention(user_id=event.user.user_id)),
        Actions(
            elements=(
                Button(
                    label=t.gettext(BTN_THIS_ANSWERED),
                    action_id=ANSWERED,
                    value=f"{question.id}:{event.message_id}",
                ),
            )
        ),
    )
    await ctx.outbox.send_dm(
        event.platform,
        event.workspace_id,
        (asker,),
        message,
        key=ctx.key("relay"),
        erase_after_delivery=True,
    )


async def on_anonymous_reply(event: InboundEvent, ctx: Context, words: list[str]) -> None:
    ctx.anonymous = True
    question = await _question_from(ctx, words)
    ensure_open(question)
    channel = f"#{question.channel_id}"
    if not is_asker(ctx.services, question, event.user.user_id):
        raise UserError(NOT_ASKER_REPLY, number=question.id or 0, channel=channel)
    text = check_length(clean(" ".join(words[1:])), MAX_QUESTION)
    if not text:
        raise UserError(EMPTY_REPLY, example=CommandExample.of(EX_REPLY, number=question.id or 0))
    thread = question.message_id or await ctx.outbox.result_message_id(question.posted_key or "")
    t = ctx.translator(question.language)
    await ctx.outbox.send(
        platform_of(question.workspace_id),
        Destination(question.workspace_id, question.channel_id, thread_id=thread),
        OutboundMessage.of(Section(parts=(Strong(text=t.gettext(ASKER_REPLY)),)), Quote(text=text)),
        key=ctx.key("asker-reply"),
    )
    await ctx.respond(
        ctx.text(REPLY_POSTED, channel=channel, number=question.id or 0), erase_after_delivery=True
    )


async def _asker(event: InboundEvent, ctx: Context) -> Verdict:
    """ "This answered my question" is for the asker (bot/authorisation.py asks)."""
    assert event.action is not None
    number = as_number((event.action.value or "").partition(":")[0])
    question = await get_question(ctx.services, event.workspace_id, number or 0)
    if question is None:
        return True  # the handler says the question is unknown
    return True if is_asker(ctx.services, question, event.user.user_id) else ctx.text(NOT_ASKER)


async def on_answered_click(event: InboundEvent, ctx: Context) -> None:
    assert event.action is not None
    number, _, message_id = (event.action.value or "").partition(":")
    question = await get_question(ctx.services, event.workspace_id, as_number(number) or 0)
    if question is None:
        raise UserError(UNKNOWN_QUESTION, number=number or "?")
    await mark_answered(ctx, question, message_id or None)


async def on_view(event: InboundEvent, ctx: Context) -> None:
    """One viewer's version of a question card (platforms that render per viewer ask)."""
    assert event.action is not None
    question = await get_question(
        ctx.services, event.workspace_id, as_number(event.action.value or "") or 0
    )
    if question is None or question.hidden:
        return
    acks = await acknowledged_by(ctx.services, question)
    may_ack = ctx.is_manager and event.user.user_id not in acks
    await ctx.show(
        await current_card(
            ctx.services,
            question,
            t=ctx.channel_t,
            for_viewer=(may_ack, is_asker(ctx.services, question, event.user.user_id)),
        )
    )


async def on_reaction(event: InboundEvent, ctx: Context) -> None:
    """The (named) asker reacting ✅ on an answer in the thread marks it answered."""
    if event.action is None or event.action.value not in (CHECK, "heavy_check_mark"):
        return
    if not event.action.message_id:
        return
    for question in await ctx.asks.unanswered_of(
        event.workspace_id, event.conversation.id, event.user.user_id
    ):
        if event.conversation.thread_id in (question.message_id, None):
            await mark_answered(ctx, question, event.action.message_id, quiet=True)
            return


async def mark_answered(
    ctx: Context, question: Question, message_id: str | None, *, quiet: bool = False
) -> None:
    ensure_open(question)
    if not is_asker(ctx.services, question, ctx.event.user.user_id):
        raise UserError(NOT_ASKER)
    ctx.anonymous = question.asker_id is None
    question.answered_at = question.answered_at or ctx.now
    question.answer_message_id = message_id or question.answer_message_id
    await _save(ctx.services, question)
    dest, card_id = await card_location(ctx.services, question)
    await ctx.show(await current_card(ctx.services, question), shared_at=dest, message_id=card_id)
    target = (
        message_id
        or question.message_id
        or await ctx.outbox.result_message_id(question.posted_key or "")
    )
    # The mark on the answer; where a reaction would be one more message in the thread
    # (Teams), the updated card already says it.
    port = ctx.ports.get(platform_of(question.workspace_id))
    if target and not getattr(port, "reactions_post_messages", False):
        await ctx.outbox.react(
            platform_of(question.workspace_id),
            Destination(question.workspace_id, question.channel_id),
            target,
            CHECK,
            key=ctx.key("answered"),
        )
    if not quiet:
        await ctx.respond(ctx.text(MARKED), erase_after_delivery=question.asker_id is None)


async def hide(event: InboundEvent, ctx: Context, words: list[str]) -> None:
    if not ctx.is_admin:
        await ctx.respond(admin_only(ctx.t, command_text("ask hide")))
        return
    question = await _question_from(ctx, words)
    question.hidden = True
    await _save(ctx.services, question)
    message_id = question.message_id or await ctx.outbox.result_message_id(
        question.posted_key or ""
    )
    if question.posted_key and message_id:
        t = ctx.translator(question.language)
        await ctx.outbox.update(
            platform_of(question.workspace_id),
            Destination(question.workspace_id, question.channel_id),
            message_id,
            question_card(t, question, with_text=True),
            key=ctx.key("hide"),
        )
    await ctx.respond(ctx.text(HIDE_DONE, number=question.id or 0))


# -- privacy ------------------------------------------------------------------------------------
async def export_anonymous(
    services: Services, workspace_id: str, user_id: str
) -> dict[str, object]:
    refs = anon_refs(services, workspace_id, user_id)
    rows = await services.asks.anonymous_of(refs)
    if not rows:
        return {}
    days = int(await services.config.value(workspace_id, "retention.days"))
    found = []
    for q in rows:
        channel = await services.directory.channel(workspace_id, q.channel_id)
        asked = utc(q.created_at)
        found.append(
            {
                "number": q.id,
                "text": q.text,
                "asked_at": asked.isoformat(),
                "where": {
                    "kind": channel.kind if channel else "unknown",
                    "conversation": f"#{channel.name}" if channel and channel.name else None,
                },
                "answered_at": utc(q.answered_at).isoformat() if q.answered_at else None,
                "kept_until": (asked + timedelta(days=days)).isoformat(),
            }
        )
    return {"anonymous_questions": found}


async def erase_anonymous(services: Services, workspace_id: str, user_id: str) -> dict[str, int]:
    refs = anon_refs(services, workspace_id, user_id)
    return {"ask_question (anonymous link)": await services.asks.forget_asker(refs)}
