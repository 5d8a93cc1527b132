"""The pure parts: signal tokens, the vector index (exact and partitioned), selection."""

from __future__ import annotations

import numpy as np

from bot.matching.index import VectorIndex
from bot.matching.lexical import TokenStats, overlap, signal_tokens
from bot.matching.ranking import Item, MatchPolicy, Scored, Viewer, select


def test_signal_tokens_are_names_acronyms_and_codes() -> None:
    assert signal_tokens("moving our CI from Jenkins to GitHub Actions") == {
        "ci",
        "jenkins",
        "github",
        "actions",
    }
    # Dutch compounds give up their name part; the first word alone is not a name.
    assert signal_tokens("Overzetten van onze Jenkins-jobs naar AKS") == {"jenkins", "aks"}
    assert signal_tokens("planning PRJ-4711 and the S/4HANA upgrade in 2026") == {
        "prj",
        "prj4711",
        "s/4hana",
    }
    assert signal_tokens("de begroting voor volgend jaar") == frozenset()


def test_overlap_weights_rare_tokens_higher() -> None:
    stats = TokenStats()
    for tokens in (["github", "jenkins"], ["github"], ["github"], ["github", "copilot"]):
        stats.add(tokens)
    weights = {t: stats.weight(t) for t in ("github", "jenkins")}
    query = frozenset({"github", "jenkins"})
    assert overlap(query, frozenset({"jenkins"}), weights) > overlap(
        query, frozenset({"github"}), weights
    )
    assert overlap(query, frozenset({"sap"}), weights) == 0.0
    stats.remove(["github", "copilot"])
    assert "copilot" not in stats.df and stats.docs == 3


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_index_add_remove_search() -> None:
    rng = np.random.default_rng(1)
    vecs = _unit(rng, 50, 16)
    index = VectorIndex(16)
    index.add([f"k{i}" for i in range(50)], vecs)
    assert index.search(vecs[7], 1)[0][0] == "k7"
    assert index.remove("k7") and not index.remove("k7")
    assert "k7" not in [k for k, _ in index.search(vecs[7], 50)]
    # the row swapped into the hole is still found under its own key
    assert index.search(vecs[49], 1)[0][0] == "k49"
    index.add(["k3"], vecs[10:11])  # replacing a key moves it
    assert index.search(vecs[10], 2)[0][0] in {"k3", "k10"} and len(index) == 49


def test_partitioned_index_finds_near_duplicates_like_exact_search() -> None:
    rng = np.random.default_rng(2)
    centres = _unit(rng, 40, 32)
    vecs = centres[rng.integers(0, 40, 4000)] + 0.3 * _unit(rng, 4000, 32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    exact, ivf = VectorIndex(32, ivf_min=10**9), VectorIndex(32, ivf_min=1000, nprobe=8)
    keys = list(range(4000))
    exact.add(keys, vecs)
    ivf.add(keys, vecs)
    assert ivf.partitioned and not exact.partitioned
    queries = vecs[:100] + 0.05 * _unit(rng, 100, 32)
    same = sum(exact.search(q, 1)[0][0] == ivf.search(q, 1)[0][0] for q in queries)
    assert same >= 95
    for k in range(0, 4000, 2):
        ivf.remove(k)
    assert len(ivf) == 2000
    assert all(k % 2 for k, _ in ivf.search(vecs[1], 20))


def _scored(
    key: str, author: str, score: float, visibility: str = "public", channel: str | None = "C1"
) -> Scored:
    item = Item.of(key, "narration", author, key, visibility=visibility, channel_id=channel)
    return Scored(item, score, score, 0.0)


def test_select_applies_rules_before_threshold_and_margin() -> None:
    policy = MatchPolicy(threshold=0.5, margin=0.15, max_suggestions=3)
    viewer = Viewer("U0", "C1", "public")
    ranked = [
        _scored("self", "U0", 0.99),  # the narrator themself
        _scored("dm", "U9", 0.95, "dm", "D9"),  # somebody's DM: never shown
        _scored("priv", "U8", 0.9, "private", "C1"),  # private, but we are in public C1
        _scored("a1", "U1", 0.8),
        _scored("a2", "U1", 0.79),  # same person again: once
        _scored("b", "U2", 0.7),
        _scored("c", "U3", 0.6),  # beyond the margin from the best (0.8 - 0.15)
    ]
    chosen = select(ranked, policy, viewer)
    assert [s.item.key for s in chosen] == ["a1", "b"]
    in_private = select(ranked, policy, Viewer("U0", "C1", "private"))
    assert in_private[0].item.key == "priv"
    assert select(ranked, policy, viewer, blocked={"U1", "U2", "U3"}) == []
    demoted = select(ranked, policy, viewer, penalties={"U1": 0.3})
    assert [s.item.key for s in demoted] == ["b", "c"]  # a1 fell to 0.5, below 0.7 - 0.15
    assert select([_scored("weak", "U5", 0.49)], policy, viewer) == []
