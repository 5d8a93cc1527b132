"""The matching engine: encode, index, search, remove — per workspace, off the event loop.

Vectors are stored in the database (`match_vector`) as they are made, so a restart loads
them instead of re-encoding, and every replica keeps its in-process index current by
reading the rows changed since its last look (`refresh_every`). Encoding and searching
run in a worker thread (`asyncio.to_thread`); the event loop only awaits them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import numpy as np

from bot.clock import Clock, SystemClock, utc
from bot.langdetect import guess_language
from bot.matching.encoder import Encoder, local_encoder
from bot.matching.glossary import EMPTY, Glossary
from bot.matching.lexical import signal_tokens
from bot.matching.ranking import (
    Item,
    MatchPolicy,
    Scored,
    Viewer,
    WorkspaceIndex,
    select,
)
from bot.matching.remote import encode_with_space
from bot.metrics import METRICS, timed
from bot.store.engine import Database
from bot.store.matching import MatchingStore, StoredVector
from bot.store.tables.matching import MatchVector

log = logging.getLogger(__name__)
T = TypeVar("T")

# Texts stored by another encoder: up to this many are re-encoded before an index is ready;
# more (an upgrade of a large workspace) in the background, this many per chunk.
REENCODE_INLINE = 2000
REENCODE_CHUNK = 200
TRIM_EVERY = 500  # items indexed between two hand-backs of freed heap (release_freed_memory)


def release_freed_memory() -> None:
    """Hand the heap freed by a large build back to the system (glibc keeps it otherwise:
    about 40 MB after an index of 100,000 narrations). Elsewhere a no-op."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


TOMBSTONE_KEEP = timedelta(days=2)
# The `model` of a stored vector whose text must be encoded again because the workspace's
# glossary changed: any value other than the encoder's name makes the row stale everywhere.
GLOSSARY_STALE = "glossary-changed"
GlossaryLoader = Callable[[str], Awaitable[Iterable[tuple[str, str]]]]
# Who may be suggested, given everyone's own consent choices (MatchingStore.CHOICES by user)
AllowByChoices = Callable[[dict[str, dict[str, Any]]], Callable[[Item], bool]]


@dataclass(frozen=True, slots=True)
class Limits:
    """Fatigue: how often one person may be put forward."""

    window: timedelta = timedelta(days=7)
    per_person: int = 3  # suggestions of one person to anyone within `window`
    pair_window: timedelta = timedelta(days=30)  # the same person to the same narrator


