"""Dialogue rounds: their questions, answers and each community's place in its question set
(bot/features/rounds.py decides and words; this module reads and writes)."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import col, select

from bot.store.engine import Database
from bot.store.tables.rhythms import Contribution, DialogueRound


class RoundRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def recent_with_answers(
        self, workspace_id: str, limit: int
    ) -> list[tuple[DialogueRound, list[Contribution]]]:
        """The latest rounds, newest first, each with its answers (most reacted first)."""
        async with self.db.session() as s:
            rounds = list(await s.exec(
                select(DialogueRound)
                .where(DialogueRound.workspace_id == workspace_id)
                .order_by(col(DialogueRound.posted_at).desc())
                .limit(limit)))
            answers = await s.exec(
                select(Contribution)
                .where(col(Contribution.round_id).in_([r.id for r in rounds]))
                .order_by(col(Contribution.reactions).desc(), col(Contribution.created_at)))
            by_round: dict[int, list[Contribution]] = defaultdict(list)
            for answer in answers:
                by_round[answer.round_id].append(answer)
        return [(r, by_round.get(r.id or 0, [])) for r in rounds]
