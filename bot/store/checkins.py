"""Check-ins: whose check-in question waits for an answer (bot/features/checkins.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import col, select, update

from bot.messages import OutboundMessage
from bot.store.engine import Database, upsert
from bot.store.tables import Narration
from bot.store.tables.rhythms import CheckinState

if TYPE_CHECKING:
    from bot.delivery.outbox import Outbox
    from bot.scheduler import Scheduler


@dataclass(frozen=True)
class CheckinAsk:
    """One person's check-in question at one occurrence (`job_id`, `slot`)."""

    job_id: str
    slot: datetime
    user_id: str
    message: OutboundMessage
    key: str
    skipped: bool  # the previous question went unanswered


class CheckinRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def states(self, workspace_id: str) -> dict[str, CheckinState]:
        """Every person's check-in state in a workspace, by user id."""
        async with self.db.session() as s:
            return {
                st.user_id: st
                for st in await s.exec(
                    select(CheckinState).where(CheckinState.workspace_id == workspace_id)
                )
            }

    async def pending(self, workspace_id: str, user_id: str) -> CheckinState | None:
        """A person's state while a check-in question waits for their answer."""
        async with self.db.session() as s:
            state = await s.get(CheckinState, (workspace_id, user_id))
        return state if state is not None and state.pending_since is not None else None

    async def save(self, state: CheckinState) -> CheckinState:
        async with self.db.session() as s:
            merged = await s.merge(state)
            await s.commit()
            await s.refresh(merged)
            return merged

    async def answered(self, state: CheckinState, narration_id: int | None) -> None:
        """The person's narration answered their check-in: its state and the narration's
        source ("checkin") change in one transaction."""
        async with self.db.session() as s:
            await s.merge(state)
            await s.exec(
                update(Narration).where(col(Narration.id) == narration_id).values(source="checkin")
            )
            await s.commit()

    async def ask(
        self,
        workspace_id: str,
        platform: str,
        asks: list[CheckinAsk],
        now: datetime,
        *,
        scheduler: Scheduler,
        outbox: Outbox,
    ) -> list[CheckinAsk]:
        """Claim each occurrence, queue the questions this process won and mark them
        pending, in one transaction: a crash or an outage leaves all three or none (then
        the next run asks again). The asks won; call `outbox.wake()` after."""
        async with self.db.session() as s:
            won = await scheduler.claim_many([(a.job_id, a.slot) for a in asks], session=s)
            mine = [a for a in asks if (a.job_id, a.slot.isoformat()) in won]
            if not mine:
                return []
            await outbox.send_dms(
                platform, [(workspace_id, a.user_id, a.message, a.key) for a in mine], session=s
            )
            # one bulk upsert for the chunk: a per-person merge would read each row again
            await s.exec(
                upsert(
                    self.db.dialect,
                    CheckinState,
                    ["workspace_id", "user_id"],
                    ["pending_since", "reminded", "last_sent_at", "last_skipped"],
                ),
                params=[
                    {
                        "workspace_id": workspace_id,
                        "user_id": a.user_id,
                        "pending_since": now,
                        "reminded": False,
                        "last_sent_at": now,
                        "last_skipped": a.skipped,
                        "answered_at": None,
                    }
                    for a in mine
                ],
            )
            await s.commit()
        return mine
