"""Dialogue rounds: on each community's rhythm the bot posts the next question of its set,
collects the answers in the thread, and closes the round with a summary.

Each community has a stable job id (`round:<workspace>:<channel>`); every occurrence is
claimed in the database before it is posted, so restarts and replicas never post twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.clock import utc
from bot.communities import Community, communities, community
from bot.events import EventKind, InboundEvent
from bot.i18n import N_, Translator
from bot.messages import Context as ContextBlock
from bot.messages import Mention, OutboundMessage, Quote, Section, Strong, fill
from bot.ports import Destination
from bot.router import Group, Router, kind
from bot.scheduler import Job, cron
from bot.store.rounds import History, Opening, state_values
from bot.store.tables.rhythms import CommunityState, Contribution, DialogueRound
from bot.text import clean, shorten

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

log = logging.getLogger(__name__)
CLOSE_JOB = "rounds.close"
SYNC_JOB = "rounds.sync"
ROUND_BATCH = "rounds.post"  # every community due at the same moment is posted in one go
TOP_ANSWERS = 3
MANUAL_ROUND = timedelta(days=7)

QUESTION_TITLE = N_("Question for this round")
STATEMENT_TITLE = N_("Statement for this round: agree or not, and why?")
HOW_TO_ANSWER = N_("Answer in this thread. I'll close the round on {date} with a short summary.")
HOW_TO_ANSWER_OPEN = N_("Answer in this thread; an admin closes the round with a summary.")
SUMMARY_TITLE = N_("Round closed: {question}")
NO_ANSWERS = N_("Round closed without answers; an answer here is still welcome.")
READERS = N_(
    "Read along without answering? That counts too. React to the answer that helped "
    "you most, or add your view in the thread."
)


def register(services: Services, router: Router) -> None:
    router.add(_round_reply, on_reply, group=Group.ROUND_REPLIES, name="rounds.reply")
    router.add(
        kind(EventKind.REACTION_ADDED),
        on_reaction,
        group=Group.ROUND_REPLIES,
        name="rounds.reaction",
    )
    services.scheduler.add(
        Job(
            CLOSE_JOB,
            cron("*/5 * * * *", "UTC"),
            lambda when: close_due(services, when),
            grace=timedelta(hours=2),
            latest_only=True,
        )
    )
    services.scheduler.add(
        Job(SYNC_JOB, cron("*/5 * * * *", "UTC"), lambda when: sync_jobs(services), claimed=False)
    )
    services.hooks.start_hooks.append(lambda: sync_jobs(services))
    services.scheduler.add_batch(ROUND_BATCH, lambda due: post_due_rounds(services, due))

    async def on_config_change(workspace_id: str, key: str, channel_id: str | None) -> None:
        if key.startswith("community.") or key == "timezone":
            await sync_jobs(services)

    services.config.listeners.append(on_config_change)


def job_id(workspace_id: str, channel_id: str) -> str:
    return f"round:{workspace_id}:{channel_id}"


async def sync_jobs(services: Services) -> None:
    """Give each dialogue community with a rhythm its job; drop jobs of communities gone."""
    wanted: dict[str, Community] = {}
    for item in await communities(services, kind="dialogue"):
        if item.rhythm:
            wanted[job_id(item.workspace_id, item.channel_id)] = item
    for existing in [j for j in services.scheduler.jobs if j.startswith("round:")]:
        if existing not in wanted:
            services.scheduler.remove(existing)
    for jid, item in wanted.items():
        trigger = cron(item.rhythm or "", item.timezone)
        current = services.scheduler.jobs.get(jid)
        if current is not None and str(current.trigger) == str(trigger):
            continue

        async def run(
            when: datetime, ws: str = item.workspace_id, channel: str = item.channel_id
        ) -> None:
            fresh = await community(services, ws, channel)
            if fresh is not None and fresh.kind == "dialogue":
                await post_round(services, fresh, when.isoformat(), when)

        services.scheduler.add(
            Job(
                jid,
                trigger,
                run,
                grace=timedelta(hours=6),
                batch=ROUND_BATCH,
                target=(item.workspace_id, item.channel_id),
            )
        )


async def post_due_rounds(
    services: Services, due: list[tuple[Job, datetime]]
) -> list[DialogueRound]:
    """The scheduler's batch: every community whose round fell due (and was claimed) now."""
    found: list[tuple[Community, str, datetime]] = []
    for job, when in due:
        workspace_id, channel_id = job.target
        fresh = await community(services, workspace_id, channel_id)
        if fresh is not None and fresh.kind == "dialogue":
            found.append((fresh, when.isoformat(), when))
    return await post_rounds(services, found)


