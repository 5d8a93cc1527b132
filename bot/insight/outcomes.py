"""Outcomes: what came of the participation, counted from each feature's own tables.

Each source is one function over the rows read for a `Scope` (bot/store/outcomes.py, one
session) returning figures and the times of its events (for the trend). Adding a feature's
figures is a query there and one function in `SOURCES` here.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import utc
from bot.i18n import N_
from bot.store.outcomes import OutcomeRows

Number = int | float | None


@dataclass
class Found:
    figures: dict[str, Number] = field(default_factory=dict)
    # figure name -> the times of its events, for the per-period trend
    times: dict[str, list[datetime]] = field(default_factory=dict)


# figure name -> (msgid, kind): kind "count", "share" (0..1) or "hours" (a median)
FIGURES: dict[str, tuple[str, str]] = {
    "narrations": (N_("narrations shared"), "count"),
    "suggestions": (N_("matches shown"), "count"),
    "suggestions_acted_on": (N_("matches acted on (Connect me)"), "count"),
    "suggestions_dismissed": (N_("matches answered Not relevant"), "count"),
    "introductions": (N_("introductions made"), "count"),
    "introductions_rated": (N_("introductions rated"), "count"),
    "introductions_helpful": (N_("introductions rated helpful"), "count"),
    "rounds": (N_("dialogue rounds"), "count"),
    "round_answers": (N_("answers in dialogue rounds"), "count"),
    "round_participants": (N_("different people who answered in rounds"), "count"),
    "participants_per_round": (N_("participants per round (average)"), "number"),
    "questions": (N_("durf-te-vragen questions"), "count"),
    "questions_named": (N_("questions asked by name"), "count"),
    "questions_anonymous": (N_("questions asked anonymously"), "count"),
    "acknowledged": (N_("questions acknowledged"), "count"),
    "questions_acknowledged": (N_("share of questions acknowledged"), "share"),
    "hours_to_acknowledgement": (N_("hours to first acknowledgement (median)"), "hours"),
    "questions_answered": (N_("share of questions answered"), "share"),
    "hours_to_answer": (N_("hours to first answer (median)"), "hours"),
    "thanks": (N_("thanks given"), "count"),
}
HELPED = ("yes", "somewhat")
TREND = ("narrations", "introductions", "round_answers", "questions", "thanks")


def narrations(rows: OutcomeRows) -> Found:
    return Found(
        {"narrations": len(rows.narrations)}, {"narrations": [utc(t) for t in rows.narrations]}
    )


def matching(rows: OutcomeRows) -> Found:
    shown, intros = rows.suggestions, rows.introductions
    rated = [h for _, h in intros if h]
    helped = [utc(t) for t, h in intros if h in HELPED]
    return Found(
        {
            "suggestions": len(shown),
            "suggestions_acted_on": sum(1 for _, outcome in shown if outcome == "connected"),
            "suggestions_dismissed": sum(1 for _, outcome in shown if outcome == "not_relevant"),
            "introductions": len(intros),
            "introductions_rated": len(rated),
            "introductions_helpful": len(helped),
        },
        # an introduction that helped counts in the period it was made
        {"introductions": [utc(t) for t, _ in intros], "introductions_helpful": helped},
    )


def rounds(rows: OutcomeRows) -> Found:
    posted, answers = rows.rounds, rows.answers
    per_round = {(r, a) for r, a, _ in answers}
    return Found(
        {
            "rounds": len(posted),
            "round_answers": len(answers),
            "round_participants": len({a for _, a, _ in answers}),
            "participants_per_round": round(len(per_round) / len(posted), 1) if posted else None,
        },
        {"round_answers": [utc(t) for _, _, t in answers]},
    )


def _hours(pairs: list[tuple[datetime, datetime]]) -> float | None:
    if not pairs:
        return None
    return round(statistics.median((utc(b) - utc(a)).total_seconds() / 3600 for a, b in pairs), 1)


def asks(found: OutcomeRows) -> Found:
    rows, thanks = found.questions, found.thanks
    acked = [(q.created_at, q.first_ack_at) for q in rows if q.first_ack_at]
    answered = [q for q in rows if q.first_answer_at or q.answered_at]
    first_answers = [(q.created_at, at) for q in rows if (at := q.first_answer_at or q.answered_at)]
    return Found(
        {
            "questions": len(rows),
            "questions_named": sum(1 for q in rows if q.asker_id is not None),
            "questions_anonymous": sum(1 for q in rows if q.asker_id is None),
            "acknowledged": len(acked),
            "questions_acknowledged": round(len(acked) / len(rows), 3) if rows else None,
            "hours_to_acknowledgement": _hours(acked),
            "questions_answered": round(len(answered) / len(rows), 3) if rows else None,
            "hours_to_answer": _hours(first_answers),
            "thanks": len(thanks),
        },
        {
            "questions": [utc(q.created_at) for q in rows],
            # a question counts as acknowledged in the period it was asked in
            "acknowledged": [utc(q.created_at) for q in rows if q.first_ack_at],
            "thanks": [utc(t) for t in thanks],
        },
    )


Source = Callable[[OutcomeRows], Found]
SOURCES: tuple[Source, ...] = (narrations, matching, rounds, asks)


def collect(rows: OutcomeRows) -> Found:
    total = Found()
    for source in SOURCES:
        found = source(rows)
        total.figures.update(found.figures)
        total.times.update(found.times)
    return total
