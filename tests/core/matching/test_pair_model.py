"""The calibrated pair score (pair_model.py, `WorkspaceIndex._calibrate`): its features
against brute force, a stored query left out of its candidates' neighbourhoods, the cache
after additions and removals, the least cosine, the young workspace's policy, `/wol who`'s
policy, and the shipped model file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.features.who import who_policy
from bot.matching.e5 import E5_PAIR_POLICY, E5_POLICY
from bot.matching.pair_model import E5_PAIR_MODEL, FEATURES, PairModel, pair_features, write
from bot.matching.ranking import Item, MatchPolicy, WorkspaceIndex

K = 3


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def item(key: str, language: str = "en") -> Item:
    return Item.of(key, "narration", key, key, visibility="public", language=language)


@pytest.fixture
def model(tmp_path: Path) -> PairModel:
    """A model with known weights: one per feature, so the probability is checkable."""
    n = len(FEATURES)
    weights = np.linspace(-1.0, 1.0, n)
    path = tmp_path / "pair.json"
    write(path, K, 5, np.full(n, 0.1), np.full(n, 2.0), weights, -0.5, {})
    return PairModel(str(path))


def policy_of(model: PairModel, **changes: float) -> MatchPolicy:
    base = MatchPolicy(threshold=-1.0, margin=1.0, lexical_weight=0.0, min_specificity=0.0)
    return replace(base, pair_model=model, **changes)


def workspace(seed: int = 3, n: int = 12) -> tuple[WorkspaceIndex, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    vecs = {f"i{j}": unit(rng.normal(size=6) + np.array([1.5, 0, 0, 0, 0, 0])) for j in range(n)}
    languages = ["en", "nl"]
    items = [item(key, languages[j % 2]) for j, key in enumerate(vecs)]
    return WorkspaceIndex.build(items, np.stack(list(vecs.values()))), vecs


def brute_top(vecs: dict[str, np.ndarray], key: str, k: int, leave: str | None = None):
    cos = sorted(
        (float(vecs[key] @ v) for other, v in vecs.items() if other not in (key, leave)),
        reverse=True,
    )
    return np.array(cos[:k])


def expected_probability(model: PairModel, row: np.ndarray) -> float:
    n = len(FEATURES)
    z = (row - 0.1) / 2.0
    return float(1 / (1 + np.exp(-(z @ np.linspace(-1.0, 1.0, n) - 0.5))))


def test_features_and_probabilities_against_brute_force(model: PairModel) -> None:
    index, vecs = workspace()
    query = unit(np.array([1.0, 0.3, 0, 0, 0, 0]))
    explain: list = []
    ranked = index.rank(query, frozenset(), policy_of(model), "en", explain=explain)
    assert len(explain) == 5  # the model's `candidates` best
    # the 5 best by cosine (the combined score without lexical weight or bonus)
    by_cosine = sorted(vecs, key=lambda k: float(vecs[k] @ query), reverse=True)[:5]
    assert [s.item.key for s, _ in explain] == by_cosine
    q_cos = sorted((float(v @ query) for v in vecs.values()), reverse=True)[:K]
    for scored, row in explain:
        key = scored.item.key
        cos = float(vecs[key] @ query)
        cross = 1.0 if index.items[key].language != "en" else 0.0
        top = brute_top(vecs, key, K)
        want = [
            cos,
            cross,
            cos * cross,
            np.mean(q_cos),
            top.mean(),
            cos - top[-1],
            cos - q_cos[-1],
            np.log(len(vecs)),
        ]
        log_n = np.log(len(vecs))
        want += [want[3] * log_n, want[4] * log_n, want[5] * log_n, want[6] * log_n]
        assert row == pytest.approx(np.array(want), abs=1e-5)
        assert scored.score == pytest.approx(expected_probability(model, row), abs=1e-6)
        assert scored.semantic == pytest.approx(cos, abs=1e-5)
    # the rest of the candidates: probability 0, never posted
    assert all(s.score == 0.0 for s in ranked if s.item.key not in {x.item.key for x, _ in explain})
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)


def test_a_stored_query_is_left_out_of_its_candidates_neighbourhoods(model: PairModel) -> None:
    """Ranking a stored narration (the benchmarks, an edit) gives the features it had as a
    new one: it is not its candidates' neighbour, nor its own."""
    index, vecs = workspace(seed=5)
    key = "i0"
    fresh = {k: v for k, v in vecs.items() if k != key}
    new_index = WorkspaceIndex.build(
        [index.items[k] for k in fresh], np.stack(list(fresh.values()))
    )
    stored: list = []
    index.rank(vecs[key], frozenset(), policy_of(model), "en", exclude={key}, explain=stored)
    new: list = []
    new_index.rank(vecs[key], frozenset(), policy_of(model), "en", exclude={key}, explain=new)
    assert [s.item.key for s, _ in stored] == [s.item.key for s, _ in new]
    for (_, a), (_, b) in zip(stored, new, strict=True):
        # the same neighbourhoods; only the workspace's size differs by the query itself
        assert a[:7] == pytest.approx(b[:7], abs=1e-5)
        assert a[7] == pytest.approx(np.log(len(vecs)))
        assert b[7] == pytest.approx(np.log(len(fresh)))


