"""Database access of the matching engine (bot/matching/): stored vectors (so
restarts and other replicas rebuild without re-encoding) and the suggestions made (fatigue,
feedback).

A narration's vector is on its own row (`narration.vector`, written with the narration in
one INSERT); every other item's (profile topics; narration items without a narration row,
e.g. in benchmarks) is a `match_vector` row. Removals leave a tombstone in `match_vector`
for both. Reads cover both tables; a write of a narration's vector goes to its row when
there is one."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import (
    Boolean,
    DateTime,
    String,
    bindparam,
    case,
    cast,
    literal,
    null,
    or_,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.clock import utc
from bot.store.engine import Database
from bot.store.tables.admin import PersonSettings
from bot.store.tables.core import Narration
from bot.store.tables.matching import Connection, MatchHint, MatchSuggestion, MatchVector


@dataclass(frozen=True, slots=True)
class StoredVector:
    row: MatchVector
    vector: np.ndarray | None  # None when made by another encoder: re-encode from row.text


def _decode(row: MatchVector, model: str, dim: int) -> StoredVector:
    if row.model != model:
        return StoredVector(row, None)
    vec = np.frombuffer(row.vector, dtype=np.float32)
    return StoredVector(row, vec if vec.shape == (dim,) else None)


# A person's own consent choices (bot/features/matching/consent.py), None: not chosen.
CHOICES = ("suggest_me", "share_narrations", "introductions", "paused_until")


def _no_choices() -> list[Any]:
    """The choice columns of the union's rows that are not a person's choices."""
    return [cast(null(), Boolean).label(name) for name in CHOICES[:3]]


NARRATION = "narration"


def _narration_ids(refs: Sequence[str]) -> list[int]:
    return [int(ref) for ref in refs if ref.isdigit()]


def _ref_id(row: MatchVector) -> int | None:
    return int(row.ref) if row.kind == NARRATION and row.ref.isdigit() else None


def _narration_vectors(workspace_id: str) -> Any:
    """A workspace's narrations with a vector, in the columns of `MatchingStore.load`."""
    n = Narration
    return sa_select(
        literal(NARRATION).label("kind"),
        cast(col(n.id), String).label("ref"),
        col(n.author_id),
        case((col(n.topic) != "", col(n.topic)), else_=col(n.text)).label("text"),
        col(n.visibility),
        col(n.channel_id),
        col(n.created_at),
        col(n.language),
        col(n.vector_model).label("model"),
        col(n.vector),
    ).where(col(n.workspace_id) == workspace_id, col(n.vector).is_not(None))


HINTS_KEPT = 10_000  # people whose last vague-narration hint time this process keeps


class MatchingStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._hints: dict[tuple[str, str], datetime] = {}  # the last hint's time, per person

    # -- vectors --------------------------------------------------------------------------------
    async def load(
        self, workspace_id: str, model: str, dim: int, *, chunk: int = 5000
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """A workspace's live rows as plain tuples, streamed in chunks (no ORM objects: at
        100k rows that cut start-up from 17 s to a few seconds and ~1 GB of memory)."""
        columns = (
            col(MatchVector.kind),
            col(MatchVector.ref),
            col(MatchVector.author_id),
            col(MatchVector.text),
            col(MatchVector.visibility),
            col(MatchVector.channel_id),
            col(MatchVector.created_at),
            col(MatchVector.language),
            col(MatchVector.model),
            col(MatchVector.vector),
        )
        query = union_all(
            sa_select(*columns).where(
                col(MatchVector.workspace_id) == workspace_id,
                col(MatchVector.removed_at).is_(None),
            ),
            _narration_vectors(workspace_id),
        )
        async with self.db.engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=chunk))
            async for part in result.partitions(chunk):
                yield [tuple(row) for row in part]

    async def workspaces(self) -> list[str]:
        query = (
            sa_select(col(MatchVector.workspace_id))
            .where(col(MatchVector.removed_at).is_(None))
            .union(sa_select(col(Narration.workspace_id)).where(col(Narration.vector).is_not(None)))
        )
        async with self.db.session() as s:
            conn = await s.connection()
            return [w for (w,) in (await conn.execute(query)).all()]

    async def changed_since(
        self, workspace_id: str, since: datetime, model: str, dim: int
    ) -> list[StoredVector]:
        """Rows added, replaced or removed since `since` (by any replica)."""
        query = select(MatchVector).where(
            MatchVector.workspace_id == workspace_id, col(MatchVector.updated_at) >= since
        )
        narrations = _narration_vectors(workspace_id).add_columns(col(Narration.vector_at))
        narrations = narrations.where(col(Narration.vector_at) >= since)
        async with self.db.session() as s:
            found = [_decode(r, model, dim) for r in await s.exec(query)]
            conn = await s.connection()
            for (
                kind,
                ref,
                author,
                text,
                visibility,
                channel,
                created,
                language,
                made_by,
                vec,
                at,
            ) in (await conn.execute(narrations)).all():
                row = MatchVector(
                    workspace_id=workspace_id,
                    kind=kind,
                    ref=ref,
                    author_id=author,
                    channel_id=channel,
                    visibility=visibility,
                    language=language,
                    text=text,
                    model=made_by or "",
                    vector=vec,
                    created_at=created,
                    updated_at=at,
                )
                found.append(_decode(row, model, dim))
        return found

    async def save(self, rows: list[MatchVector], now: datetime) -> None:
        """Insert or replace vectors by (workspace, kind, ref): a narration's on its narration
        row when there is one, the others in `match_vector`. New texts (the usual case) are
        one INSERT; only a clash falls back to updating the existing row."""
        for row in rows:
            row.created_at = row.created_at or now
            row.updated_at = now
        rows = await self._save_on_narrations(rows, now)
        if not rows:
            return
        try:
            async with self.db.session() as s:
                s.add_all(rows)
                await s.commit()
            return
        except IntegrityError:
            pass
        async with self.db.session() as s:
            for row in rows:
                existing = (
                    await s.exec(
                        select(MatchVector).where(
                            MatchVector.workspace_id == row.workspace_id,
                            MatchVector.kind == row.kind,
                            MatchVector.ref == row.ref,
                        )
                    )
                ).first()
                if existing is None:
                    s.add(MatchVector.model_validate(row.model_dump(exclude={"id"})))
                    continue
                for field in ("author_id", "channel_id", "visibility", "text", "model", "vector"):
                    setattr(existing, field, getattr(row, field))
                existing.language = row.language or existing.language
                existing.updated_at, existing.removed_at = now, None
                s.add(existing)
            await s.commit()

    async def _save_on_narrations(
        self, rows: list[MatchVector], now: datetime
    ) -> list[MatchVector]:
        """Write the vectors of rows whose narration exists onto the narration rows; returns
        the other rows."""
        wanted = {
            (row.workspace_id, int(row.ref)): row
            for row in rows
            if row.kind == NARRATION and row.ref.isdigit()
        }
        if not wanted:
            return rows
        async with self.db.session() as s:
            conn = await s.connection()
            existing = await conn.execute(
                sa_select(col(Narration.workspace_id), col(Narration.id)).where(
                    col(Narration.id).in_([i for _, i in wanted])
                )
            )
            found: set[tuple[str, int]] = {
                (w, i) for w, i in existing.all() if i is not None and (w, i) in wanted
            }
            if found:
                await conn.execute(
                    sa_update(Narration)
                    .where(
                        col(Narration.workspace_id) == bindparam("ws"),
                        col(Narration.id) == bindparam("nid"),
                    )
                    .values(
                        vector=bindparam("vec"), vector_model=bindparam("made_by"), vector_at=now
                    ),
                    [
                        {
                            "ws": w,
                            "nid": i,
                            "vec": wanted[w, i].vector,
                            "made_by": wanted[w, i].model,
                        }
                        for w, i in found
                    ],
                )
                await s.commit()
        return [row for row in rows if (row.workspace_id, _ref_id(row)) not in found]

    async def replace_vectors(
        self,
        workspace_id: str,
        vectors: list[tuple[str, np.ndarray]],
        model: str,
        now: datetime,
    ) -> set[str]:
        """Re-encoded vectors ("kind:ref" -> vector in `model`'s space) for rows that are
        still live and still in another space. Never inserts: a row erased, removed or
        re-written (edited) meanwhile stays as it is. Returns the keys it updated."""
        updated: set[str] = set()
        async with self.db.session() as s:
            for key, vec in vectors:
                kind, ref = key.split(":", 1)
                if kind == NARRATION and ref.isdigit():
                    on_row = await s.exec(
                        sa_update(Narration)
                        .where(
                            col(Narration.workspace_id) == workspace_id,
                            col(Narration.id) == int(ref),
                            col(Narration.vector).is_not(None),
                            col(Narration.vector_model) != model,
                        )
                        .values(
                            vector_model=model,
                            vector=np.asarray(vec, dtype=np.float32).tobytes(),
                            vector_at=now,
                        )
                    )
                    if on_row.rowcount:
                        updated.add(key)
                        continue
                result = await s.exec(
                    sa_update(MatchVector)
                    .where(
                        col(MatchVector.workspace_id) == workspace_id,
                        col(MatchVector.kind) == kind,
                        col(MatchVector.ref) == ref,
                        col(MatchVector.removed_at).is_(None),
                        col(MatchVector.model) != model,
                    )
                    .values(
                        model=model,
                        vector=np.asarray(vec, dtype=np.float32).tobytes(),
                        updated_at=now,
                    )
                )
                if result.rowcount:
                    updated.add(key)
            await s.commit()
        return updated

    async def mark_stale(
        self, workspace_id: str, keys: list[str], model: str, now: datetime
    ) -> None:
        """Mark live rows as made by `model` (not the encoder's name: stale everywhere),
        so their texts are encoded again (after a glossary change); the vector stays until
        then."""
        async with self.db.session() as s:
            for start in range(0, len(keys), 500):
                by_kind: dict[str, list[str]] = {}
                for key in keys[start : start + 500]:
                    kind, ref = key.split(":", 1)
                    by_kind.setdefault(kind, []).append(ref)
                narration_ids = _narration_ids(by_kind.get(NARRATION, []))
                if narration_ids:
                    await s.exec(
                        sa_update(Narration)
                        .where(
                            col(Narration.workspace_id) == workspace_id,
                            col(Narration.id).in_(narration_ids),
                            col(Narration.vector).is_not(None),
                        )
                        .values(vector_model=model, vector_at=now)
                    )
                for kind, refs in by_kind.items():
                    await s.exec(
                        sa_update(MatchVector)
                        .where(
                            col(MatchVector.workspace_id) == workspace_id,
                            col(MatchVector.kind) == kind,
                            col(MatchVector.ref).in_(refs),
                            col(MatchVector.removed_at).is_(None),
                        )
                        .values(model=model, updated_at=now)
                    )
            await s.commit()

    async def stale(self, workspace_id: str, keys: list[str], model: str) -> set[str]:
        """Which of these "kind:ref" keys are live rows still in another space than `model`
        (not re-encoded by another replica meanwhile)."""
        if not keys:
            return set()
        refs = {key.split(":", 1)[1] for key in keys}
        async with self.db.session() as s:
            rows = await s.exec(
                select(col(MatchVector.kind), col(MatchVector.ref)).where(
                    col(MatchVector.workspace_id) == workspace_id,
                    col(MatchVector.ref).in_(refs),
                    col(MatchVector.removed_at).is_(None),
                    col(MatchVector.model) != model,
                )
            )
            found = {f"{kind}:{ref}" for kind, ref in rows.all()}
            narration_ids = _narration_ids(
                [ref for kind, ref in (key.split(":", 1) for key in keys) if kind == NARRATION]
            )
            if narration_ids:
                on_rows = await s.exec(
                    select(col(Narration.id)).where(
                        col(Narration.workspace_id) == workspace_id,
                        col(Narration.id).in_(narration_ids),
                        col(Narration.vector).is_not(None),
                        col(Narration.vector_model) != model,
                    )
                )
                found |= {f"{NARRATION}:{i}" for i in on_rows.all()}
        return found & set(keys)

    async def tombstone(self, workspace_id: str, kind: str, ref: str, now: datetime) -> bool:
        """Mark a vector removed. When its row is already gone (erased with the person), an
        anonymous tombstone is written instead: other replicas still need to hear of it. A
        narration row that is still there loses its vector (not loaded again)."""
        async with self.db.session() as s:
            if kind == NARRATION and ref.isdigit():
                await s.exec(
                    sa_update(Narration)
                    .where(
                        col(Narration.workspace_id) == workspace_id,
                        col(Narration.id) == int(ref),
                        col(Narration.vector).is_not(None),
                    )
                    .values(vector=None, vector_model=None, vector_at=now)
                )
            row = (
                await s.exec(
                    select(MatchVector).where(
                        MatchVector.workspace_id == workspace_id,
                        MatchVector.kind == kind,
                        MatchVector.ref == ref,
                    )
                )
            ).first()
            if row is not None and row.removed_at is not None:
                return False
            if row is None:
                row = MatchVector(
                    workspace_id=workspace_id,
                    kind=kind,
                    ref=ref,
                    author_id="",
                    visibility="dm",
                    text="",
                    model="",
                    vector=b"",
                    created_at=now,
                )
            row.removed_at = row.updated_at = now
            s.add(row)
            await s.commit()
            return True

    async def purge_tombstones(self, before: datetime) -> int:
        async with self.db.session() as s:
            rows = list(
                await s.exec(select(MatchVector).where(col(MatchVector.removed_at) < before))
            )
            for row in rows:
                await s.delete(row)
            await s.commit()
            return len(rows)

    # -- suggestions ----------------------------------------------------------------------------
    async def filters(
        self,
        workspace_id: str,
        narrator_id: str,
        now: datetime,
        *,
        window: timedelta,
        per_person: int,
        pair_window: timedelta,
    ) -> tuple[set[str], Counter[str], Counter[str]]:
        """Who is fatigued (suggested `per_person` times within
        `window` to anyone, or to this narrator within `pair_window`); how often this
        narrator answered "Not relevant" to each person (or "it did not help" after an
        introduction); and how often this narrator acted on them ("Connect me", an
        introduction that helped, the person's own "I've done this")."""
        fatigued, rejected, liked, _ = await self.filters_and_choices(
            workspace_id,
            narrator_id,
            now,
            window=window,
            per_person=per_person,
            pair_window=pair_window,
            choices=False,
        )
        return fatigued, rejected, liked

    async def filters_and_choices(
        self,
        workspace_id: str,
        narrator_id: str,
        now: datetime,
        *,
        window: timedelta,
        per_person: int,
        pair_window: timedelta,
        choices: bool = True,
    ) -> tuple[set[str], Counter[str], Counter[str], dict[str, dict[str, Any]]]:
        """`filters`, and with `choices` everyone's own consent choices in the workspace
        (user id -> CHOICES, None where they chose nothing), read in the same statement."""
        # One statement: this workspace's recent suggestions (and all of this narrator's),
        # this narrator's introductions and, with `choices`, the people's own choices, told
        # apart by `kind`.
        suggestions = sa_select(
            literal("s").label("kind"),
            col(MatchSuggestion.person_id),
            col(MatchSuggestion.narrator_id),
            col(MatchSuggestion.created_at),
            col(MatchSuggestion.outcome),
            cast(null(), String).label("suggested_by"),
            cast(null(), String).label("helped"),
            *_no_choices(),
        ).where(
            col(MatchSuggestion.workspace_id) == workspace_id,
            or_(
                col(MatchSuggestion.created_at) >= now - window,
                col(MatchSuggestion.narrator_id) == narrator_id,
            ),
        )
        connections = sa_select(
            literal("c"),
            col(Connection.person_id),
            col(Connection.narrator_id),
            cast(null(), DateTime),
            cast(null(), String),
            col(Connection.suggested_by),
            col(Connection.helped),
            *_no_choices(),
        ).where(
            col(Connection.workspace_id) == workspace_id,
            col(Connection.narrator_id) == narrator_id,
        )
        parts = [suggestions, connections]
        if choices:
            parts.append(
                sa_select(
                    literal("p"),
                    col(PersonSettings.user_id),
                    cast(null(), String),
                    col(PersonSettings.paused_until),
                    cast(null(), String),
                    cast(null(), String),
                    cast(null(), String),
                    *(col(getattr(PersonSettings, name)) for name in CHOICES[:3]),
                ).where(col(PersonSettings.workspace_id) == workspace_id)
            )
        async with self.db.session() as s:
            conn = await s.connection()
            rows: Sequence[Any] = (await conn.execute(union_all(*parts))).all()
        counts: Counter[str] = Counter()
        fatigued: set[str] = set()
        rejected: Counter[str] = Counter()
        liked: Counter[str] = Counter()
        chosen: dict[str, dict[str, Any]] = {}
        for kind, person, narrator, created, outcome, suggested_by, helped, *own in rows:
            if kind == "p":
                chosen[person] = dict(zip(CHOICES, (*own, created), strict=True))
                continue
            if kind == "c":
                # Introductions with this narrator: "No, it did not help" counts as a "Not
                # relevant"; "Yes"/"A bit", or the person saying "I've done this" (an
                # introduction they asked for themselves), count for the pairing.
                if helped == "no":
                    rejected[person] += 1
                elif helped in ("yes", "somewhat") or suggested_by == person:
                    liked[person] += 1
                continue
            when = utc(created)
            if when >= now - window:
                counts[person] += 1
            if narrator == narrator_id:
                if when >= now - pair_window:
                    fatigued.add(person)
                if outcome == "not_relevant":
                    rejected[person] += 1
                elif outcome == "connected":
                    liked[person] += 1
        fatigued.update(p for p, n in counts.items() if n >= per_person)
        return fatigued, rejected, liked, chosen

    async def record(self, rows: list[MatchSuggestion]) -> list[MatchSuggestion]:
        async with self.db.session() as s:
            for row in rows:
                s.add(row)
            await s.commit()  # ids come back with the INSERT; no column has a server default
            return rows

    async def suggestion(self, suggestion_id: int) -> MatchSuggestion | None:
        async with self.db.session() as s:
            return await s.get(MatchSuggestion, suggestion_id)

    async def set_outcome(self, suggestion_id: int, outcome: str) -> MatchSuggestion | None:
        async with self.db.session() as s:
            row = await s.get(MatchSuggestion, suggestion_id)
            if row is None:
                return None
            row.outcome = outcome
            s.add(row)
            await s.commit()
            await s.refresh(row)
            return row

    async def claim_hint(
        self, workspace_id: str, user_id: str, now: datetime, every: timedelta
    ) -> bool:
        """Whether the person may get the vague-narration hint now (none within `every`),
        recording it when so. One conditional UPDATE, or the first INSERT: two replicas
        never both send it. The time of the last hint is kept in the process, so a person's
        next vague narrations within `every` cost no statement (a hint's time only moves
        forward: what the process knows is never later than the truth)."""
        key = (workspace_id, user_id)
        known = self._hints.get(key)
        if known is not None and utc(known) > now - every:
            return False
        claimed, sent_at = await self._claim_hint(workspace_id, user_id, now, every)
        if sent_at is not None:
            self._hints[key] = sent_at
            while len(self._hints) > HINTS_KEPT:
                self._hints.pop(next(iter(self._hints)))
        return claimed

    async def _claim_hint(
        self, workspace_id: str, user_id: str, now: datetime, every: timedelta
    ) -> tuple[bool, datetime | None]:
        """(claimed, the time of the person's last hint when known)."""
        async with self.db.session() as s:
            result = await s.exec(
                sa_update(MatchHint)
                .where(
                    col(MatchHint.workspace_id) == workspace_id,
                    col(MatchHint.user_id) == user_id,
                    col(MatchHint.sent_at) <= now - every,
                )
                .values(sent_at=now)
            )
            await s.commit()
            if result.rowcount:
                return True, now
            sent_at = (
                await s.exec(
                    select(MatchHint.sent_at).where(
                        MatchHint.workspace_id == workspace_id, MatchHint.user_id == user_id
                    )
                )
            ).first()
        if sent_at is not None:
            return False, sent_at  # a recent hint exists
        try:
            async with self.db.session() as s:
                s.add(MatchHint(workspace_id=workspace_id, user_id=user_id, sent_at=now))
                await s.commit()
        except IntegrityError:
            return False, None  # another replica sent one just now
        return True, now
