"""Claimed event ids and stored conversation references."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.store.engine import Database
from bot.store.tables import ConversationReference, ProcessedEvent

log = logging.getLogger(__name__)
# An unfinished claim older than this is taken over. Handling an event takes well under a
# second; it must stay below the Slack inbox's lease (delivery.lease_seconds, 60 s by
# default), after which the inbox hands a crashed process's event out again.
STALE_CLAIM = timedelta(seconds=30)


def coarse_time(now: datetime) -> datetime:
    """The start of the UTC day: enough to purge by, too coarse to tell one event from
    another (a finished claim's time is no record of when someone did something)."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


class EventLog:
    """De-duplication of platform deliveries, shared by every replica through the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, workspace_id: str, event_id: str, now: datetime) -> bool:
        """True for the first delivery of an event id; False for a retry or duplicate.

        Also True for a delivery of an event whose claim was never completed and is older
        than `STALE_CLAIM`: the process that claimed it died while handling it (the Slack
        inbox hands the event out again when its lease runs out)."""
        async with self.db.session() as s:
            s.add(
                ProcessedEvent(
                    workspace_id=workspace_id, event_id=event_id, received_at=now, completed=False
                )
            )
            try:
                await s.commit()
                return True
            except IntegrityError:
                await s.rollback()
            result = await s.exec(
                update(ProcessedEvent)
                .where(
                    col(ProcessedEvent.workspace_id) == workspace_id,
                    col(ProcessedEvent.event_id) == event_id,
                    col(ProcessedEvent.completed).is_(False),
                    col(ProcessedEvent.received_at) < now - STALE_CLAIM,
                )
                .values(received_at=now)
            )
            await s.commit()
        if result.rowcount == 1:
            log.warning(
                "event %s/%s was claimed but never finished (a crashed process?); "
                "handling it again",
                workspace_id,
                event_id,
            )
            return True
        return False

    async def complete(self, workspace_id: str, event_id: str, claimed_at: datetime) -> None:
        """Handling finished: from now on every delivery of this event id is a duplicate. Its
        time is kept only to the day (purged after 7 days): no record of when who acted."""
        async with self.db.session() as s:
            await s.exec(
                update(ProcessedEvent)
                .where(
                    col(ProcessedEvent.workspace_id) == workspace_id,
                    col(ProcessedEvent.event_id) == event_id,
                )
                .values(completed=True, received_at=coarse_time(claimed_at))
            )
            await s.commit()

    async def release(self, workspace_id: str, event_id: str) -> None:
        """Forget a claim whose handling failed, so the platform's retry is processed."""
        async with self.db.session() as s:
            await s.exec(
                delete(ProcessedEvent).where(
                    col(ProcessedEvent.workspace_id) == workspace_id,
                    col(ProcessedEvent.event_id) == event_id,
                )
            )
            await s.commit()

    async def purge_before(self, cutoff: datetime) -> int:
        async with self.db.session() as s:
            result = await s.exec(
                delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < cutoff)
            )
            await s.commit()
            return int(result.rowcount or 0)


class References:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._seen: dict[tuple[str, str], dict[str, Any]] = {}

    async def save(
        self,
        workspace_id: str,
        conversation_id: str,
        platform: str,
        reference: dict[str, Any],
        now: datetime,
    ) -> None:
        key = (workspace_id, conversation_id)
        if self._seen.get(key) == reference:
            return  # unchanged since this process last stored it
        async with self.db.session() as s:
            row = await s.get(ConversationReference, key)
            if row is None:
                row = ConversationReference(
                    workspace_id=workspace_id, conversation_id=conversation_id, platform=platform
                )
            elif row.reference == reference:
                self._seen[key] = reference
                return
            row.reference = reference
            row.updated_at = now
            s.add(row)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
        self._seen[key] = reference

    async def get(self, workspace_id: str, conversation_id: str) -> dict[str, Any] | None:
        async with self.db.session() as s:
            row = await s.get(ConversationReference, (workspace_id, conversation_id))
            return dict(row.reference) if row else None
