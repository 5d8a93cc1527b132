"""Keeping durf te vragen alive: one digest DM to managers for questions nobody acknowledged
within N working hours, and gentle suggestions of people who may know for questions nobody
answered within M hours. Both at most once per question."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.clock import utc
from bot.communities import communities, platform_of
from bot.i18n import N_, Translator
from bot.insight import formats
from bot.messages import Context as ContextBlock
from bot.messages import Inline, Mention, OutboundMessage, Quote, Section, Strong, fill
from bot.ports import Destination
from bot.roles import ADMIN, MANAGER
from bot.router import Router
from bot.scheduler import Job, cron
from bot.store.tables.asks import Question
from bot.text import shorten

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
NUDGE_JOB = "asks.nudges"
WORK_START, WORK_END = time(9, 0), time(17, 0)
MAX_SUGGESTED = 3
# (workspace_id, question text, people to leave out) -> user ids, best first
ExpertFinder = Callable[[str, str, set[str]], Awaitable[list[str]]]

DIGEST_TITLE = N_("Questions waiting for a manager's acknowledgement:")

DIGEST_HINT = N_(
    "A short acknowledgement makes it safe to ask. Open the question and press Acknowledge."
)
AND = N_(" and ")


def register(services: Services, router: Router) -> None:
    services.scheduler.add(
        Job(
            NUDGE_JOB,
            cron("*/15 * * * *", "UTC"),
            lambda when: run_nudges(services, when),
            grace=timedelta(hours=1),
            latest_only=True,
        )
    )


def working_hours(start: datetime, end: datetime, zone: str) -> float:
    """Hours between start and end that fall on Monday–Friday, 09:00–17:00 local time."""
    tz = ZoneInfo(zone)
    total = 0.0
    day = start.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        if day.weekday() < 5:
            open_ = datetime.combine(day, WORK_START, tzinfo=tz)
            close = datetime.combine(day, WORK_END, tzinfo=tz)
            lo, hi = max(open_, start), min(close, end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
        day += timedelta(days=1)
    return total


async def run_nudges(services: Services, now: datetime) -> dict[str, int]:
    counts = {"digests": 0, "suggestions": 0}
    by_workspace: dict[str, list[str]] = {}
    for item in await communities(services, kind="durf-te-vragen"):
        by_workspace.setdefault(item.workspace_id, []).append(item.channel_id)
    for workspace_id, channels in by_workspace.items():
        open_questions = await services.asks.visible_in(workspace_id, channels)
        counts["digests"] += await _digest(services, workspace_id, open_questions, now)
        counts["suggestions"] += await _suggest(services, workspace_id, open_questions, now)
    return counts


async def _digest(
    services: Services, workspace_id: str, questions: list[Question], now: datetime
) -> int:
    ack_hours = float(await services.config.value(workspace_id, "nudges.ack_hours"))
    zone = str(await services.config.value(workspace_id, "timezone"))
    waiting = [
        (q, working_hours(utc(q.created_at), now, zone))
        for q in questions
        if q.first_ack_at is None and q.ack_nudged_at is None
    ]
    waiting = [(q, h) for q, h in waiting if h >= ack_hours]
    if not waiting:
        return 0
    managers = list(await services.roles.holders(workspace_id, MANAGER)) or list(
        await services.roles.holders(workspace_id, ADMIN)
    )
    sent = 0
    for manager in managers:
        me = await services.personal.get(workspace_id, manager)
        if me.paused(now):
            continue
        t = services.translator(await services.languages.person(workspace_id, manager))
        blocks: list[Section | Quote | ContextBlock] = [
            Section(parts=(Strong(text=t.gettext(DIGEST_TITLE)),))
        ]
        for question, hours in waiting:
            blocks.append(Quote(text=shorten(question.text, 160)))
            blocks.append(
                ContextBlock(
                    parts=fill(
                        t.ngettext(
                            "#{number} in {channel}, asked {hours} working hour ago",
                            "#{number} in {channel}, asked {hours} working hours ago",
                            int(hours),
                        ),
                        number=question.id or 0,
                        channel=f"#{question.channel_id}",
                        hours=formats.number(int(hours), t.lang),
                    )
                )
            )
        blocks.append(ContextBlock(parts=(t.gettext(DIGEST_HINT),)))
        ids = ",".join(str(q.id) for q, _ in waiting)
        await services.outbox.send_dm(
            platform_of(workspace_id),
            workspace_id,
            (manager,),
            OutboundMessage(blocks=tuple(blocks)),
            key=f"ask-digest:{workspace_id}:{manager}:{ids}",
        )
        sent += 1
    await services.asks.ack_nudged([question.id for question, _ in waiting], now)
    return sent


async def _suggest(
    services: Services, workspace_id: str, questions: list[Question], now: datetime
) -> int:
    if not services.hooks.expert_finders:
        return 0  # no matching available: stay quiet rather than guess
    answer_hours = float(await services.config.value(workspace_id, "nudges.answer_hours"))
    due = [
        q
        for q in questions
        if q.first_answer_at is None
        and q.answered_at is None
        and q.suggested_at is None
        and utc(q.created_at) + timedelta(hours=answer_hours) <= now
    ]
    posted = 0
    for question in due:
        leave_out = {question.asker_id} if question.asker_id else set()
        people: list[str] = []
        for finder in services.hooks.expert_finders:
            for user_id in await finder(workspace_id, question.text, leave_out):
                me = await services.personal.get(workspace_id, user_id)
                if user_id not in people and me.suggest_me and not me.paused(now):
                    people.append(user_id)
        await services.asks.suggested(question.id, now)
        people = people[:MAX_SUGGESTED]
        if not people:
            continue
        t = services.translator(question.language)
        thread = question.message_id or await services.outbox.result_message_id(
            question.posted_key or ""
        )
        await services.outbox.send(
            platform_of(workspace_id),
            Destination(workspace_id, question.channel_id, thread_id=thread),
            OutboundMessage.text(
                *people_parts(suggest_text(t, len(people)), people, t.gettext(AND))
            ),
            key=f"ask-suggest:{workspace_id}:{question.id}",
        )
        posted += 1
    return posted


def suggest_text(t: Translator, count: int) -> str:
    """ "Maybe @a knows …" / "Maybe @a and @b know …": the verb agrees with the people."""
    return t.ngettext(
        "Maybe {people} knows more about this? No pressure: a pointer to someone helps too.",
        "Maybe {people} know more about this? No pressure: a pointer to someone helps too.",
        count,
    )


def people_parts(template: str, user_ids: list[str], and_word: str) -> tuple[Inline, ...]:
    """`template` with `{people}` replaced by real mentions: "@a, @b and @c"."""
    before, _, after = template.partition("{people}")
    parts: list[Inline] = [before] if before else []
    for i, user_id in enumerate(user_ids):
        if i:
            parts.append(and_word if i == len(user_ids) - 1 else ", ")
        parts.append(Mention(user_id=user_id))
    if after:
        parts.append(after)
    return tuple(parts)
