"""`/wol round …` for admins: status, post now, close early, skip, pin, add a question, list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import Subcommand
from bot.communities import Community, community
from bot.errors import UserError
from bot.events import InboundEvent
from bot.features import rounds
from bot.features.references import resolve_channel, split_channel
from bot.i18n import N_, CommandExample
from bot.insight import formats
from bot.messages import OutboundMessage, Section, Strong, fill
from bot.router import Router
from bot.store.tables.rhythms import CustomQuestion
from bot.text import clean

EX_NOW = N_("/wol round now #team")
EX_ADD_DIALOGUE = N_("/wol config community add {channel} dialogue")
EX_LIST = N_("/wol round list {channel}")
EX_ADD = N_("/wol round add What surprised you this week?")

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

VERBS = {
    "status": ("status",),
    "now": ("now", "nu"),
    "close": ("close", "sluit", "sluiten"),
    "skip": ("skip", "sla-over", "overslaan"),
    "pin": ("pin", "vastzetten"),
    "add": ("add", "toevoegen"),
    "list": ("list", "lijst"),
}
NOT_DIALOGUE = N_("{channel} is not a dialogue community. Make it one with {example}.")
STATUS = N_("{channel}: question set {set}, rhythm {rhythm}, next question {next}.")
NO_RHYTHM = N_("none (post with /wol round now)")
POSTED = N_("Posted the next question in {channel}.")
CLOSED = N_("Closed the open round in {channel}; the summary is on its way.")
NOTHING_OPEN = N_("There is no open round in {channel}.")
SKIPPED = N_("The next scheduled round in {channel} will be skipped.")
PINNED = N_("{prompt} will be the next question in {channel}.")
UNKNOWN_PROMPT = N_("There is no question {prompt} in this community's set; {list} shows them.")
ADDED = N_("Added to the questions of {channel}: {text}")
NEED_TEXT = N_("Which question? For example: {example}")
USAGE = N_("Use {example} (status, now, close, skip, pin <id>, add <question>, list).")
LIST_TITLE = N_("Questions of {channel} (set {set}):")


def register(services: Services, router: Router) -> None:
    router.commands.register(
        Subcommand(
            names={"en": ("round",), "nl": ("ronde",)},
            handler=on_round,
            summary=N_(
                "Dialogue rounds: status, post now, close, skip, pin, add a question (admins)"
            ),
            usage=N_("<status|now|close|skip|pin|add|list> [#channel]"),
            order=91,
            admin_only=True,
        )
    )


async def on_round(event: InboundEvent, ctx: Context, args: str) -> None:
    words = args.split()
    verb = next(
        (v for v, names in VERBS.items() if words and words[0].lower() in names),
        "status" if not words else None,
    )
    rest = words[1:] if words and verb else words
    ref, rest = split_channel(rest)
    if ref is not None:
        ref = await resolve_channel(ref, event.workspace_id, ctx.directory)
    channel_id = ref.id if ref else event.conversation.id
    label = f"#{ref.name or ref.id}" if ref else f"#{event.conversation.name or channel_id}"
    item = await community(ctx.services, event.workspace_id, channel_id)
    if verb is None:
        raise UserError(USAGE, example=CommandExample.of(EX_NOW))
    if item is None or item.kind != "dialogue":
        raise UserError(
            NOT_DIALOGUE, channel=label, example=CommandExample.of(EX_ADD_DIALOGUE, channel=label)
        )
    services = ctx.services
    if verb == "now":
        posted = await rounds.post_round(
            services, item, f"manual:{event.event_id}", ctx.now, manual=True
        )
        await ctx.respond(ctx.text(POSTED if posted else NOTHING_OPEN, channel=label))
    elif verb == "close":
        closed = await rounds.close_open_rounds(services, item.workspace_id, {channel_id: ctx.now})
        await ctx.respond(ctx.text(CLOSED if closed else NOTHING_OPEN, channel=label))
    elif verb == "skip":
        state = await rounds.community_state(services, item)
        state.skip_next = True
        await rounds.save_state(services, state)
        await ctx.respond(ctx.text(SKIPPED, channel=label))
    elif verb == "pin":
        candidates = await rounds.prompt_candidates(services, item)
        wanted = rest[0] if rest else ""
        if wanted not in {c[0] for c in candidates}:
            raise UserError(
                UNKNOWN_PROMPT, prompt=wanted or "?", list=CommandExample.of(EX_LIST, channel=label)
            )
        state = await rounds.community_state(services, item)
        state.pinned_prompt_id = wanted
        await rounds.save_state(services, state)
        await ctx.respond(ctx.text(PINNED, prompt=Strong(text=wanted), channel=label))
    elif verb == "add":
        text = clean(" ".join(rest))
        if not text or len(text) > 500:
            raise UserError(NEED_TEXT, example=CommandExample.of(EX_ADD))
        await services.rounds.add_question(
            CustomQuestion(
                workspace_id=item.workspace_id,
                channel_id=channel_id,
                language=item.language,
                text=text,
                added_by=event.user.user_id,
                created_at=ctx.now,
            )
        )
        await ctx.respond(
            OutboundMessage.of(Section(parts=fill(ctx.t.gettext(ADDED), channel=label, text=text)))
        )
    elif verb == "list":
        candidates = await rounds.prompt_candidates(services, item)
        blocks = [
            Section(parts=fill(ctx.t.gettext(LIST_TITLE), channel=label, set=item.question_set))
        ]
        blocks.extend(
            Section(parts=(Strong(text=pid), f" {text}")) for pid, _, text in candidates[:60]
        )
        await ctx.respond(OutboundMessage(blocks=tuple(blocks)))
    else:
        await _status(ctx, item, label)


async def _status(ctx: Context, item: Community, label: str) -> None:
    state = await rounds.community_state(ctx.services, item)
    chosen, _ = await rounds.next_prompt(ctx.services, item, state)
    blocks = [
        Section(
            parts=fill(
                ctx.t.gettext(STATUS),
                channel=label,
                set=item.question_set,
                rhythm=(formats.cron_text(item.rhythm, ctx.t) or item.rhythm)
                if item.rhythm
                else ctx.t.gettext(NO_RHYTHM),
                next=Strong(text=chosen[0] if chosen else "-"),
            )
        )
    ]
    current = await ctx.rounds.current(item.workspace_id, item.channel_id)
    if current is not None:
        open_round, answers = current
        blocks.append(
            Section(
                parts=fill(
                    ctx.t.ngettext(
                        "Open round: {question} — {count} answer so far.",
                        "Open round: {question} — {count} answers so far.",
                        answers,
                    ),
                    question=open_round.text,
                    count=formats.number(answers, ctx.t.lang),
                )
            )
        )
    await ctx.respond(OutboundMessage(blocks=tuple(blocks)))
