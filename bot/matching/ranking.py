"""Ranking and the decision to speak: one workspace's items, their combined score, and
the threshold + margin rule that keeps the bot silent rather than suggest something weak.

Everything here is synchronous and pure in-memory; `engine.py` adds encoding, the
database and the event loop around it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from bot.matching.density import Neighbourhoods, finite_means
from bot.matching.glossary import EMPTY, Glossary
from bot.matching.index import VectorIndex
from bot.matching.lexical import TokenStats, overlap, signal_tokens
from bot.matching.pair_model import PairModel, pair_features
from bot.matching.specificity import (
    VagueModel,
    WordStats,
    content_words,
    specificity,
)
from bot.visibility import Place, may_show


@dataclass(slots=True)
class Item:
    """Something a person said that others can be matched to. (Not frozen: building 100k of
    them at start-up costs half as much; treat them as read-only all the same.)"""

    key: str  # "narration:<id>" or "topic:<user id>:<topic id>"
    kind: str  # narration | topic
    author_id: str
    text: str
    visibility: str  # public | private | dm
    channel_id: str | None = None
    created_at: datetime | None = None
    language: str | None = None  # "en" | "nl", as stored with the vector
    tokens: frozenset[str] = field(default=frozenset())

    @classmethod
    def of(cls, key: str, kind: str, author_id: str, text: str, **kw: Any) -> Item:
        """An item with its signal tokens. Strings that repeat across items (people,
        channels, kinds) are interned: one object each instead of one per item."""
        for name in ("visibility", "channel_id", "language"):
            if isinstance(kw.get(name), str):
                kw[name] = sys.intern(kw[name])
        tokens = signal_tokens(text)
        return cls(key, sys.intern(kind), sys.intern(author_id), text, tokens=tokens, **kw)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who will see the suggestions, and where: the narrator, in the narration's thread."""

    person_id: str
    channel_id: str | None
    visibility: str  # public | private | dm: the conversation the suggestion is posted in

    def may_see(self, item: Item) -> bool:
        """The core's one visibility rule (bot.visibility): public items go anywhere in the
        workspace, a private channel's items only back into that channel, DM items only to
        their author. An index holds one workspace, so both places share it here."""
        content = Place("", item.channel_id, item.visibility)
        target = Place("", self.channel_id, self.visibility, audience_user_id=self.person_id)
        return may_show(content, item.author_id, target)