class MatchingEngine:
    def __init__(
        self,
        db: Database,
        *,
        encoder: Encoder | None = None,
        policy: MatchPolicy | None = None,
        limits: Limits | None = None,
        clock: Clock | None = None,
        refresh_every: timedelta = timedelta(seconds=30),
        index_options: dict[str, int] | None = None,
        glossary: GlossaryLoader | None = None,
    ) -> None:
        self.store = MatchingStore(db)
        self.encoder: Encoder = encoder or local_encoder()
        self.policy = policy or MatchPolicy()
        self.limits = limits or Limits()
        self.clock: Clock = clock or SystemClock()
        self.refresh_every = refresh_every
        self._index_options = index_options or {}
        self._indexes: dict[str, WorkspaceIndex] = {}
        self._seen: dict[str, datetime] = {}  # workspace -> time of the last refresh
        self._loading: dict[str, asyncio.Lock] = {}
        self._lock = threading.Lock()  # guards every index across worker threads
        self._purged: datetime | None = None
        self._space = self.encoder.name  # the vector space of the indexes in `_indexes`
        self._background: set[asyncio.Task[None]] = set()
        self._added = 0  # items indexed since the freed heap was last handed back
        self._mutation_locks: dict[str, asyncio.Lock] = {}
        self._glossary_loader = glossary
        self._glossaries: dict[str, Glossary] = {}  # workspace -> its glossary, as last read

    # -- the organisation's glossary ---------------------------------------------------------------
    async def glossary(self, workspace_id: str, *, reload: bool = False) -> Glossary:
        """The workspace's glossary (glossary.py), read once and again on every refresh."""
        found = self._glossaries.get(workspace_id)
        if found is None or reload:
            entries = await self._glossary_loader(workspace_id) if self._glossary_loader else ()
            found = Glossary(entries)
            self._glossaries[workspace_id] = found
        return found

    def _expanded(self, workspace_id: str, texts: list[str]) -> list[str]:
        """The texts as the encoder gets them: with the meanings of glossary terms."""
        glossary = self._glossaries.get(workspace_id, EMPTY)
        return [glossary.expand(t) for t in texts] if glossary else texts

    async def glossary_changed(self, workspace_id: str, changed: list[tuple[str, str]]) -> int:
        """After an admin added or removed `changed` entries: the new glossary applies at
        once, and the stored vectors of the texts it touches are marked stale and encoded
        again in the background (the mechanism of an encoder upgrade: a restart or another
        replica finishes or repeats the work). Returns how many texts are re-encoded."""
        ws = await self._workspace(workspace_id, refresh=False)
        glossary = await self.glossary(workspace_id, reload=True)
        touching = Glossary(changed)
        async with self._mutations(workspace_id):
            with self._lock:
                ws.glossary = glossary
                items = [i for i in ws.items.values() if touching.touches(i.text)]
            await self.store.mark_stale(
                workspace_id, [i.key for i in items], GLOSSARY_STALE, self.clock.now()
            )
        fresh = [
            Item.of(
                i.key,
                i.kind,
                i.author_id,
                i.text,
                visibility=i.visibility,
                channel_id=i.channel_id,
                created_at=i.created_at,
                language=i.language,
            )
            for i in items
        ]  # tokens again, with the new glossary
        if fresh:
            task = asyncio.get_running_loop().create_task(
                self._reencode_in_background(workspace_id, ws, fresh)
            )
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return len(fresh)

    # -- encoding -------------------------------------------------------------------------------
    async def encode(self, texts: list[str]) -> np.ndarray:
        return (await self.encode_with_space(texts))[1]

    async def encode_with_space(
        self, texts: list[str], *, workspace_id: str | None = None
    ) -> tuple[str, np.ndarray]:
        """Vectors and the name of the space they are in: an encoder with a fallback
        (remote.FallbackEncoder) may switch spaces between two calls. Texts of a workspace
        are expanded with its glossary first."""
        if workspace_id is not None:
            await self.glossary(workspace_id)
            texts = self._expanded(workspace_id, texts)
        return await asyncio.to_thread(encode_with_space, self.encoder, texts)

    async def warm_up(self) -> None:
        """Load the model now (start-up), not on the first search."""
        loader = getattr(self.encoder, "load", None)
        if loader is not None:
            await asyncio.to_thread(loader)
        await self.encode(["warm up"])

    @property
    def current_policy(self) -> MatchPolicy:
        """The encoder's own threshold (a configured endpoint model) or the engine's."""
        return getattr(self.encoder, "policy", None) or self.policy

    # -- the index ------------------------------------------------------------------------------
    async def index(
        self,
        workspace_id: str,
        items: list[Item],
        vecs: np.ndarray | None = None,
        *,
        space: str | None = None,
        stored: bool = False,
    ) -> None:
        """Encode (unless `vecs` are given, made in `space`: the current encoder's unless
        said), store (unless `stored`: the caller stored `vecs` with the items' own rows, as
        a narration's) and index items, replacing earlier versions with the same key."""
        if not items:
            return
        if vecs is None or (space is not None and space != self.encoder.name):
            space, vecs = await self.encode_with_space(
                [i.text for i in items], workspace_id=workspace_id
            )
            stored = False
        space = space or self.encoder.name
        if not stored:
            now = self.clock.now()
            rows = [
                _row(workspace_id, item, vec, space, now)
                for item, vec in zip(items, vecs, strict=True)
            ]
            await self.store.save(rows, now)
        ws = await self._workspace(workspace_id, refresh=False)
        if ws.space == space:  # else stored only: the next load re-encodes it
            await asyncio.to_thread(self._locked, ws.add, items, vecs)
            self._added += len(items)
            if self._added >= TRIM_EVERY:  # a growing index cell leaves its old block behind
                self._added = 0
                await asyncio.to_thread(release_freed_memory)

    async def remove(self, workspace_id: str, key: str) -> bool:
        kind, ref = key.split(":", 1)
        async with self._mutations(workspace_id):
            removed = await self.store.tombstone(workspace_id, kind, ref, self.clock.now())
            ws = self._indexes.get(workspace_id)
            if ws is not None:
                with self._lock:
                    removed = ws.remove(key) or removed
        return removed

    async def forget_author(self, workspace_id: str, author_id: str) -> int:
        """Drop everything a person said from this replica's index and leave anonymous
        tombstones (kind and ref only) so other replicas drop it on their next refresh."""
        async with self._mutations(workspace_id):
            ws = self._indexes.get(workspace_id)
            keys = [k for k, i in ws.items.items() if i.author_id == author_id] if ws else []
            now = self.clock.now()
            for key in keys:
                kind, ref = key.split(":", 1)
                await self.store.tombstone(workspace_id, kind, ref, now)
            if ws is not None:
                with self._lock:
                    for key in keys:
                        ws.remove(key)
        return len(keys)

    async def preload(self) -> int:
        """Load the model and every workspace's index (start-up), so the first narration of
        the day does not wait for them. Returns the number of items loaded."""
        await self.warm_up()
        total = 0
        for workspace_id in await self.store.workspaces():
            total += len(await self._workspace(workspace_id, refresh=False))
        return total

    async def rebuild(self, workspace_id: str) -> WorkspaceIndex:
        """Drop the in-process index and build it again from the database."""
        self._indexes.pop(workspace_id, None)
        return await self._workspace(workspace_id, refresh=False)

    async def size(self, workspace_id: str) -> int:
        return len(await self._workspace(workspace_id, refresh=False))

    # -- searching ------------------------------------------------------------------------------
    async def rank(
        self,
        workspace_id: str,
        text: str,
        vector: np.ndarray | None = None,
        *,
        space: str | None = None,
        language: str | None = None,
        policy: MatchPolicy | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Scored]:
        """All candidates for `text`, best first, before any filter or threshold.
        `language` is the text's ("en" / "nl"; guessed from the text when not given);
        `policy` replaces the current one for this ranking (e.g. `/wol who`'s); `exclude`:
        the key of the text's own item, if it may be stored already (left out, and not
        counted in the text's neighbourhood: WorkspaceIndex.rank)."""
        ws = await self._workspace(workspace_id)
        if vector is not None and (space or self.encoder.name) != ws.space:
            vector = None  # made in another space (the encoder switched): encode again
        language = language or guess_language(text)
        return await asyncio.to_thread(
            self._encode_and_rank, ws, text, vector, language, policy, frozenset(exclude)
        )

    async def policy_for(self, workspace_id: str, policy: MatchPolicy | None = None) -> MatchPolicy:
        """The policy (the current one, or `policy`) for this workspace's size: a young
        workspace's (`MatchPolicy.for_size`), as `WorkspaceIndex.rank` applies it."""
        ws = await self._workspace(workspace_id)
        return (policy or self.current_policy).for_size(len(ws))

    @timed(METRICS.matching_seconds)
    async def search(
        self,
        workspace_id: str,
        text: str,
        viewer: Viewer,
        *,
        exclude: Iterable[str] = (),
        kinds: Iterable[str] | None = None,
        vector: np.ndarray | None = None,
        space: str | None = None,
        allow: Callable[[Item], bool] | None = None,
        allow_by_choices: AllowByChoices | None = None,
        language: str | None = None,
    ) -> list[Scored]:
        """What the bot would suggest to `viewer` for `text`: filtered for visibility,
        consent (`allow`; or `allow_by_choices`, made from the people's own consent
        choices, which are then read in the filters' statement), fatigue and the viewer
        themself, then thresholded (see ranking.select). `exclude`: the key of the text's
        own item (a narration is searched before it is indexed, but an edit or another
        replica may have stored it)."""
        excluded = frozenset(exclude)
        # The database filters and the encoding + ranking (a worker thread) overlap.
        ranked, (fatigued, rejected, liked, choices) = await asyncio.gather(
            self.rank(workspace_id, text, vector, space=space, language=language, exclude=excluded),
            self.store.filters_and_choices(
                workspace_id,
                viewer.person_id,
                self.clock.now(),
                window=self.limits.window,
                per_person=self.limits.per_person,
                pair_window=self.limits.pair_window,
                choices=allow_by_choices is not None,
            ),
        )
        if allow_by_choices is not None:
            allow = allow_by_choices(choices)
        policy = await self.policy_for(workspace_id)
        penalties = {p: policy.feedback(rejected[p], liked[p]) for p in set(rejected) | set(liked)}
        wanted = set(kinds) if kinds is not None else None
        return select(
            ranked,
            policy,
            viewer,
            blocked=fatigued,
            penalties=penalties,
            allow=lambda item: (
                item.key not in excluded
                and (wanted is None or item.kind in wanted)
                and (allow is None or allow(item))
            ),
        )

    async def is_vague(
        self, workspace_id: str, text: str, vector: np.ndarray | None = None
    ) -> bool:
        """Whether `text` (whose vector in the current space is `vector`, when known) says
        too little to match on (the policy's specificity gate): it gets no suggestions."""
        policy = self.current_policy
        if policy.min_specificity <= 0:
            return False
        ws = await self._workspace(workspace_id)
        with self._lock:
            return ws.is_vague(text, vector, policy)

    def _encode_and_rank(
        self,
        ws: WorkspaceIndex,
        text: str,
        vector: np.ndarray | None,
        language: str,
        policy: MatchPolicy | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> list[Scored]:
        if vector is None:
            space, vecs = encode_with_space(self.encoder, [ws.glossary.expand(text)])
            if space != ws.space:
                log.info("encoder switched to %s during a search: no suggestions this time", space)
                return []
            vector = vecs[0]
        with self._lock:
            tokens = signal_tokens(text) | ws.glossary.tokens(text)
            return ws.rank(
                vector, tokens, policy or self.current_policy, language, text, exclude=exclude
            )

    def _locked(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            return fn(*args)

    # -- loading and refreshing -----------------------------------------------------------------
    def _check_space(self) -> None:
        """After the encoder changed space (an endpoint fell back to the local model) the
        indexes are dropped: each is loaded again, re-encoding stored texts once."""
        if self.encoder.name != self._space:
            log.warning("matching now encodes with %s: rebuilding the indexes", self.encoder.name)
            self._space = self.encoder.name
            self._indexes.clear()
            self._seen.clear()

    async def _workspace(self, workspace_id: str, *, refresh: bool = True) -> WorkspaceIndex:
        self._check_space()
        ws = self._indexes.get(workspace_id)
        if ws is None:
            lock = self._loading.setdefault(workspace_id, asyncio.Lock())
            async with lock:
                ws = self._indexes.get(workspace_id)
                if ws is None:
                    ws = await self._load(workspace_id)
                    self._indexes[workspace_id] = ws
            return ws
        if refresh and self.clock.now() - self._seen[workspace_id] >= self.refresh_every:
            await self._refresh(workspace_id, ws)
        return ws

    async def _load(self, workspace_id: str) -> WorkspaceIndex:
        if not self.encoder.dim:  # an endpoint's dimension is known after its first answer
            await self.warm_up()
            self._check_space()
        started = self.clock.now()
        glossary = await self.glossary(workspace_id, reload=True)
        name, dim = self.encoder.name, self.encoder.dim
        items: list[Item] = []
        parts: list[np.ndarray] = []
        stale: list[Item] = []
        async for chunk in self.store.load(workspace_id, name, dim):
            fresh, vecs, old = await asyncio.to_thread(_decode_chunk, chunk, name, dim)
            items += fresh
            parts.append(vecs)
            stale += old
        later: list[Item] = []
        if len(stale) > REENCODE_INLINE:
            later = stale  # thousands of texts: minutes of CPU, so not before the index is up
        elif stale:
            space, vecs = await self._reencode(workspace_id, stale)
            if space == name:  # else the encoder switched meanwhile: the next load has them
                items += stale
                parts.append(vecs)
        raw = np.concatenate(parts) if parts else np.empty((0, dim), np.float32)
        del parts
        ws = await asyncio.to_thread(
            WorkspaceIndex.build, items, raw, glossary, **self._index_options
        )
        del raw, items
        release_freed_memory()  # a build's temporaries (k-means, copies) would stay mapped
        ws.space = name
        if later:
            task = asyncio.get_running_loop().create_task(
                self._reencode_in_background(workspace_id, ws, later)
            )
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        self._seen[workspace_id] = started
        log.info("matching index for %s: %d items", workspace_id, len(ws))
        return ws

    async def _reencode(
        self, workspace_id: str, items: list[Item], *, save: bool = True
    ) -> tuple[str, np.ndarray]:
        """Vectors made by another encoder (a model upgrade, an endpoint's fallback) are
        re-encoded once, and stored when `save`."""
        log.info("re-encoding %d stored texts for %s", len(items), workspace_id)
        space, raw = await self.encode_with_space(
            [i.text for i in items], workspace_id=workspace_id
        )
        if not save:
            return space, raw
        now = self.clock.now()
        rows = [
            _row(workspace_id, item, vec, space, now) for item, vec in zip(items, raw, strict=True)
        ]
        await self.store.save(rows, now)
        return space, raw

    async def _reencode_in_background(
        self, workspace_id: str, ws: WorkspaceIndex, items: list[Item]
    ) -> None:
        """Texts stored by another encoder (after an upgrade or a change of
        `matching.encoder`) or before a glossary change, re-encoded a chunk at a time while
        the bot serves: each chunk is saved (a restart goes on where this one stopped) and
        joins the index; until then those narrations are not suggested (after a glossary
        change: suggested with their earlier vector). Rows erased, removed or edited
        meanwhile are left alone (`MatchingStore.replace_vectors`)."""
        log.warning(
            "matching: %d stored texts of %s were encoded by another model or glossary; "
            "re-encoding them in the background with %s",
            len(items),
            workspace_id,
            ws.space,
        )
        started = time.perf_counter()
        items = list(items)
        random.shuffle(items)  # replicas doing the same then mostly meet work already done
        for start in range(0, len(items), REENCODE_CHUNK):
            chunk = items[start : start + REENCODE_CHUNK]
            todo = await self.store.stale(workspace_id, [i.key for i in chunk], ws.space)
            chunk = [i for i in chunk if i.key in todo]  # the rest: another replica's refresh
            if not chunk:
                continue
            space, vecs = await self.encode_with_space(
                [i.text for i in chunk], workspace_id=workspace_id
            )
            if space != ws.space or self._indexes.get(workspace_id) is not ws:
                log.info("matching: re-encoding of %s stopped (index rebuilt)", workspace_id)
                return
            async with self._mutations(workspace_id):
                done = await self.store.replace_vectors(
                    workspace_id,
                    [(i.key, v) for i, v in zip(chunk, vecs, strict=True)],
                    space,
                    self.clock.now(),
                )
                keep = [n for n, i in enumerate(chunk) if i.key in done]
                if keep:
                    with self._lock:
                        ws.add([chunk[n] for n in keep], vecs[keep])
        log.info(
            "matching: re-encoded %d texts of %s in %.0f s",
            len(items),
            workspace_id,
            time.perf_counter() - started,
        )

    def _mutations(self, workspace_id: str) -> asyncio.Lock:
        """Serialises a background re-encoding chunk with removals from the same index, so
        that a narration removed or a person forgotten meanwhile is never added back."""
        return self._mutation_locks.setdefault(workspace_id, asyncio.Lock())

    async def background_done(self) -> None:
        """Wait for background re-encoding to finish."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def stop(self) -> None:
        """End background re-encoding (what it saved stays; the next start goes on)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _complete(self, workspace_id: str, stored: list[StoredVector]) -> list[StoredVector]:
        stale = [s.row for s in stored if s.vector is None]
        if not stale:
            return stored
        # Not stored: these rows were just written by a replica that encodes in another
        # space (a rolling upgrade, an endpoint that failed there); writing them back would
        # make the two rewrite each other's rows at every refresh.
        space, raw = await self._reencode(workspace_id, [_item(r) for r in stale], save=False)
        if space != self._space:  # the encoder switched meanwhile: the next load has them
            return [s for s in stored if s.vector is not None]
        fresh = {id(r): v for r, v in zip(stale, raw, strict=True)}
        return [
            s if s.vector is not None else StoredVector(s.row, fresh[id(s.row)]) for s in stored
        ]

    async def _refresh(self, workspace_id: str, ws: WorkspaceIndex) -> None:
        """Apply rows other replicas changed. Re-reading a little overlap (clock skew between
        replicas) is harmless: adding an item again replaces it."""
        started = self.clock.now()
        if self._purged is None or started - self._purged >= timedelta(days=1):
            # Tombstones only need to outlive every replica's next refresh; any replica may
            # clear old ones (deleting twice is harmless).
            self._purged = started
            await self.store.purge_tombstones(started - TOMBSTONE_KEEP)
        glossary = await self.glossary(workspace_id, reload=True)
        if glossary != ws.glossary:  # changed on another replica: its rows follow, stale
            with self._lock:
                ws.glossary = glossary
        since = self._seen[workspace_id] - timedelta(minutes=1)
        changed = await self.store.changed_since(
            workspace_id, since, self.encoder.name, self.encoder.dim
        )
        # A row marked stale by a glossary change keeps its vector here until the replica
        # that marked it saves the new one (re-encoding thousands inline would hold up this
        # search); a restart re-encodes whatever is still marked.
        changed = [c for c in changed if c.row.model != GLOSSARY_STALE]
        changed = await self._complete(
            workspace_id, [c for c in changed if c.row.removed_at is None]
        ) + [c for c in changed if c.row.removed_at is not None]
        with self._lock:
            for c in changed:
                key = f"{c.row.kind}:{c.row.ref}"
                if c.row.removed_at is not None:
                    ws.remove(key)
                elif c.vector is not None:
                    ws.add([_item(c.row)], c.vector[None, :])
        self._seen[workspace_id] = started


def _decode_chunk(
    chunk: list[tuple[Any, ...]], model: str, dim: int
) -> tuple[list[Item], np.ndarray, list[Item]]:
    """Rows (kind, ref, author, text, visibility, channel, created, language, model, vector)
    to items and one float32 matrix; rows of another encoder come back separately."""
    items: list[Item] = []
    stale: list[Item] = []
    vecs = np.empty((len(chunk), dim), np.float32)
    n = 0
    for kind, ref, author, text, visibility, channel, created, language, row_model, blob in chunk:
        item = Item.of(
            f"{kind}:{ref}",
            kind,
            author,
            text,
            visibility=visibility,
            channel_id=channel,
            created_at=utc(created),
            language=language,
        )
        if row_model == model and len(blob) == 4 * dim:
            vecs[n] = np.frombuffer(blob, dtype=np.float32)
            items.append(item)
            n += 1
        else:
            stale.append(item)
    return items, vecs[:n], stale


def _item(row: MatchVector) -> Item:
    return Item.of(
        f"{row.kind}:{row.ref}",
        row.kind,
        row.author_id,
        row.text,
        visibility=row.visibility,
        channel_id=row.channel_id,
        created_at=utc(row.created_at),
        language=row.language,
    )


def vector_bytes(vec: np.ndarray) -> bytes:
    """A vector as stored (float32)."""
    return np.asarray(vec, dtype=np.float32).tobytes()


def stored_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def _row(
    workspace_id: str,
    item: Item,
    vec: np.ndarray,
    model: str,
    now: datetime,
) -> MatchVector:
    kind, ref = item.key.split(":", 1)
    return MatchVector(
        workspace_id=workspace_id,
        kind=kind,
        ref=ref,
        author_id=item.author_id,
        channel_id=item.channel_id,
        visibility=item.visibility,
        language=item.language,
        text=item.text,
        model=model,
        vector=vector_bytes(vec),
        created_at=item.created_at or now,
        updated_at=now,
    )
