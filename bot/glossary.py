"""The organisation's glossary: its own jargon ("HiX", "het MT", project code names) and
what it means, so matching understands what no model knows (bot/matching/glossary.py
uses it). Entries come from app.yaml (`workspaces.<id>.glossary`, read-only here) and from
admins (`/wol config glossary add|remove`, stored per workspace, every change audited).
After a change, `listeners` hear which entries changed (matching re-encodes what they touch).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.config import Settings
from bot.errors import UserError
from bot.i18n import N_, CommandExample
from bot.matching.glossary import term_key
from bot.messages import Strong
from bot.store.engine import Database
from bot.store.tables.admin import AuditEntry
from bot.store.tables.glossary import GlossaryTerm

TERM_MAX = 60
MEANING_MAX = 300

EX_ADD = N_("/wol config glossary add HiX = electronic patient record")
EX_REMOVE = N_("/wol config glossary remove {term}")
EX_LIST = N_("/wol config glossary")
NO_TERM = N_("A term needs at least one letter or digit, for example: {example}")
EMPTY_MEANING = N_("What does {term} mean? Write it after the equals sign, for example: {example}")
TERM_TOO_LONG = N_("A term has at most {limit} characters; {term} is longer.")
MEANING_TOO_LONG = N_("The meaning of {term} has at most {limit} characters (now {length}).")
DUPLICATE = N_(
    "{term} is already in the glossary: {meaning}. To change it, remove it first with {example}."
)
UNKNOWN = N_("{term} is not in the glossary, so nothing changed. See the list with {example}.")
DUPLICATE_IN_YAML = N_(
    "{term} is already in the glossary: {meaning}. It comes from app.yaml: "
    "change it there ({key}). Nothing changed."
)
IN_YAML = N_("{term} is in the glossary of app.yaml: remove it there ({key}). Nothing changed.")

Listener = Callable[[str, list[tuple[str, str]]], Awaitable[object]]


def yaml_key(workspace_id: str, term: str) -> str:
    """Where an app.yaml glossary term is written, as `wolbot config check` names it."""
    return f"workspaces.{workspace_id}.glossary.{term}"


@dataclass(frozen=True, slots=True)
class Entry:
    term: str
    meaning: str
    from_yaml: bool


def tidy(text: str) -> str:
    """Whitespace collapsed, surrounding quotes dropped."""
    return " ".join(text.split()).strip("\"'“”‘’ ").strip()


def problem(term: str, meaning: str) -> tuple[str, dict[str, str | int]] | None:
    """What is wrong with an entry, as a msgid and its values; None when it is fine. The
    same rules for `/wol config glossary add` and app.yaml (`wolbot config check`)."""
    if not term_key(term) or not any(c.isalnum() for c in term):
        return NO_TERM, {}
    if len(term) > TERM_MAX:
        return TERM_TOO_LONG, {"term": term[:TERM_MAX] + "…", "limit": TERM_MAX}
    if not meaning:
        return EMPTY_MEANING, {"term": term}
    if len(meaning) > MEANING_MAX:
        return MEANING_TOO_LONG, {"term": term, "limit": MEANING_MAX, "length": len(meaning)}
    return None


def check_yaml(glossary: dict[str, str]) -> dict[str, str]:
    """app.yaml's `glossary:` mapping, checked like the command (raises ValueError)."""
    seen: dict[str, str] = {}
    out: dict[str, str] = {}
    for raw_term, raw_meaning in glossary.items():
        term, meaning = tidy(str(raw_term)), tidy(str(raw_meaning or ""))
        found = problem(term, meaning)
        if found is not None:
            msgid, values = found
            said = {
                NO_TERM: "a term needs at least one letter or digit",
                EMPTY_MEANING: "the meaning is empty (expected term: what it means, e.g. "
                "HiX: electronic patient record)",
            }.get(msgid)
            raise ValueError(f"{raw_term!r}: " + (said or msgid.format(**values)))
        key = term_key(term)
        if key in seen:
            raise ValueError(
                f"{raw_term!r}: the same term as {seen[key]!r} (case and accents do not count)"
            )
        seen[key] = str(raw_term)
        out[term] = meaning
    return out