async def histories(
    services: Services, workspace_id: str, channel_ids: list[str]
) -> dict[str, History]:
    """State, custom questions and asked prompts (per cycle) of many channels."""
    return await services.rounds.histories(workspace_id, channel_ids)


async def community_state(services: Services, item: Community) -> CommunityState:
    return await services.rounds.state(item.workspace_id, item.channel_id)


async def save_state(services: Services, state: CommunityState) -> None:
    await services.rounds.save_state(state)


def _set_prompts(services: Services, item: Community) -> list[tuple[str, str, str]]:
    library = services.prompts
    prompt_set = library.get(item.question_set, item.language) or library.get(
        item.question_set, "en"
    )
    return [(p.id, p.kind, p.text) for p in prompt_set.items] if prompt_set else []


async def prompt_candidates(services: Services, item: Community) -> list[tuple[str, str, str]]:
    """(prompt id, kind, text) in asking order: the set's prompts, then admins' own."""
    history = (await histories(services, item.workspace_id, [item.channel_id]))[item.channel_id]
    return _set_prompts(services, item) + history.custom


def choose_prompt(
    services: Services, item: Community, history: History
) -> tuple[tuple[str, str, str] | None, int]:
    """The pinned prompt, else the first not asked in this cycle (a new cycle when all were)."""
    state = history.state
    candidates = _set_prompts(services, item) + history.custom
    if not candidates:
        return None, state.cycle
    if state.pinned_prompt_id:
        pinned = next((c for c in candidates if c[0] == state.pinned_prompt_id), None)
        if pinned is not None:
            return pinned, state.cycle
    asked = history.asked.get(state.cycle, set())
    for candidate in candidates:
        if candidate[0] not in asked:
            return candidate, state.cycle
    return candidates[0], state.cycle + 1


async def next_prompt(
    services: Services, item: Community, state: CommunityState
) -> tuple[tuple[str, str, str] | None, int]:
    """The prompt the next round of `item` would ask, given its `state`."""
    history = (await histories(services, item.workspace_id, [item.channel_id]))[item.channel_id]
    history.state = state
    return choose_prompt(services, item, history)


def _closes_at(item: Community, when: datetime, manual: bool) -> datetime:
    if item.round_hours:
        return when + timedelta(hours=item.round_hours)
    if item.rhythm:
        nxt = cron(item.rhythm, item.timezone).get_next_fire_time(None, when + timedelta(seconds=1))
        if nxt is not None:
            return utc(nxt) - timedelta(minutes=1)
    return when + MANUAL_ROUND if manual else when + timedelta(days=7)


async def post_round(
    services: Services, item: Community, occurrence: str, when: datetime, *, manual: bool = False
) -> DialogueRound | None:
    posted = await post_rounds(services, [(item, occurrence, when)], manual=manual)
    return posted[0] if posted else None


