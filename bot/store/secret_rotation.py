"""`wolbot secrets rotate`: everything stored under a key of the hierarchy, re-made with the
current root (bot/secrets.py).

Run it with the new root in WOLBOT_SECRET_KEY and the old one in WOLBOT_SECRET_KEY_PREVIOUS,
while the bot keeps running with the same two keys (it reads with either and writes with the
new one). Each row is rewritten only if it still holds what was read (a compare-and-set), so
a token refreshed or a question unlinked meanwhile is never overwritten with an old value.
Running it twice is harmless: rows already under the current key are left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import col, select

from bot.secrets import ANON_ASKER, ANON_CONTACT, SLACK_TOKENS, Keyring
from bot.store.engine import Database
from bot.store.tables.asks import Question
from bot.store.tables.slack import SlackInstallation

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class Rotated:
    """Rows per kind: re-encrypted, already current, unreadable with any accepted key."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, kind: str, outcome: str) -> None:
        self.counts.setdefault(kind, {"rotated": 0, "current": 0, "unreadable": 0})
        self.counts[kind][outcome] += 1

    @property
    def unreadable(self) -> int:
        return sum(c["unreadable"] for c in self.counts.values())


async def rotate(db: Database, keyring: Keyring) -> Rotated:
    result = Rotated()
    await _slack_tokens(db, keyring, result)
    await _anonymous_questions(db, keyring, result)
    return result


async def _slack_tokens(db: Database, keyring: Keyring, result: Rotated) -> None:
    async with db.session() as s:
        rows = list(await s.exec(select(SlackInstallation)))
    for row in rows:
        values: dict[str, str] = {}
        outcome = "current"
        for column in ("bot_token", "bot_refresh_token"):
            stored = getattr(row, column)
            if not stored or keyring.is_current(SLACK_TOKENS, stored):
                continue
            plain = keyring.decrypt(SLACK_TOKENS, stored)
            if plain is None:
                outcome = "unreadable"
                break
            values[column] = keyring.encrypt(SLACK_TOKENS, plain)
        if outcome == "unreadable" or not values:
            result.add("slack_installation", outcome)
            continue
        async with db.session() as s:
            done = await s.exec(
                update(SlackInstallation)
                .where(
                    col(SlackInstallation.workspace_id) == row.workspace_id,
                    col(SlackInstallation.bot_token) == row.bot_token,
                )
                .values(**values)
            )
            await s.commit()
        result.add("slack_installation", "rotated" if done.rowcount == 1 else "current")


async def _anonymous_questions(db: Database, keyring: Keyring, result: Rotated) -> None:
    after = 0
    while True:
        async with db.session() as s:
            rows = list(
                await s.exec(
                    select(Question)
                    .where(col(Question.id) > after, col(Question.anon_contact).is_not(None))
                    .order_by(col(Question.id))
                    .limit(BATCH)
                )
            )
        if not rows:
            return
        after = rows[-1].id or after
        for question in rows:
            await _one_question(db, keyring, question, result)


async def _one_question(
    db: Database, keyring: Keyring, question: Question, result: Rotated
) -> None:
    contact = question.anon_contact or ""
    if keyring.is_current(ANON_CONTACT, contact):
        result.add("ask_question", "current")
        return
    user_id = keyring.decrypt(ANON_CONTACT, contact)
    if user_id is None:
        result.add("ask_question", "unreadable")
        log.warning("question %s: its anonymous contact opens with no accepted key", question.id)
        return
    async with db.session() as s:
        done = await s.exec(
            update(Question)
            .where(
                col(Question.id) == question.id,
                col(Question.anon_contact) == contact,
            )
            .values(
                anon_contact=keyring.encrypt(ANON_CONTACT, user_id),
                anon_ref=keyring.mac(ANON_ASKER, question.workspace_id, user_id),
            )
        )
        await s.commit()
    result.add("ask_question", "rotated" if done.rowcount == 1 else "current")