class GlossaryService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.listeners: list[Listener] = []

    async def entries(self, workspace_id: str) -> list[Entry]:
        """app.yaml's entries, then the admins', sorted by term."""
        found = {
            term_key(t): Entry(t, m, True)
            for t, m in self.settings.workspace(workspace_id).glossary.items()
        }
        async with self.db.session() as s:
            rows = await s.exec(
                select(GlossaryTerm).where(GlossaryTerm.workspace_id == workspace_id)
            )
            for row in rows:
                found.setdefault(row.term_key, Entry(row.term, row.meaning, False))
        return [found[k] for k in sorted(found)]

    async def pairs(self, workspace_id: str) -> list[tuple[str, str]]:
        """(term, meaning) of every entry: what matching reads."""
        return [(e.term, e.meaning) for e in await self.entries(workspace_id)]

    async def _find(self, workspace_id: str, term: str) -> Entry | None:
        key = term_key(term)
        return next((e for e in await self.entries(workspace_id) if term_key(e.term) == key), None)

    async def add(
        self, workspace_id: str, term: str, meaning: str, *, actor_id: str, now: datetime
    ) -> Entry:
        term, meaning = tidy(term), tidy(meaning)
        found = problem(term, meaning)
        if found is not None:
            msgid, values = found
            raise UserError(
                msgid,
                **{k: Strong(text=v) if isinstance(v, str) else v for k, v in values.items()},
                example=CommandExample.of(EX_ADD),
            )
        existing = await self._find(workspace_id, term)
        if existing is not None and existing.from_yaml:  # not removable here: say where it is
            raise UserError(
                DUPLICATE_IN_YAML,
                term=Strong(text=existing.term),
                meaning=existing.meaning,
                key=Strong(text=yaml_key(workspace_id, existing.term)),
            )
        if existing is not None:
            raise UserError(
                DUPLICATE,
                term=Strong(text=existing.term),
                meaning=existing.meaning,
                example=CommandExample.of(EX_REMOVE, term=existing.term),
            )
        try:
            async with self.db.session() as s:
                s.add(
                    GlossaryTerm(
                        workspace_id=workspace_id,
                        term_key=term_key(term),
                        term=term,
                        meaning=meaning,
                        added_by=actor_id,
                        added_at=now,
                    )
                )
                s.add(
                    AuditEntry(
                        workspace_id=workspace_id,
                        actor_id=actor_id,
                        action="glossary.add",
                        target=term,
                        old=None,
                        new=meaning,
                        at=now,
                    )
                )
                await s.commit()
        except IntegrityError:  # another admin added it a moment ago
            raise UserError(
                DUPLICATE,
                term=Strong(text=term),
                meaning=meaning,
                example=CommandExample.of(EX_REMOVE, term=term),
            ) from None
        await self._changed(workspace_id, [(term, meaning)])
        return Entry(term, meaning, False)

    async def remove(self, workspace_id: str, term: str, *, actor_id: str, now: datetime) -> Entry:
        term = tidy(term)
        existing = await self._find(workspace_id, term)
        if existing is None:
            raise UserError(UNKNOWN, term=Strong(text=term), example=CommandExample.of(EX_LIST))
        if existing.from_yaml:
            raise UserError(
                IN_YAML,
                term=Strong(text=existing.term),
                key=Strong(text=yaml_key(workspace_id, existing.term)),
            )
        async with self.db.session() as s:
            await s.exec(
                delete(GlossaryTerm).where(
                    col(GlossaryTerm.workspace_id) == workspace_id,
                    col(GlossaryTerm.term_key) == term_key(existing.term),
                )
            )
            s.add(
                AuditEntry(
                    workspace_id=workspace_id,
                    actor_id=actor_id,
                    action="glossary.remove",
                    target=existing.term,
                    old=existing.meaning,
                    new=None,
                    at=now,
                )
            )
            await s.commit()
        await self._changed(workspace_id, [(existing.term, existing.meaning)])
        return existing

    async def _changed(self, workspace_id: str, changed: list[tuple[str, str]]) -> None:
        for listener in self.listeners:
            await listener(workspace_id, changed)