async def post_rounds(
    services: Services, due: list[tuple[Community, str, datetime]], *, manual: bool = False
) -> list[DialogueRound]:
    """Post the next question of each community (community, occurrence, scheduled time).

    Many communities at once cost a handful of statements: their histories are loaded in
    bulk and the rounds, states and question messages commit in one transaction."""
    posted: list[DialogueRound] = []
    by_workspace: dict[str, list[tuple[Community, str, datetime]]] = {}
    for entry in due:
        by_workspace.setdefault(entry[0].workspace_id, []).append(entry)
    for workspace_id, entries in by_workspace.items():
        found = await histories(services, workspace_id, [item.channel_id for item, _, _ in entries])
        await close_open_rounds(
            services, workspace_id, {item.channel_id: when for item, _, when in entries}
        )
        planned: list[Opening] = []
        skipped: list[dict[str, object]] = []
        for item, occurrence, when in entries:
            state = found[item.channel_id].state
            if state.skip_next and not manual:
                skipped.append(state_values(state, skip_next=False))
                log.info("round in %s/%s skipped by an admin", workspace_id, item.channel_id)
                continue
            plan = _plan(services, item, found[item.channel_id], occurrence, when, manual)
            if plan is not None:
                planned.append(plan)
        if skipped:
            await services.rounds.save_states(skipped)
        opened = await services.rounds.open(planned, services.outbox)
        for row in opened:
            log.info(
                "round %s posted in %s/%s (%s)",
                row.id,
                row.workspace_id,
                row.channel_id,
                row.prompt_id,
            )
        posted += opened
    return posted


def _plan(
    services: Services,
    item: Community,
    history: History,
    occurrence: str,
    when: datetime,
    manual: bool,
) -> Opening | None:
    chosen, cycle = choose_prompt(services, item, history)
    if chosen is None:
        log.warning(
            "community %s/%s has no questions in set %r",
            item.workspace_id,
            item.channel_id,
            item.question_set,
        )
        return None
    prompt_id, prompt_kind, text = chosen
    key = f"round:{item.workspace_id}:{item.channel_id}:{occurrence}"
    closes_at = _closes_at(item, when, manual)
    row = DialogueRound(
        workspace_id=item.workspace_id,
        channel_id=item.channel_id,
        occurrence=occurrence,
        set_id=item.question_set,
        prompt_id=prompt_id,
        language=item.language,
        text=text,
        cycle=cycle,
        posted_key=key,
        posted_at=when,
        closes_at=closes_at,
    )
    message = question_message(
        services.translator(item.language), prompt_kind, text, closes_at, item
    )
    return Opening(
        row,
        state_values(history.state, cycle=cycle, pinned_prompt_id=None),
        item.platform,
        Destination(item.workspace_id, item.channel_id),
        message,
    )


def question_message(
    t: Translator, prompt_kind: str, text: str, closes_at: datetime | None, item: Community
) -> OutboundMessage:
    title = STATEMENT_TITLE if prompt_kind == "statement" else QUESTION_TITLE
    if closes_at is not None:
        from bot.insight.formats import day_time

        how = fill(t.gettext(HOW_TO_ANSWER), date=day_time(closes_at, t.lang, item.timezone))
    else:
        how = (t.gettext(HOW_TO_ANSWER_OPEN),)
    return OutboundMessage.of(
        Section(parts=(Strong(text=t.gettext(title)),)),
        Section(parts=(text,)),
        ContextBlock(parts=how),
    )


# -- answers ------------------------------------------------------------------------------------
def _round_reply(event: InboundEvent) -> bool | None:
    ok = event.kind is EventKind.MESSAGE and bool(event.conversation.thread_id) and event.text
    return True if ok else None


async def open_round_for_thread(
    services: Services, workspace_id: str, channel_id: str, thread_id: str
) -> DialogueRound | None:
    for row in await services.rounds.open_in(workspace_id, [channel_id]):
        if row.message_id is None:  # learn the question's message id once it was delivered
            row.message_id = await services.outbox.result_message_id(row.posted_key)
            if row.message_id:
                await services.rounds.set_message_id(row.id, row.message_id)
        if row.message_id == thread_id:
            return row
    return None


async def on_reply(event: InboundEvent, ctx: Context) -> None:
    thread_id = event.conversation.thread_id or ""
    row = await open_round_for_thread(
        ctx.services, event.workspace_id, event.conversation.id, thread_id
    )
    text = clean(event.text)
    if row is None or row.id is None or not text or event.message_id is None:
        return
    await ctx.rounds.add_answer(
        Contribution(
            workspace_id=event.workspace_id,
            round_id=row.id,
            author_id=event.user.user_id,
            text=text[:4000],
            message_id=event.message_id,
            created_at=ctx.now,
        )
    )


