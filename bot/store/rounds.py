"""Dialogue rounds: their questions, answers and each community's place in its question set
(bot/features/rounds.py decides and words; this module reads and writes)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import OutboundMessage
from bot.ports import Destination
from bot.store.engine import Database, upsert
from bot.store.tables.rhythms import CommunityState, Contribution, CustomQuestion, DialogueRound

if TYPE_CHECKING:
    from bot.delivery.outbox import Outbox


@dataclass
class History:
    """What choosing a community's next question needs, loaded for many communities at once."""

    state: CommunityState
    custom: list[tuple[str, str, str]] = field(default_factory=list)  # admins' own questions
    asked: dict[int, set[str]] = field(default_factory=dict)  # cycle -> prompt ids asked


@dataclass
class Opening:
    """A round to open: its row, its community's new state, and its question message."""

    row: DialogueRound
    state: dict[str, object]
    platform: str
    destination: Destination
    message: OutboundMessage


def state_values(state: CommunityState, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "workspace_id": state.workspace_id,
        "channel_id": state.channel_id,
        "cycle": state.cycle,
        "pinned_prompt_id": state.pinned_prompt_id,
        "skip_next": state.skip_next,
    }
    return {**values, **changes}


class RoundRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- choosing the next question ------------------------------------------------------------
    async def histories(self, workspace_id: str, channel_ids: list[str]) -> dict[str, History]:
        """State, custom questions and asked prompts (per cycle) of many channels: three
        queries."""
        found = {
            c: History(CommunityState(workspace_id=workspace_id, channel_id=c)) for c in channel_ids
        }
        async with self.db.session() as s:
            for state in await s.exec(
                select(CommunityState).where(
                    CommunityState.workspace_id == workspace_id,
                    col(CommunityState.channel_id).in_(channel_ids),
                )
            ):
                found[state.channel_id].state = state
            for q in await s.exec(
                select(CustomQuestion)
                .where(
                    CustomQuestion.workspace_id == workspace_id,
                    col(CustomQuestion.channel_id).in_(channel_ids),
                )
                .order_by(col(CustomQuestion.id))
            ):
                found[q.channel_id].custom.append((f"custom-{q.id}", "question", q.text))
            rounds = await s.exec(
                select(
                    DialogueRound.channel_id, DialogueRound.cycle, DialogueRound.prompt_id
                ).where(
                    DialogueRound.workspace_id == workspace_id,
                    col(DialogueRound.channel_id).in_(channel_ids),
                )
            )
            for channel_id, cycle, prompt_id in rounds:
                found[channel_id].asked.setdefault(cycle, set()).add(prompt_id)
        return found

    async def state(self, workspace_id: str, channel_id: str) -> CommunityState:
        """A community's place in its question set (a fresh state when it has none yet)."""
        async with self.db.session() as s:
            state = await s.get(CommunityState, (workspace_id, channel_id))
        return state or CommunityState(workspace_id=workspace_id, channel_id=channel_id)

    async def save_state(self, state: CommunityState) -> None:
        async with self.db.session() as s:
            s.add(await s.merge(state))
            await s.commit()

    async def save_states(self, values: list[dict[str, object]]) -> None:
        """Many communities' states (see `state_values`) in one upsert."""
        async with self.db.session() as s:
            await self._save_states(s, values)
            await s.commit()

    async def _save_states(self, s: AsyncSession, values: list[dict[str, object]]) -> None:
        statement = upsert(
            self.db.dialect,
            CommunityState,
            ["workspace_id", "channel_id"],
            ["cycle", "pinned_prompt_id", "skip_next"],
        )
        await s.exec(statement, params=values)

    async def add_question(self, question: CustomQuestion) -> None:
        """An admin's own question for a community."""
        async with self.db.session() as s:
            s.add(question)
            await s.commit()

    # -- opening -------------------------------------------------------------------------------
    async def open(self, openings: list[Opening], outbox: Outbox) -> list[DialogueRound]:
        """Rounds, community states and question messages in one transaction: a crash leaves
        all or none. When another process opened one of the occurrences already, each round
        is tried on its own; the rounds opened here are returned."""
        try:
            return await self._open(openings, outbox)
        except IntegrityError:
            opened: list[DialogueRound] = []
            for opening in openings:
                with contextlib.suppress(IntegrityError):
                    opened += await self._open([opening], outbox)
            return opened

    async def _open(self, openings: list[Opening], outbox: Outbox) -> list[DialogueRound]:
        if not openings:
            return []
        async with self.db.session() as s:
            s.add_all([o.row for o in openings])
            await self._save_states(s, [o.state for o in openings])
            for o in openings:
                outbox.stage_send(s, o.platform, o.destination, o.message, key=o.row.posted_key)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
                raise
        outbox.wake()
        return [o.row for o in openings]

    # -- answers -------------------------------------------------------------------------------
    async def open_in(self, workspace_id: str, channel_ids: list[str]) -> list[DialogueRound]:
        """The rounds still open in these channels."""
        async with self.db.session() as s:
            return list(
                await s.exec(
                    select(DialogueRound).where(
                        DialogueRound.workspace_id == workspace_id,
                        col(DialogueRound.channel_id).in_(channel_ids),
                        col(DialogueRound.closed_at).is_(None),
                    )
                )
            )

    async def set_message_id(self, round_id: int | None, message_id: str) -> None:
        """Remember the platform id of a round's question once it was delivered."""
        async with self.db.session() as s:
            await s.exec(
                update(DialogueRound)
                .where(col(DialogueRound.id) == round_id)
                .values(message_id=message_id)
            )
            await s.commit()

    async def add_answer(self, answer: Contribution) -> bool:
        """Store an answer; False when its message was stored before."""
        async with self.db.session() as s:
            s.add(answer)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
                return False
            return True

    async def count_reaction(self, workspace_id: str, message_id: str, reactor_id: str) -> None:
        """One more reaction on an answer, unless its author reacted to their own answer."""
        async with self.db.session() as s:
            await s.exec(
                update(Contribution)
                .where(
                    col(Contribution.workspace_id) == workspace_id,
                    col(Contribution.message_id) == message_id,
                    col(Contribution.author_id) != reactor_id,
                )
                .values(reactions=Contribution.reactions + 1)
            )
            await s.commit()

    async def current(self, workspace_id: str, channel_id: str) -> tuple[DialogueRound, int] | None:
        """A channel's open round and how many answers it has so far (None: none open)."""
        async with self.db.session() as s:
            row = (
                await s.exec(
                    select(DialogueRound).where(
                        DialogueRound.workspace_id == workspace_id,
                        DialogueRound.channel_id == channel_id,
                        col(DialogueRound.closed_at).is_(None),
                    )
                )
            ).first()
            if row is None:
                return None
            answers = (
                await s.exec(
                    select(func.count())
                    .select_from(Contribution)
                    .where(Contribution.round_id == row.id)
                )
            ).one()
        return row, int(answers)

    # -- closing -------------------------------------------------------------------------------
    async def closing_due(self, now: datetime) -> list[DialogueRound]:
        """Open rounds whose closing time has come, in every workspace."""
        async with self.db.session() as s:
            return list(
                await s.exec(
                    select(DialogueRound).where(
                        col(DialogueRound.closed_at).is_(None), col(DialogueRound.closes_at) <= now
                    )
                )
            )

    async def close(self, round_id: int | None, now: datetime) -> list[Contribution] | None:
        """Claim a round's closing (only one process wins) and read its answers, most
        reacted first; None when it was closed already."""
        async with self.db.session() as s:
            result: Any = await s.exec(
                update(DialogueRound)
                .where(
                    col(DialogueRound.id) == round_id,
                    col(DialogueRound.closed_at).is_(None),
                )
                .values(closed_at=now)
            )
            await s.commit()
            if result.rowcount != 1:
                return None
            return list(
                await s.exec(
                    select(Contribution)
                    .where(Contribution.round_id == round_id)
                    .order_by(col(Contribution.reactions).desc(), col(Contribution.created_at))
                )
            )

    # -- the dashboard -------------------------------------------------------------------------
    async def recent_with_answers(
        self, workspace_id: str, limit: int
    ) -> list[tuple[DialogueRound, list[Contribution]]]:
        """The latest rounds, newest first, each with its answers (most reacted first)."""
        async with self.db.session() as s:
            rounds = list(
                await s.exec(
                    select(DialogueRound)
                    .where(DialogueRound.workspace_id == workspace_id)
                    .order_by(col(DialogueRound.posted_at).desc())
                    .limit(limit)
                )
            )
            answers = await s.exec(
                select(Contribution)
                .where(col(Contribution.round_id).in_([r.id for r in rounds]))
                .order_by(col(Contribution.reactions).desc(), col(Contribution.created_at))
            )
            by_round: dict[int, list[Contribution]] = defaultdict(list)
            for answer in answers:
                by_round[answer.round_id].append(answer)
        return [(r, by_round.get(r.id or 0, [])) for r in rounds]