@dataclass(frozen=True, slots=True)
class Scored:
    item: Item
    score: float
    semantic: float
    lexical: float


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    """When the bot speaks. Each local encoder carries its own (`E5_POLICY`, `USE_POLICY`,
    chosen on the tuning half of bench/data: docs/matching.md); these defaults are what an
    embeddings endpoint starts from. `lexical_weight` scales the rare-name overlap added
    to the cosine; `cross_language_bonus` is added when the item is in the other language
    (multilingual encoders score a Dutch/English pair lower than the same pair in one
    language, so one threshold for both would favour same-language near-misses)."""

    threshold: float = 0.54
    margin: float = 0.10
    lexical_weight: float = 0.05
    max_suggestions: int = 3
    shortlist: int = 64  # semantic neighbours considered before filters
    rare_df: int = 50  # tokens in at most this many items also pull candidates in
    feedback_penalty: float = 0.15  # per earlier "Not relevant" on the same pairing
    feedback_penalty_max: float = 0.45  # at most this much lower, whatever the count
    feedback_bonus: float = 0.05  # per earlier "Connect me" / helpful introduction
    feedback_bonus_max: float = 0.1  # at most this much higher
    cross_language_bonus: float = 0.0
    # A short question ("who knows about SharePoint?") names its subject in a word or
    # three: items that contain every one of those words, each used by at most
    # `mention_df` items, are candidates however their sentence embeds (see
    # WorkspaceIndex.mentions); 0 words (the default) turns this off.
    mention_words: int = 0
    mention_df: int = 50

    def feedback(self, rejected: int, liked: int) -> float:
        """What the narrator's own answers about a person subtract from that person's
        score for their narrations (negative: a bonus), bounded both ways."""
        down = min(self.feedback_penalty_max, self.feedback_penalty * rejected)
        up = min(self.feedback_bonus_max, self.feedback_bonus * liked)
        return down - up

    # The specificity gate (specificity.py): a text saying less than this gets no
    # suggestions and is never suggested; 0 turns it off.
    min_specificity: float = 1.0
    # ... and, for the encoder it was trained for, a classifier on its vectors.
    vague_model: VagueModel | None = None
    # The neighbourhood density (hubness) correction (density.py): score − weight ·
    # ((r_query + r_item) / 2 − center), r = the mean cosine to the `density_k` nearest
    # other items of the workspace. Weight 0 (the default) turns it off.
    density_weight: float = 0.0
    density_k: int = 10
    density_center: float = 0.5
    # Each of the k nearest cosines counts at least this much, and a workspace with fewer
    # than k other items fills the missing ones with it (None: no floor, the mean of what
    # there is). A young workspace's few items are far apart only because there are few of
    # them: without a floor they would all look isolated and be pushed up; with the floor
    # as the center, the correction only ever lowers the score of items in dense regions
    # (and of queries from one), and a small workspace gets none.
    density_floor: float | None = None
    # A workspace with fewer items than `density_min_items` has no population to measure
    # density against: there the policy `young` applies instead (`for_size`), e.g. the one
    # chosen for the same encoder without the correction.
    density_min_items: int = 0
    young: MatchPolicy | None = None
    # The calibrated pair score (pair_model.py): the best candidates by the combined score
    # are scored by the probability that they are the same work, and the threshold and
    # margin apply to that probability (the density correction is not applied then).
    pair_model: PairModel | None = None
    # ... and no candidate below this cosine is scored by it (probability 0): an isolated
    # narration and an isolated candidate are not the same work because both are isolated.
    pair_min_cosine: float = -1.0

    def for_size(self, items: int) -> MatchPolicy:
        """The policy for a workspace of this many items (`young` below the minimum)."""
        if self.young is not None and items < self.density_min_items:
            return self.young
        return self

    def density_r(self, tops: np.ndarray) -> np.ndarray:
        """r per row of k nearest cosines (non-finite: missing), by this policy's floor."""
        if self.density_floor is None:
            return finite_means(tops)
        floor = self.density_floor
        padded = np.full((tops.shape[0], self.density_k), floor, dtype=np.float64)
        width = min(tops.shape[1], self.density_k)
        part = tops[:, :width].astype(np.float64)
        padded[:, :width] = np.where(np.isfinite(part), np.maximum(part, floor), floor)
        out: np.ndarray = padded.mean(axis=1)
        return out


