"""What came of the participation, read from each feature's own tables for a `Scope`: the
rows behind the report's outcomes (bot/insight/outcomes.py turns them into figures), all
read in one session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.engine import Database
from bot.store.tables import Narration
from bot.store.tables.asks import Question, Thanks
from bot.store.tables.matching import Connection, MatchSuggestion
from bot.store.tables.rhythms import Contribution, DialogueRound


@dataclass(frozen=True)
class Scope:
    workspace_id: str
    start: datetime
    end: datetime
    channels: frozenset[str] | None = None  # None: the whole workspace


@dataclass
class OutcomeRows:
    narrations: list[datetime] = field(default_factory=list)  # created_at
    suggestions: list[tuple[datetime, str | None]] = field(default_factory=list)  # outcome
    introductions: list[tuple[datetime, str | None]] = field(default_factory=list)  # helped
    rounds: list[int] = field(default_factory=list)  # ids of the rounds posted
    answers: list[tuple[int, str, datetime]] = field(default_factory=list)  # round, author
    questions: list[Question] = field(default_factory=list)  # not hidden
    thanks: list[datetime] = field(default_factory=list)  # created_at


def _in(column: Any, scope: Scope) -> list[Any]:
    return [col(column).in_(sorted(scope.channels))] if scope.channels is not None else []


def _within(column: Any, scope: Scope) -> list[Any]:
    return [col(column) >= scope.start, col(column) < scope.end]


class OutcomeQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def rows(self, scope: Scope) -> OutcomeRows:
        async with self.db.session() as s:
            return await read_rows(s, scope)


async def read_rows(s: AsyncSession, scope: Scope) -> OutcomeRows:
    found = OutcomeRows()
    await narrations(s, scope, found)
    await matching(s, scope, found)
    await rounds(s, scope, found)
    await asks(s, scope, found)
    return found


async def narrations(s: AsyncSession, scope: Scope, found: OutcomeRows) -> None:
    found.narrations = list(
        await s.exec(
            select(Narration.created_at).where(
                Narration.workspace_id == scope.workspace_id,
                *_within(Narration.created_at, scope),
                *_in(Narration.channel_id, scope),
            )
        )
    )


async def matching(s: AsyncSession, scope: Scope, found: OutcomeRows) -> None:
    def scoped(query: Any, narration_id: Any) -> Any:
        if scope.channels is None:
            return query
        return query.join(Narration, col(Narration.id) == narration_id).where(
            *_in(Narration.channel_id, scope)
        )

    found.suggestions = [
        (t, o)
        for t, o in await s.exec(
            scoped(
                select(MatchSuggestion.created_at, MatchSuggestion.outcome).where(
                    MatchSuggestion.workspace_id == scope.workspace_id,
                    *_within(MatchSuggestion.created_at, scope),
                ),
                MatchSuggestion.narration_id,
            )
        )
    ]
    found.introductions = [
        (t, h)
        for t, h in await s.exec(
            scoped(
                select(Connection.created_at, Connection.helped).where(
                    Connection.workspace_id == scope.workspace_id,
                    *_within(Connection.created_at, scope),
                ),
                Connection.narration_id,
            )
        )
    ]


async def rounds(s: AsyncSession, scope: Scope, found: OutcomeRows) -> None:
    found.rounds = [
        r
        for r in await s.exec(
            select(DialogueRound.id).where(
                DialogueRound.workspace_id == scope.workspace_id,
                *_within(DialogueRound.posted_at, scope),
                *_in(DialogueRound.channel_id, scope),
            )
        )
        if r is not None
    ]
    found.answers = [
        (r, a, t)
        for r, a, t in await s.exec(
            select(Contribution.round_id, Contribution.author_id, Contribution.created_at).where(
                Contribution.workspace_id == scope.workspace_id,
                col(Contribution.round_id).in_(found.rounds),
            )
        )
    ]


async def asks(s: AsyncSession, scope: Scope, found: OutcomeRows) -> None:
    found.questions = list(
        await s.exec(
            select(Question).where(
                Question.workspace_id == scope.workspace_id,
                col(Question.hidden).is_(False),
                *_within(Question.created_at, scope),
                *_in(Question.channel_id, scope),
            )
        )
    )
    found.thanks = list(
        await s.exec(
            select(Thanks.created_at).where(
                Thanks.workspace_id == scope.workspace_id,
                *_within(Thanks.created_at, scope),
                *_in(Thanks.channel_id, scope),
            )
        )
    )
