"""AVG/GDPR: what the bot keeps about a person, exported or erased on request, and purged
after the retention period.

Each table declares its personal columns in a `__personal__` mapping of column name →
policy: "delete" removes the person's rows, "anonymise" keeps the row (it records
something about others, e.g. an admin's configuration change) with the value replaced.
Outbound messages and conversation references that mention the person in their JSON are
removed too. `docs/privacy.md` describes the policy for people.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, func, literal, or_, update
from sqlmodel import SQLModel, col, select

from bot.store.engine import Database, table_of
from bot.store.participation_counts import fold_narrations
from bot.store.tables import (
    Channel,
    ConversationReference,
    Narration,
    OutboxItem,
    ProcessedEvent,
)
from bot.store.tables.admin import AuditEntry, ScheduledOccurrence
from bot.store.tables.asks import Acknowledgement, Question, RelayedAnswer, Thanks
from bot.store.tables.console import ConsoleButton
from bot.store.tables.inbox import InboxItem
from bot.store.tables.rhythms import Contribution

log = logging.getLogger(__name__)
ERASED = "(erased)"
# Scheduled occurrences claimed per person, as "<job>:<workspace id>:<user id>" (check-ins).
PERSONAL_JOBS = ("checkin", "checkin-reminder")
OUTBOX_KEEP = timedelta(days=30)  # also the console's numbered buttons
EVENT_IDS_KEEP = timedelta(days=7)
CLAIMS_KEEP = timedelta(days=90)


def personal_tables() -> list[tuple[type[SQLModel], dict[str, str]]]:
    """Every table model that declares personal columns."""
    import bot.store.tables  # noqa: F401  (registers every table module)

    found = []
    for mapper in SQLModel._sa_registry.mappers:
        model = mapper.class_
        personal = getattr(model, "__personal__", None)
        if personal:
            found.append((model, dict(personal)))
    return sorted(found, key=lambda item: item[0].__name__)


def _json_mentions(column: Any, user_id: str) -> Any:
    return cast(column, String).like(f"%{json.dumps(user_id)}%")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):  # e.g. a text's embedding vector: derived, not readable
        return f"<{len(value)} bytes derived from your text>"
    return value


class PersonalData:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, workspace_id: str, user_id: str) -> dict[str, Any]:
        """Everything stored about the person, by table (their own rows only)."""
        data: dict[str, Any] = {"workspace": workspace_id, "user": user_id}
        async with self.db.session() as s:
            for model, columns in personal_tables():
                rows: list[dict[str, Any]] = []
                for column_name, policy in columns.items():
                    if policy != "delete":
                        continue  # anonymised rows are about what others did
                    column = getattr(model, column_name)
                    query = select(model).where(column == user_id)
                    if hasattr(model, "workspace_id"):
                        query = query.where(model.workspace_id == workspace_id)
                    for row in await s.exec(query):
                        rows.append({k: _plain(v) for k, v in row.model_dump().items()})
                if rows:
                    data[table_of(model).name] = rows
        return data

    async def holds(self, workspace_id: str, user_id: str) -> bool:
        """Whether anything is kept about the person, deliveries in flight (inbox, outbox)
        aside: after an erasure, nothing until they use the bot again."""
        async with self.db.session() as s:
            for model, columns in personal_tables():
                if model in (InboxItem, OutboxItem):
                    continue
                for column_name in columns:
                    query = (
                        select(literal(1))
                        .select_from(model)
                        .where(getattr(model, column_name) == user_id)
                    )
                    if hasattr(model, "workspace_id"):
                        query = query.where(model.workspace_id == workspace_id)
                    if (await s.exec(query.limit(1))).first() is not None:
                        return True
        return False

    async def forget(self, workspace_id: str, user_id: str) -> tuple[dict[str, int], list[int]]:
        """Erase the person's personal data; returns counts per table and the ids of the
        narrations removed (for indexes kept elsewhere)."""
        counts: dict[str, int] = {}
        async with self.db.session() as s:
            narration_ids = [
                i
                for i in await s.exec(
                    select(Narration.id).where(
                        Narration.workspace_id == workspace_id, Narration.author_id == user_id
                    )
                )
                if i is not None
            ]
            for model, columns in personal_tables():
                name = table_of(model).name
                for column_name, policy in columns.items():
                    column = getattr(model, column_name)
                    where = [column == user_id]
                    if hasattr(model, "workspace_id"):
                        where.append(model.workspace_id == workspace_id)
                    if policy == "delete":
                        result = await s.exec(delete(model).where(*where))
                    else:
                        result = await s.exec(
                            update(model).where(*where).values({column_name: ERASED})
                        )
                    counts[name] = counts.get(name, 0) + int(result.rowcount or 0)
            dm_channels = list(
                await s.exec(
                    select(Channel.channel_id).where(
                        Channel.workspace_id == workspace_id,
                        Channel.kind == "dm",
                        Channel.name == user_id,
                    )
                )
            )
            for channel_id in dm_channels:
                for model, column in (
                    (OutboxItem, OutboxItem.destination),
                    (ConversationReference, ConversationReference.reference),
                ):
                    result = await s.exec(
                        delete(model).where(
                            col(model.workspace_id) == workspace_id,
                            _json_mentions(column, channel_id),
                        )
                    )
                    name = table_of(model).name
                    counts[name] = counts.get(name, 0) + int(result.rowcount or 0)
            result = await s.exec(
                delete(Channel).where(
                    col(Channel.workspace_id) == workspace_id,
                    col(Channel.kind) == "dm",
                    col(Channel.name) == user_id,
                )
            )
            counts["channel"] = int(result.rowcount or 0)
            for model, column in (
                (OutboxItem, OutboxItem.payload),
                (OutboxItem, OutboxItem.destination),
                (ConversationReference, ConversationReference.reference),
            ):
                result = await s.exec(
                    delete(model).where(
                        col(model.workspace_id) == workspace_id, _json_mentions(column, user_id)
                    )
                )
                name = table_of(model).name
                counts[name] = counts.get(name, 0) + int(result.rowcount or 0)
            # exact ids, never a pattern: forgetting U1 must not touch U12's rows
            result = await s.exec(
                delete(ScheduledOccurrence).where(
                    col(ScheduledOccurrence.job_id).in_(
                        [f"{job}:{workspace_id}:{user_id}" for job in PERSONAL_JOBS]
                    )
                )
            )
            counts["scheduled_occurrence"] = int(result.rowcount or 0)
            # a role change's target is "<user id> <role>"
            prefix = f"{user_id} "
            result = await s.exec(
                update(AuditEntry)
                .where(
                    col(AuditEntry.workspace_id) == workspace_id,
                    or_(
                        col(AuditEntry.target) == user_id,
                        func.substr(AuditEntry.target, 1, len(prefix)) == prefix,
                    ),
                )
                .values(
                    target=literal(ERASED, String)
                    + func.substr(AuditEntry.target, len(user_id) + 1, type_=String)
                )
            )
            counts["audit_entry"] = counts.get("audit_entry", 0) + int(result.rowcount or 0)
            await s.commit()
        log.info("forgot a person in %s: %s", workspace_id, counts)
        return {k: v for k, v in counts.items() if v}, narration_ids

    async def purge(
        self, workspace_id: str, now: datetime, *, retention_days: int, audit_retention_days: int
    ) -> tuple[dict[str, int], list[int]]:
        """Remove what is past its retention period in one workspace; returns counts and the
        ids of the narrations removed."""
        counts: dict[str, int] = {}
        cutoff = now - timedelta(days=retention_days)
        async with self.db.session() as s:
            narration_ids = [
                i
                for i in await s.exec(
                    select(Narration.id).where(
                        Narration.workspace_id == workspace_id, col(Narration.created_at) < cutoff
                    )
                )
                if i is not None
            ]
            old_questions = select(Question.id).where(
                Question.workspace_id == workspace_id, col(Question.created_at) < cutoff
            )
            # the participation the purged narrations counted stays (until its own purge)
            await fold_narrations(
                s, self.db.dialect, workspace_id, col(Narration.created_at) < cutoff
            )
            for name, statement in (
                (
                    "narration",
                    delete(Narration).where(
                        col(Narration.workspace_id) == workspace_id,
                        col(Narration.created_at) < cutoff,
                    ),
                ),
                (
                    "audit_entry",
                    delete(AuditEntry).where(
                        col(AuditEntry.workspace_id) == workspace_id,
                        col(AuditEntry.at) < now - timedelta(days=audit_retention_days),
                    ),
                ),
                (
                    "outboxitem",
                    delete(OutboxItem).where(
                        col(OutboxItem.workspace_id) == workspace_id,
                        col(OutboxItem.status).in_(["sent", "failed", "cancelled"]),
                        or_(
                            col(OutboxItem.created_at) < now - OUTBOX_KEEP,
                            col(OutboxItem.created_at) < cutoff,
                        ),
                    ),
                ),
                (
                    "console_button",
                    delete(ConsoleButton).where(  # same life as the outbox
                        col(ConsoleButton.workspace_id) == workspace_id,
                        col(ConsoleButton.created_at) < now - OUTBOX_KEEP,
                    ),
                ),
                (
                    "processedevent",
                    delete(ProcessedEvent).where(
                        col(ProcessedEvent.workspace_id) == workspace_id,
                        col(ProcessedEvent.received_at) < now - EVENT_IDS_KEEP,
                    ),
                ),
                (
                    "contribution",
                    delete(Contribution).where(
                        col(Contribution.workspace_id) == workspace_id,
                        col(Contribution.created_at) < cutoff,
                    ),
                ),
                (
                    "kudos",
                    delete(Thanks).where(
                        col(Thanks.workspace_id) == workspace_id, col(Thanks.created_at) < cutoff
                    ),
                ),
                (
                    "ask_acknowledgement",
                    delete(Acknowledgement).where(
                        col(Acknowledgement.question_id).in_(old_questions)
                    ),
                ),
                (
                    "ask_relayed",
                    delete(RelayedAnswer).where(col(RelayedAnswer.question_id).in_(old_questions)),
                ),
                ("ask_question", delete(Question).where(col(Question.id).in_(old_questions))),
            ):
                result = await s.exec(statement)
                counts[name] = int(result.rowcount or 0)
            await s.commit()
        return {k: v for k, v in counts.items() if v}, narration_ids