def test_the_cache_follows_additions_and_removals(model: PairModel) -> None:
    index, vecs = workspace(seed=7)
    query = unit(np.array([1.0, 0.2, 0.1, 0, 0, 0]))
    index.rank(query, frozenset(), policy_of(model), "en")
    assert index.pairs is not None and len(index.pairs)
    rng = np.random.default_rng(11)
    for step in range(6):
        key = f"new{step}"
        vecs[key] = unit(rng.normal(size=6) + np.array([2.0, 0, 0, 0, 0, 0]))
        index.add([item(key)], vecs[key][None, :])
        if step % 2:
            gone = f"i{step}"
            index.remove(gone)
            del vecs[gone]
        explain: list = []
        index.rank(query, frozenset(), policy_of(model), "en", explain=explain)
        for scored, row in explain:
            top = brute_top(vecs, scored.item.key, K)
            assert row[4] == pytest.approx(top.mean(), abs=1e-5)
            assert row[5] == pytest.approx(float(vecs[scored.item.key] @ query) - top[-1], abs=1e-5)


def test_below_the_least_cosine_the_probability_is_zero(model: PairModel) -> None:
    index, _ = workspace(seed=9)
    query = unit(np.array([1.0, 0.3, 0, 0, 0, 0]))
    explain: list = []
    ranked = index.rank(
        query, frozenset(), policy_of(model, pair_min_cosine=0.8), "en", explain=explain
    )
    assert explain
    for scored, row in explain:
        if row[0] < 0.8:
            assert scored.score == 0.0
        else:
            assert scored.score == pytest.approx(expected_probability(model, row))
    assert any(s.score == 0.0 for s in ranked)


def test_a_young_workspace_and_who_use_the_cosine_policy() -> None:
    assert E5_PAIR_POLICY.for_size(99) is E5_POLICY
    assert E5_PAIR_POLICY.for_size(100) is E5_PAIR_POLICY
    # a question is not a narration: /wol who answers with the cosine policy's bar
    assert who_policy(E5_PAIR_POLICY) == who_policy(E5_POLICY)
    assert who_policy(E5_PAIR_POLICY).pair_model is None


def test_the_shipped_model_file() -> None:
    """The file bench/pair_train.py wrote: the features the code computes, finite weights,
    and probabilities that rise with the cosine, all else equal."""
    assert E5_PAIR_MODEL.k == 10
    assert E5_PAIR_MODEL.candidates >= 3
    top = np.linspace(0.6, 0.4, 10)
    rows = np.vstack(
        [
            pair_features(np.array([c]), np.array([0.0]), top, top[None, :], 300)
            for c in (0.3, 0.5, 0.7, 0.9)
        ]
    )
    p = E5_PAIR_MODEL.probabilities(rows)
    assert np.all(np.isfinite(p)) and np.all(np.diff(p) > 0)


def test_a_model_file_with_other_features_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(
        '{"features": ["cos"], "k": 10, "candidates": 12, "mean": [0], "scale": [1],'
        ' "weights": [1], "bias": 0}',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="features"):
        PairModel(str(path)).probabilities(np.zeros((1, len(FEATURES))))
