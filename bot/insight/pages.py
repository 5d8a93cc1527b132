"""What the dashboard's list pages show: dialogue rounds with their summaries, and the
durf-te-vragen queue. No names of people: counts, questions and answers as posted."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import utc
from bot.text import shorten

if TYPE_CHECKING:
    from bot.services import Services

TOP_ANSWERS = 3


@dataclass
class RoundRow:
    community: str
    question: str
    posted_at: datetime
    closed_at: datetime | None
    answers: int
    participants: int | None  # None: fewer different people than the minimum group
    top_answers: list[str] = field(default_factory=list)  # most reacted first


async def recent_rounds(
    services: Services,
    workspace_id: str,
    names: dict[str, str],
    limit: int = 30,
    min_group: int = 1,
) -> list[RoundRow]:
    """The latest rounds, newest first; how many different people answered is shown only
    from `min_group` people on (a count of answers is not a count of people)."""
    found = []
    for r, mine in await services.rounds.recent_with_answers(workspace_id, limit):
        found.append(
            RoundRow(
                community=names.get(r.channel_id, r.channel_id),
                question=shorten(r.text, 300),
                posted_at=utc(r.posted_at),
                closed_at=utc(r.closed_at) if r.closed_at else None,
                answers=len(mine),
                participants=_at_least(len({a.author_id for a in mine}), min_group),
                top_answers=[shorten(a.text, 200) for a in mine[:TOP_ANSWERS]],
            )
        )
    return found


def _at_least(people: int, min_group: int) -> int | None:
    return people if people >= min_group else None


def most_answered(rounds: list[RoundRow], count: int = 5) -> list[RoundRow]:
    """The rounds whose question drew the most answers (ties: the newest first)."""
    ranked = sorted(rounds, key=lambda r: (r.answers, r.posted_at), reverse=True)
    return [r for r in ranked if r.answers > 0][:count]


@dataclass
class QueueItem:
    community: str
    question: str
    asked_at: datetime
    anonymous: bool
    acknowledged: bool
    answered: bool
    channel_id: str = ""
    message_id: str | None = None  # the question's message on the platform, when known
    link: str | None = None  # to its thread on the platform (set by the dashboard)


@dataclass
class Queue:
    unacknowledged: list[QueueItem]
    unanswered: list[QueueItem]


async def question_queue(
    services: Services, workspace_id: str, names: dict[str, str], limit: int = 50
) -> Queue | None:
    """Open durf-te-vragen questions, oldest first."""
    rows = await services.asks.waiting(workspace_id, limit)
    items = [
        QueueItem(
            community=names.get(q.channel_id, q.channel_id),
            question=shorten(q.text, 300),
            asked_at=utc(q.created_at),
            anonymous=q.asker_id is None,
            acknowledged=q.first_ack_at is not None,
            answered=bool(q.first_answer_at or q.answered_at),
            channel_id=q.channel_id,
            message_id=q.message_id,
        )
        for q in rows
    ]
    return Queue(
        unacknowledged=[i for i in items if not i.acknowledged],
        unanswered=[i for i in items if not i.answered],
    )


def rounds_csv(rounds: list[RoundRow], min_group: int) -> str:
    """The rounds table as CSV: counts only (no answers' texts, no names)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("community", "question", "posted_at", "closed_at", "answers", "participants"))
    for r in rounds:
        writer.writerow(
            (
                r.community,
                r.question,
                r.posted_at.isoformat(),
                r.closed_at.isoformat() if r.closed_at else "",
                r.answers,
                f"<{min_group}" if r.participants is None else r.participants,
            )
        )
    return out.getvalue()


def queue_csv(queue: Queue, now: datetime) -> str:
    """The open durf-te-vragen questions as CSV, oldest first, with how long they wait."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        (
            "community",
            "question",
            "asked_at",
            "waiting_hours",
            "acknowledged",
            "answered",
            "asked",
            "link",
        )
    )
    seen: set[int] = set()
    for item in sorted(queue.unacknowledged + queue.unanswered, key=lambda i: i.asked_at):
        if id(item) in seen:
            continue
        seen.add(id(item))
        writer.writerow(
            (
                item.community,
                item.question,
                item.asked_at.isoformat(),
                round((now - item.asked_at).total_seconds() / 3600, 1),
                "yes" if item.acknowledged else "no",
                "yes" if item.answered else "no",
                "anonymous" if item.anonymous else "by name",
                item.link or "",
            )
        )
    return out.getvalue()
