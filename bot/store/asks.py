"""Durf-te-vragen questions, their acknowledgements, relayed answers and thanks
(bot/features/asks*.py decide and word; this module reads and writes)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.store.engine import Database
from bot.store.tables.asks import Question


class AskRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def waiting(self, workspace_id: str, limit: int) -> list[Question]:
        """Visible questions not yet acknowledged or not yet answered, oldest first."""
        async with self.db.session() as s:
            return list(await s.exec(
                select(Question)
                .where(
                    Question.workspace_id == workspace_id,
                    col(Question.hidden).is_(False),
                    (col(Question.first_ack_at).is_(None))
                    | (col(Question.first_answer_at).is_(None)
                       & col(Question.answered_at).is_(None)),
                )
                .order_by(col(Question.created_at))
                .limit(limit)))
