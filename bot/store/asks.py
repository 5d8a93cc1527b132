"""Durf-te-vragen questions, their acknowledgements and relayed answers
(bot/features/ask*.py decide and word; this module reads and writes)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, func, select, update

from bot.store.engine import Database
from bot.store.limits import Limits
from bot.store.tables.asks import Acknowledgement, Question, RelayedAnswer


class AskRepo:
    def __init__(self, db: Database, limits: Limits) -> None:
        self.db = db
        self.limits = limits

    # -- asking --------------------------------------------------------------------------------
    async def save(self, question: Question) -> Question:
        """Store a new question or a changed one; returned as stored (with its number)."""
        async with self.db.session() as s:
            merged = await s.merge(question)
            await s.commit()
            await s.refresh(merged)
            return merged

    async def add_anonymous(
        self, question: Question, refs: list[str], *, since: datetime, limit: int
    ) -> Question | None:
        """Store an anonymous question unless its asker (any of `refs`) asked `limit` since
        `since`: counted and stored under one lock (bot/store/limits.py), so replicas
        together never let anyone past the limit; the questions' own rows are the count.
        None when the limit was reached."""
        key = f"ask-anon:{question.anon_ref}"
        async with self.db.session() as s, self.limits.exclusive(s, key):
            asked = (
                await s.exec(
                    select(func.count())
                    .select_from(Question)
                    .where(col(Question.anon_ref).in_(refs), col(Question.created_at) > since)
                )
            ).one()
            if asked >= limit:
                return None
            s.add(question)
            await s.commit()
            await s.refresh(question)
            return question

    async def get(self, workspace_id: str, number: int) -> Question | None:
        """Question `number` of this workspace (None: unknown here)."""
        async with self.db.session() as s:
            question = await s.get(Question, number)
        return question if question is not None and question.workspace_id == workspace_id else None

    async def in_thread(
        self, workspace_id: str, channel_id: str, thread_id: str
    ) -> tuple[Question | None, list[Question]]:
        """The question whose message starts the thread; when none is known by that id,
        (None, the questions of the channel whose message id is not known yet)."""
        async with self.db.session() as s:
            found = (
                await s.exec(
                    select(Question).where(
                        Question.workspace_id == workspace_id,
                        Question.channel_id == channel_id,
                        Question.message_id == thread_id,
                    )
                )
            ).first()
            if found is not None:
                return found, []
            return None, list(
                await s.exec(
                    select(Question).where(
                        Question.workspace_id == workspace_id,
                        Question.channel_id == channel_id,
                        col(Question.message_id).is_(None),
                        col(Question.posted_key).is_not(None),
                    )
                )
            )

    async def question_id_in(
        self, workspace_id: str, channel_id: str, message_id: str
    ) -> int | None:
        """The number of the question posted as this message, if it is one."""
        async with self.db.session() as s:
            return (
                await s.exec(
                    select(Question.id).where(
                        Question.workspace_id == workspace_id,
                        Question.channel_id == channel_id,
                        Question.message_id == message_id,
                    )
                )
            ).first()

    async def set_message_id(self, question_id: int | None, message_id: str) -> None:
        """Remember the platform id of a question's message once it was delivered."""
        async with self.db.session() as s:
            await s.exec(
                update(Question)
                .where(col(Question.id) == question_id)
                .values(message_id=message_id)
            )
            await s.commit()

    # -- answers -------------------------------------------------------------------------------
    async def first_answered(self, question_id: int | None, now: datetime) -> None:
        """Note the first answer in a question's thread (later ones change nothing)."""
        async with self.db.session() as s:
            await s.exec(
                update(Question)
                .where(
                    col(Question.id) == question_id,
                    col(Question.first_answer_at).is_(None),
                )
                .values(first_answer_at=now)
            )
            await s.commit()

    async def add_relayed(self, question_id: int, message_id: str) -> None:
        """An answer relayed to an anonymous asker."""
        async with self.db.session() as s:
            s.add(RelayedAnswer(question_id=question_id, message_id=message_id))
            await s.commit()

    async def unanswered_of(
        self, workspace_id: str, channel_id: str, asker_id: str
    ) -> list[Question]:
        """A named asker's visible questions in a channel that are not marked answered."""
        async with self.db.session() as s:
            return list(
                await s.exec(
                    select(Question).where(
                        Question.workspace_id == workspace_id,
                        Question.channel_id == channel_id,
                        Question.asker_id == asker_id,
                        col(Question.answered_at).is_(None),
                        col(Question.hidden).is_(False),
                    )
                )
            )

    # -- acknowledgements ----------------------------------------------------------------------
    async def acknowledged(self, question_id: int | None, manager_id: str) -> bool:
        async with self.db.session() as s:
            return (
                await s.exec(
                    select(Acknowledgement).where(
                        Acknowledgement.question_id == question_id,
                        Acknowledgement.manager_id == manager_id,
                    )
                )
            ).first() is not None

    async def acknowledge(
        self, question: Question, manager_id: str, note: str | None, now: datetime
    ) -> None:
        """A manager's acknowledgement, and the question's first one, in one transaction."""
        async with self.db.session() as s:
            s.add(
                Acknowledgement(
                    workspace_id=question.workspace_id,
                    question_id=question.id or 0,
                    manager_id=manager_id,
                    note=note,
                    created_at=now,
                )
            )
            await s.exec(
                update(Question)
                .where(
                    col(Question.id) == question.id,
                    col(Question.first_ack_at).is_(None),
                )
                .values(first_ack_at=now)
            )
            await s.commit()

    async def acknowledgers(self, question_id: int | None) -> tuple[str, ...]:
        """Who acknowledged a question, first first, each once."""
        async with self.db.session() as s:
            rows = await s.exec(
                select(Acknowledgement.manager_id)
                .where(Acknowledgement.question_id == question_id)
                .order_by(col(Acknowledgement.id))
            )
            return tuple(dict.fromkeys(rows))

    # -- nudges --------------------------------------------------------------------------------
    async def visible_in(self, workspace_id: str, channel_ids: list[str]) -> list[Question]:
        """The questions of these channels that are not hidden."""
        async with self.db.session() as s:
            return list(
                await s.exec(
                    select(Question).where(
                        Question.workspace_id == workspace_id,
                        col(Question.channel_id).in_(channel_ids),
                        col(Question.hidden).is_(False),
                    )
                )
            )

    async def ack_nudged(self, question_ids: list[int | None], now: datetime) -> None:
        """Managers were reminded of these questions: one statement for all of them."""
        async with self.db.session() as s:
            await s.exec(
                update(Question).where(col(Question.id).in_(question_ids)).values(ack_nudged_at=now)
            )
            await s.commit()

    async def suggested(self, question_id: int | None, now: datetime) -> None:
        """Colleagues who may know were looked for (and named, if any)."""
        async with self.db.session() as s:
            await s.exec(
                update(Question).where(col(Question.id) == question_id).values(suggested_at=now)
            )
            await s.commit()

    # -- the dashboard and privacy -------------------------------------------------------------
    async def waiting(self, workspace_id: str, limit: int) -> list[Question]:
        """Visible questions not yet acknowledged or not yet answered, oldest first."""
        async with self.db.session() as s:
            return list(
                await s.exec(
                    select(Question)
                    .where(
                        Question.workspace_id == workspace_id,
                        col(Question.hidden).is_(False),
                        (col(Question.first_ack_at).is_(None))
                        | (
                            col(Question.first_answer_at).is_(None)
                            & col(Question.answered_at).is_(None)
                        ),
                    )
                    .order_by(col(Question.created_at))
                    .limit(limit)
                )
            )

    async def anonymous_of(self, refs: list[str]) -> list[Question]:
        """The anonymous questions of one asker (any of their `refs`)."""
        async with self.db.session() as s:
            return list(await s.exec(select(Question).where(col(Question.anon_ref).in_(refs))))

    async def forget_asker(self, refs: list[str]) -> int:
        """Unlink an anonymous asker from their questions; how many were linked."""
        async with self.db.session() as s:
            result = await s.exec(
                update(Question)
                .where(col(Question.anon_ref).in_(refs))
                .values(anon_ref=None, anon_contact=None)
            )
            await s.commit()
        return int(result.rowcount or 0)