async def on_reaction(event: InboundEvent, ctx: Context) -> None:
    if event.action is None or not event.action.message_id:
        return
    await ctx.rounds.count_reaction(event.workspace_id, event.action.message_id, event.user.user_id)


# -- closing ------------------------------------------------------------------------------------
async def close_due(services: Services, now: datetime) -> int:
    closed = 0
    for row in await services.rounds.closing_due(now):
        closed += await close_round(services, row, now)
    return closed


async def close_open_rounds(
    services: Services, workspace_id: str, closing: dict[str, datetime]
) -> int:
    """Close the open rounds of these channels (channel id -> closing time): one query."""
    closed = 0
    for row in await services.rounds.open_in(workspace_id, list(closing)):
        closed += await close_round(services, row, closing[row.channel_id])
    return closed


async def close_round(services: Services, row: DialogueRound, now: datetime) -> int:
    """Claim the closing (only one process wins), then post the summary."""
    answers = await services.rounds.close(row.id, now)
    if answers is None:
        return 0
    message_id = row.message_id or await services.outbox.result_message_id(row.posted_key)
    platform = row.workspace_id.split(":", 1)[0]
    key = f"summary:{row.workspace_id}:{row.id}"
    t = services.translator(row.language)
    if not answers:
        # One short line under the question, not in the channel: an empty round should not
        # fill the channel right before the next question.
        if message_id:
            await services.outbox.send(
                platform,
                Destination(row.workspace_id, row.channel_id, thread_id=message_id),
                OutboundMessage.text(t.gettext(NO_ANSWERS)),
                key=key,
            )
    else:
        # One summary: in the question's thread and, where the platform can (Slack's
        # reply_broadcast), also shown in the channel; in the channel when the thread is unknown.
        summary = summary_message(t, row, answers).model_copy(update={"broadcast": True})
        await services.outbox.send(
            platform,
            Destination(row.workspace_id, row.channel_id, thread_id=message_id),
            summary,
            key=key,
        )
    log.info("round %s closed with %d answers", row.id, len(answers))
    return 1


def summary_message(
    t: Translator, row: DialogueRound, answers: list[Contribution]
) -> OutboundMessage:
    """Who answered, the answers that got reactions (most first; else the first answers),
    each quoted once, and an invitation for readers."""
    blocks: list[Section | Quote | ContextBlock] = [
        Section(parts=fill(t.gettext(SUMMARY_TITLE), question=Strong(text=shorten(row.text, 200))))
    ]
    people = {a.author_id for a in answers}
    answered = t.ngettext(
        "{count} colleague answered.", "{count} colleagues answered.", len(people)
    )
    blocks.append(Section(parts=fill(answered, count=len(people))))
    reacted = sorted(
        (a for a in answers if a.reactions > 0), key=lambda a: (-a.reactions, a.created_at)
    )
    if reacted:
        top = reacted[:TOP_ANSWERS]
        title = t.ngettext(
            "The answer that resonated most:", "The answers that resonated most:", len(top)
        )
    else:
        top = sorted(answers, key=lambda a: a.created_at)[:TOP_ANSWERS]
        title = t.ngettext("The first answer:", "The first answers:", len(top))
    blocks.append(Section(parts=(Strong(text=title),)))
    for answer in top:
        blocks.append(
            Quote(text=shorten(answer.text, 180), author=Mention(user_id=answer.author_id))
        )
        if answer.reactions:
            reactions = t.ngettext("{count} reaction", "{count} reactions", answer.reactions)
            blocks.append(ContextBlock(parts=fill(reactions, count=answer.reactions)))
    blocks.append(ContextBlock(parts=(t.gettext(READERS),)))
    return OutboundMessage(blocks=tuple(blocks))