class WorkspaceIndex:
    """One tenant's items: vectors, metadata, and signal-token statistics. Tenants never
    share an index, so no search can cross workspaces.

    """

    def __init__(self, dim: int, **index_options: int) -> None:
        self.space = ""  # the encoder (vector space) its vectors come from; set by the engine
        self.vectors: VectorIndex[str] = VectorIndex(dim, **index_options)
        self.items: dict[str, Item] = {}
        self.stats = TokenStats()
        self.words = WordStats()
        self.postings: dict[str, set[str]] = {}
        # The organisation's glossary (glossary.py): its terms are signal tokens of the
        # items naming them and count as content for the specificity gate. Set by the engine.
        self.glossary: Glossary = EMPTY
        # Each item's k nearest cosines, for the density correction: filled on demand by
        # `rank`, kept current by `add` and `remove` (density.py).
        self.density: Neighbourhoods | None = None
        # The same, k + 1 of them, for the pair model's features (pair_model.py): one more,
        # so that a stored query can be left out of its candidates' neighbourhoods.
        self.pairs: Neighbourhoods | None = None

    @classmethod
    def build(
        cls, items: list[Item], vecs: np.ndarray, glossary: Glossary = EMPTY, **index_options: int
    ) -> WorkspaceIndex:
        index = cls(vecs.shape[1], **index_options)
        index.glossary = glossary
        if items:
            index.add(items, vecs)
        return index

    def __len__(self) -> int:
        return len(self.items)

    def add(self, items: list[Item], vecs: np.ndarray) -> None:
        for item in items:
            self.remove(item.key)
        self.vectors.add([i.key for i in items], vecs)
        for cache in self._neighbourhoods():  # each new item may enter cached k nearest
            for item in items:
                near = self.vectors.scan(self.vectors.vector(item.key), cache.floor())
                cache.added(*near)
        for item in items:
            named = self.glossary.tokens(item.text) if self.glossary else None
            if named:  # else the shared empty set stays (memory at 100k items)
                item.tokens = item.tokens | named
            self.items[item.key] = item
            self.stats.add(item.tokens)
            self.words.add(item.text)
            for token in item.tokens:
                self.postings.setdefault(token, set()).add(item.key)

    def remove(self, key: str) -> bool:
        item = self.items.pop(key, None)
        if item is None:
            return False
        for cache in self._neighbourhoods():  # cached items that had it among their k
            cache.drop(key)
            if cache:
                near = self.vectors.scan(self.vectors.vector(key), cache.floor())
                cache.removed(*near)
        self.vectors.remove(key)
        self.stats.remove(item.tokens)
        self.words.remove(item.text)
        for token in item.tokens:
            keys = self.postings.get(token)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.postings[token]
        return True

    def _neighbourhoods(self) -> list[Neighbourhoods]:
        """The caches of k nearest cosines that hold anything (density, pair model)."""
        return [cache for cache in (self.density, self.pairs) if cache]

    def rank(
        self,
        vec: np.ndarray,
        tokens: frozenset[str],
        policy: MatchPolicy,
        language: str | None = None,
        text: str | None = None,
        exclude: Collection[str] = (),
        explain: list[tuple[Scored, np.ndarray]] | None = None,
    ) -> list[Scored]:
        """Candidates by combined score, best first: the semantic shortlist plus every item
        sharing a rare name with the query (a project code can match across wording); items
        in another language than the query's get the policy's cross-language bonus. With the
        query's `text` and a specificity bar in the policy, a vague query gets no candidates
        and vague items are left out (the gate of specificity.py). With a density weight in
        the policy, scores get the neighbourhood density correction (`_densify`).
        With a pair model in the policy, the best candidates' scores are its probabilities
        (`_calibrate`), each with its row of features appended to `explain` when given.
        `exclude`: the query's own key when the query is itself stored in the index: never a
        candidate, and not counted in the query's own neighbourhood."""
        gate = policy.min_specificity > 0 and text is not None
        mentioned = self.mentions(text, policy) if text is not None else {}
        # A short query naming words the workspace's items contain is not content-free,
        # whatever the vector classifier makes of one word: only the word-level bar applies.
        if gate and self.is_vague(str(text), None if mentioned else vec, policy):
            return []
        policy = policy.for_size(len(self))
        model = policy.pair_model
        densify = model is None and policy.density_weight != 0 and policy.density_k > 0
        k = model.k if model is not None else policy.density_k if densify else 0
        found = self.vectors.search(vec, max(policy.shortlist, k + len(exclude)))
        # the query's k nearest other items (from its own search): r of the query
        near_q = [cos for key, cos in found if key not in exclude][:k]
        semantic = dict(found[: policy.shortlist])
        for key in mentioned:
            if key not in semantic:
                semantic[key] = float(self.vectors.vector(key) @ vec)
        weights = {t: self.stats.weight(t) for t in tokens}
        for token in tokens:
            keys = self.postings.get(token, ())
            if 0 < len(keys) <= policy.rare_df:
                for key in keys:
                    if key not in semantic:
                        semantic[key] = float(self.vectors.vector(key) @ vec)
        bonus = policy.cross_language_bonus if language else 0.0
        out = []
        for key, cos in semantic.items():
            if key in exclude:
                continue
            item = self.items[key]
            lex = overlap(tokens, item.tokens, weights) if tokens else 0.0
            score = cos + policy.lexical_weight * lex
            if bonus and item.language and item.language != language:
                score += bonus
            out.append(Scored(item, score, cos, lex))
        # Below this no item can be posted, whatever the narrator's feedback adds (select).
        floor = policy.threshold - policy.feedback_bonus_max
        if model is not None and out:
            out = self._calibrate(out, near_q, policy, language, exclude, explain)
        elif densify and out and (near_q or policy.density_floor is not None):
            r_query = float(policy.density_r(np.array([near_q or [np.nan]]))[0])
            out = self._densify(out, r_query, policy, floor, list(semantic))
        if gate:
            # Vague items are never suggested. Checked only where it can matter: items that
            # could still reach the threshold (with the largest feedback bonus); the rest
            # are never posted anyway, and checking all 64 cost ~10 ms a search at 100k.
            near = [s.item.key for s in out if s.score >= floor or s.item.key in mentioned]
            dropped = {k for k, v in zip(near, self._vague_items(near, policy), strict=True) if v}
            out = [s for s in out if s.item.key not in dropped]
        if mentioned:
            # An item naming the question's rare words is as good an answer as the best
            # semantic one: raised to that score (at least the threshold), rarer words first.
            top = max([policy.threshold] + [s.score for s in out])
            out = [
                Scored(s.item, max(s.score, top), s.semantic, mentioned[s.item.key])
                if s.item.key in mentioned
                else s
                for s in out
            ]
            out.sort(key=lambda s: (s.score, s.lexical), reverse=True)
            return out
        out.sort(key=lambda s: s.score, reverse=True)
        return out

    def _calibrate(
        self,
        out: list[Scored],
        near_q: list[float],
        policy: MatchPolicy,
        language: str | None,
        exclude: Collection[str],
        explain: list[tuple[Scored, np.ndarray]] | None,
    ) -> list[Scored]:
        """The pair model's probability as the score of the `model.candidates` best
        candidates by combined score; the others get 0 (never posted). Each candidate's k
        nearest cosines come from a cache (`self.pairs`, kept current by `add` and
        `remove`), computed when missing; when the query is itself stored (its key in
        `exclude`), it is left out of its candidates' neighbourhoods, as if it were new.
        Candidates below the policy's `pair_min_cosine` get probability 0."""
        model = policy.pair_model
        assert model is not None
        k = model.k
        out = sorted(out, key=lambda s: s.score, reverse=True)
        top, rest = out[: model.candidates], out[model.candidates :]
        if self.pairs is None or self.pairs.k != k + 1:
            self.pairs = Neighbourhoods(k + 1)
        cache = self.pairs
        keys = [s.item.key for s in top]
        need = [key for key in keys if key not in cache]
        if need:
            cache.put(need, self.vectors.neighbours(need, k + 1))
        stored = any(key in self.items for key in exclude)
        tops = np.stack(
            [
                _leave_out(cache.top(k_), s.semantic, k, stored)
                for k_, s in zip(keys, top, strict=True)
            ]
        )
        query_top = np.full(k, -np.inf)
        query_top[: len(near_q)] = near_q[:k]
        cross = [
            1.0 if language and s.item.language and s.item.language != language else 0.0
            for s in top
        ]
        cosines = np.array([s.semantic for s in top])
        rows = pair_features(cosines, np.array(cross), query_top, tops, len(self))
        probabilities = np.where(cosines >= policy.pair_min_cosine, model.probabilities(rows), 0.0)
        scored = [
            Scored(s.item, float(p), s.semantic, s.lexical)
            for s, p in zip(top, probabilities, strict=True)
        ]
        if explain is not None:
            explain.extend(zip(scored, rows, strict=True))
        return scored + [Scored(s.item, 0.0, s.semantic, s.lexical) for s in rest]

    def _densify(
        self,
        out: list[Scored],
        r_query: float,
        policy: MatchPolicy,
        floor: float,
        around: list[str],
    ) -> list[Scored]:
        """The density correction: score − β · ((r_query + r_item) / 2 − c). r_item comes
        from the cache, or is computed (and cached) only for candidates whose corrected
        score could reach `floor`: a lower bound of r_item is the mean of its k highest
        cosines to the candidates `around` it (they are items of the workspace too; −1 for
        the ones missing), so an upper bound of the corrected score is known for free. A
        candidate whose bound stays below `floor` is never posted and keeps that bound as
        its score. An item with no other item keeps its score."""
        beta, k, centre = policy.density_weight, policy.density_k, policy.density_center
        if self.density is None or self.density.k != k:
            self.density = Neighbourhoods(k)
        cache = self.density
        keys = [s.item.key for s in out]
        r, known = cache.means(keys, policy.density_r)
        todo = np.flatnonzero(~known)  # candidates whose r is to be computed
        bound = np.full(len(out), np.nan)
        kth = np.full(len(out), -np.inf)  # lower bounds of the k-th best cosine, when known
        if len(todo) and beta > 0 and floor > -math.inf:

            def upper(rows: np.ndarray, r_item: np.ndarray | float) -> np.ndarray:
                scores = np.array([out[i].score for i in rows])
                return scores - beta * ((r_query + r_item) / 2 - centre)

            least = -1.0 if policy.density_floor is None else policy.density_floor
            bound[todo] = upper(todo, least)  # any item's r is at least -1 (or the floor)
            maybe = todo[bound[todo] >= floor]
            if len(maybe):
                lower, kth[maybe] = self._lower_r([keys[i] for i in maybe], around, k)
                bound[maybe] = upper(maybe, np.maximum(lower, least))
            todo = todo[bound[todo] >= floor]
        if len(todo):
            need = [keys[i] for i in todo]
            tops = self.vectors.neighbours(need, k, kth[todo])
            cache.put(need, tops)
            r[todo] = policy.density_r(tops)
            known[todo] = True
        corrected = []
        for i, s in enumerate(out):
            if known[i]:
                shift = 0.0 if math.isnan(r[i]) else beta * ((r_query + r[i]) / 2 - centre)
                corrected.append(Scored(s.item, s.score - shift, s.semantic, s.lexical))
            else:  # cannot reach the floor: an upper bound of its corrected score
                corrected.append(Scored(s.item, float(bound[i]), s.semantic, s.lexical))
        return corrected

    def _lower_r(self, keys: list[str], around: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Lower bounds for each of `keys`, from its cosines to the other items of `around`
        (a subset of the workspace): of r, the mean of its k highest (−1 for each one
        missing), and of its k-th highest cosine (−inf when `around` has fewer)."""
        others = min(k, len(self.vectors) - 1)
        if others <= 0:
            return np.full(len(keys), -1.0), np.full(len(keys), -np.inf)
        ring = np.stack([self.vectors.vector(key) for key in around])
        where = {key: n for n, key in enumerate(around)}
        sims = np.stack([self.vectors.vector(key) for key in keys]) @ ring.T
        for j, key in enumerate(keys):
            if key in where:
                sims[j, where[key]] = -np.inf  # not its own neighbour
        taken = min(others, sims.shape[1])
        best = -np.sort(-sims, axis=1)[:, :taken]
        kth = best[:, k - 1] if taken >= k else np.full(len(keys), -np.inf)
        best = np.where(np.isfinite(best), best, -1.0)
        total: np.ndarray = best.sum(axis=1, dtype=np.float64) - (others - taken)
        return total / others, kth

    def mentions(self, text: str, policy: MatchPolicy) -> dict[str, float]:
        """For a short query (at most `policy.mention_words` content words), the items whose
        own words (case-insensitive, compounds split at hyphens) include every one of them,
        with the words' summed inverse document frequency; only when each word is rare in
        the workspace (in at most `policy.mention_df` items). Empty otherwise."""
        query = content_words(text)
        if not query or len(query) > policy.mention_words:
            return {}
        if any(not 0 < self.words.df.get(w, 0) <= policy.mention_df for w in query):
            return {}
        docs = self.words.docs
        weight = sum(math.log((docs + 1) / (self.words.df[w] + 1)) + 1.0 for w in query)
        wanted = set(query)
        found: dict[str, float] = {}
        for key, item in self.items.items():
            lower = item.text.lower()
            if all(w in lower for w in wanted) and wanted <= set(content_words(item.text)):
                found[key] = weight
        return found

    def is_vague(self, text: str, vec: np.ndarray | None, policy: MatchPolicy) -> bool:
        """Too little to match on: below the policy's specificity bar with this workspace's
        word frequencies, or content-free by the policy's classifier on the vector."""
        if policy.min_specificity <= 0:
            return False
        if self.specificity(text) < policy.min_specificity:
            return True
        model = policy.vague_model
        return bool(
            model is not None
            and vec is not None
            and not self.glossary.found(text)
            and model.vague(vec)
        )

    def _vague_items(self, keys: list[str], policy: MatchPolicy) -> list[bool]:
        vague = [self.specificity(self.items[k].text) < policy.min_specificity for k in keys]
        model = policy.vague_model
        if model is not None and keys:
            by_vector = model.vague(np.stack([self.vectors.vector(k) for k in keys]))
            # An item naming a glossary term is about something the organisation named; a
            # profile topic ("ask me about …") is a person's own short declaration of what
            # they know, a noun phrase the classifier (trained on narrations) often takes
            # for content-free: only the word-level bar applies to both.
            vague = [
                a
                or (
                    bool(b)
                    and self.items[k].kind != "topic"
                    and not self.glossary.found(self.items[k].text)
                )
                for k, a, b in zip(keys, vague, by_vector, strict=True)
            ]
        return vague

    def specificity(self, text: str) -> float:
        """How much `text` says, with this workspace's word frequencies; each glossary
        term it names counts 1 more (the organisation's own word for something)."""
        return specificity(text, self.words) + len(self.glossary.found(text))


def _leave_out(top: np.ndarray, cos: float, k: int, stored: bool) -> np.ndarray:
    """An item's k nearest cosines from its k + 1 (best first), leaving out the query's
    (`cos`) when the query is itself stored in the index."""
    if stored:
        at = np.flatnonzero(np.abs(top - cos) <= 1e-5)
        if len(at):
            top = np.delete(top, at[0])
    return top[:k]


def select(
    ranked: list[Scored],
    policy: MatchPolicy,
    viewer: Viewer,
    *,
    blocked: Collection[str] = (),
    penalties: Mapping[str, float] | None = None,
    allow: Callable[[Item], bool] | None = None,
) -> list[Scored]:
    """What the bot would actually post: at most one item per person, never the viewer,
    never blocked people (opted out, fatigued), only what the viewer may see; then only
    scores above the threshold and within `margin` of the best remaining one."""
    penalties = penalties or {}
    best_per_person: dict[str, Scored] = {}
    for cand in ranked:
        item = cand.item
        person = item.author_id
        if person == viewer.person_id or person in blocked or not viewer.may_see(item):
            continue
        if allow is not None and not allow(item):
            continue
        if person in penalties:
            cand = Scored(item, cand.score - penalties[person], cand.semantic, cand.lexical)
        if person not in best_per_person or cand.score > best_per_person[person].score:
            best_per_person[person] = cand
    pool = sorted(best_per_person.values(), key=lambda s: s.score, reverse=True)
    return cut(pool, policy)


def cut(pool: list[Scored], policy: MatchPolicy) -> list[Scored]:
    """The decision to speak, on candidates already filtered and sorted best first: nothing
    unless the best reaches the threshold; then those within `margin` of it, at most
    `max_suggestions`."""
    if not pool or pool[0].score < policy.threshold:
        return []
    floor = max(policy.threshold, pool[0].score - policy.margin)
    return [s for s in pool if s.score >= floor][: policy.max_suggestions]
