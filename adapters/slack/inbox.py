"""Events a previous version stored in its own Slack inbox (`slack_inbox`, raw bodies),
moved into the inbox of every platform (bot/delivery/inbox.py) when the adapter starts.

Since the move to one inbox the Slack adapter stores the neutral event, translated once on
arrival. Rows left in `slack_inbox` by a version before it (a rolling upgrade, a restart
with a backlog) are translated here, stored in the inbox (where a copy that arrived again
meanwhile is a no-op) and deleted; the table goes in a later release.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlmodel import col, delete, or_, select

from bot.clock import SystemClock
from bot.delivery.inbox import FAILED_KEEP, Inbox
from bot.store.engine import Database
from bot.store.tables.slack import SlackInboxItem
from bot.validation import MalformedEvent, checked

from .bridge import KIND_UNKNOWN
from .inbound import kind_is_known, to_inbound

log = logging.getLogger(__name__)
BATCH = 500


async def adopt_legacy(db: Database, inbox: Inbox) -> int:
    """Move the rows still to handle from `slack_inbox` into `inbox`; returns how many."""
    now = SystemClock().now()
    moved = 0
    t = SlackInboxItem
    while True:
        async with db.session() as s:
            rows = list(
                (
                    await s.exec(
                        select(t)
                        .where(
                            or_(
                                col(t.status) == "pending",
                                (col(t.status) == "sending") & (col(t.claimed_until) < now),
                            )
                        )
                        .order_by(col(t.id))
                        .limit(BATCH)
                    )
                ).all()
            )
        if not rows:
            break
        for row in rows:
            try:
                event = to_inbound(row.body, bot_user_id=row.bot_user_id)
                if event is not None:
                    event = checked(event)
                    if not kind_is_known(row.body):
                        event = replace(
                            event, reply_hints={**event.reply_hints, KIND_UNKNOWN: True}
                        )
                    await inbox.put(event)
                    moved += 1
            except (MalformedEvent, AttributeError, TypeError, ValueError, LookupError) as exc:
                log.error(
                    "Slack event %s from before the upgrade dropped, malformed: %s",
                    row.event_id,
                    type(exc).__name__,
                )
        async with db.session() as s:
            await s.exec(delete(t).where(col(t.id).in_([row.id for row in rows])))
            await s.commit()
    async with db.session() as s:  # failed ones were kept 7 days for inspection
        await s.exec(
            delete(t).where(col(t.status) == "failed", col(t.received_at) < now - FAILED_KEEP)
        )
        await s.commit()
    if moved:
        log.info("moved %d Slack events from before the upgrade into the inbox", moved)
    return moved
