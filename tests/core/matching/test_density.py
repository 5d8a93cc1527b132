"""The neighbourhood density (hubness) correction of the match score (ranking.py, density.py):
its arithmetic on a hand-made index, the cache of neighbourhoods against brute force after
additions and removals, and a query that is itself stored."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bot.clock import FakeClock
from bot.matching.density import Neighbourhoods
from bot.matching.engine import MatchingEngine
from bot.matching.ranking import Item, MatchPolicy, Viewer, WorkspaceIndex, select
from bot.store.engine import Database

from .conftest import CountingEncoder

# No gate, no lexical signal, no bonus: the score is the cosine, then the correction.
PLAIN = MatchPolicy(threshold=0.3, margin=1.0, lexical_weight=0.0, min_specificity=0.0)


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def item(key: str, author: str | None = None) -> Item:
    return Item.of(key, "narration", author or key, key, visibility="public")


def brute_r(vecs: dict[str, np.ndarray], key: str, k: int) -> float:
    """The mean cosine of `key` to its k nearest other items, by brute force."""
    cos = sorted((float(vecs[key] @ v) for other, v in vecs.items() if other != key), reverse=True)
    return float(np.mean(cos[:k]))


def hub_index() -> tuple[WorkspaceIndex, dict[str, np.ndarray], np.ndarray]:
    """A query, an isolated true partner (cos 0.60 to the query) and a hub (cos 0.65) in a
    crowd of near-duplicates: the hub and its crowd score high against everything."""
    e = np.eye(8, dtype=np.float32)
    query = e[0]
    vecs = {
        "partner": unit(0.60 * e[0] + 0.80 * e[1]),
        "hub": unit(0.65 * e[0] + 0.76 * e[2]),
    }
    for i in range(6):  # the crowd around the hub, each also close to the query
        vecs[f"crowd{i}"] = unit(0.5 * e[0] + 0.76 * e[2] + 0.1 * e[3 + i % 5])
    for i in range(3):  # unrelated, far from everything
        vecs[f"far{i}"] = unit(e[5 + i] - 0.3 * e[0])
    keys = list(vecs)
    index = WorkspaceIndex.build([item(k) for k in keys], np.stack([vecs[k] for k in keys]))
    return index, vecs, query


def test_a_hub_is_demoted_below_an_isolated_partner() -> None:
    index, vecs, query = hub_index()
    off = index.rank(query, frozenset(), PLAIN)
    assert [s.item.key for s in off[:2]] == ["hub", "partner"]
    assert all(s.score == s.semantic for s in off)  # weight 0: the score is the cosine

    k, beta, centre = 3, 0.5, 0.5
    on = index.rank(query, frozenset(), replace(PLAIN, density_weight=beta, density_k=k))
    assert on[0].item.key == "partner"
    # every candidate computed (nothing is below the threshold): the formula exactly
    on = index.rank(
        query, frozenset(), replace(PLAIN, threshold=-1.0, density_weight=beta, density_k=k)
    )
    r_q = float(np.mean(sorted((float(v @ query) for v in vecs.values()), reverse=True)[:k]))
    for s in on:
        expected = s.semantic - beta * ((r_q + brute_r(vecs, s.item.key, k)) / 2 - centre)
        assert s.score == pytest.approx(expected, abs=1e-5)
        assert s.semantic == pytest.approx(float(vecs[s.item.key] @ query), abs=1e-6)
    hub = next(s for s in on if s.item.key == "hub")
    assert hub.score < hub.semantic  # crowded: lowered
    partner = on[0]
    assert brute_r(vecs, "partner", k) < brute_r(vecs, "hub", k)
    # What the bot posts: the partner first, and the hub no longer within a tight margin.
    tight = replace(PLAIN, density_weight=beta, density_k=k, margin=0.02, threshold=0.2)
    posted = select(index.rank(query, frozenset(), tight), tight, Viewer("me", None, "public"))
    assert [s.item.key for s in posted] == ["partner"]
    assert partner.score > hub.score
    posted_off = select(
        index.rank(query, frozenset(), replace(tight, density_weight=0.0)),
        tight,
        Viewer("me", None, "public"),
    )
    assert [s.item.key for s in posted_off] == ["hub"]


def test_candidates_that_cannot_reach_the_threshold_are_not_computed() -> None:
    """Only candidates whose corrected score could reach the threshold (less the largest
    feedback bonus) get their neighbourhood computed; the others carry an upper bound,
    which never reaches that floor, and the decision is the same as computing them all."""
    rng = np.random.default_rng(5)
    centres = unit(rng.standard_normal((12, 24)))
    vecs = unit(centres[rng.integers(0, 12, 400)] + 0.6 * unit(rng.standard_normal((400, 24))))
    items = [item(f"n{i}", f"U{i % 50}") for i in range(400)]
    policy = replace(PLAIN, threshold=0.55, density_weight=0.75, density_k=10, margin=0.1)
    everything = replace(policy, threshold=-np.inf)
    floor = policy.threshold - policy.feedback_bonus_max
    computed = 0
    for q in range(40):
        query = unit(vecs[q] + 0.5 * unit(rng.standard_normal(24)))
        lazy_index = WorkspaceIndex.build(items, vecs)
        full_index = WorkspaceIndex.build(items, vecs)
        lazy = lazy_index.rank(query, frozenset(), policy)
        full = {s.item.key: s.score for s in full_index.rank(query, frozenset(), everything)}
        computed += len(lazy_index.density or ())
        for s in lazy:
            assert s.score >= full[s.item.key] - 1e-6  # exact, or an upper bound
            if full[s.item.key] >= floor or s.score >= floor:
                assert s.score == pytest.approx(full[s.item.key], abs=1e-6)
        viewer = Viewer("me", None, "public")
        exact = sorted(
            (replace(s, score=full[s.item.key]) for s in lazy), key=lambda s: s.score, reverse=True
        )
        assert [s.item.key for s in select(lazy, policy, viewer)] == [
            s.item.key for s in select(exact, policy, viewer)
        ]
    assert computed < 40 * 64  # not every candidate of every query


@pytest.mark.parametrize("ivf", [False, True])
def test_the_cache_stays_equal_to_a_fresh_computation(ivf: bool) -> None:
    """Random additions (new keys and replaced ones), removals and rankings (which fill the
    cache): every cached neighbourhood equals brute force over the items then stored (exact
    index), or the index's own computation from scratch (partitioned index)."""
    rng = np.random.default_rng(11 if ivf else 7)
    dim, k = 16, 4
    options = {"ivf_min": 60, "nprobe": 64, "neighbour_probe": 64} if ivf else {}
    policy = replace(PLAIN, threshold=-1.0, density_weight=0.5, density_k=k)
    index = WorkspaceIndex(dim, **options)
    vecs: dict[str, np.ndarray] = {}
    serial = 0
    for step in range(120):
        action = rng.choice(["add", "remove", "rank"], p=[0.45, 0.2, 0.35])
        if action == "add" or len(vecs) < 3:
            batch = {}
            for _ in range(int(rng.integers(1, 6))):
                if vecs and rng.random() < 0.2:  # an edit: the same key, a new vector
                    key = str(rng.choice(list(vecs)))
                else:
                    key, serial = f"n{serial}", serial + 1
                batch[key] = unit(rng.standard_normal(dim))
            index.add([item(key) for key in batch], np.stack(list(batch.values())))
            vecs.update(batch)
        elif action == "remove":
            key = str(rng.choice(list(vecs)))
            assert index.remove(key)
            del vecs[key]
        else:
            index.rank(unit(rng.standard_normal(dim)), frozenset(), policy)
        cache = index.density
        if cache is None:
            continue
        cached = [key for key in vecs if key in cache]
        for key in cached:
            got = cache.top(key)
            if ivf:
                want = index.vectors.neighbours([key], k)[0]
            else:
                others = sorted(
                    (float(vecs[key] @ v) for o, v in vecs.items() if o != key), reverse=True
                )[:k]
                want = np.array(others + [-np.inf] * (k - len(others)), dtype=np.float32)
            np.testing.assert_allclose(got, want, atol=1e-5, err_msg=f"step {step}, {key}")
        assert len(cache) == len(cached)  # nothing removed stays cached
    assert index.density is not None and len(index.density) > 10
    if ivf:
        assert index.vectors.partitioned


def test_the_cache_forgets_its_oldest_past_its_limit() -> None:
    rng = np.random.default_rng(3)
    vecs = unit(rng.standard_normal((60, 8)))
    index = WorkspaceIndex.build([item(f"n{i}") for i in range(60)], vecs)
    policy = replace(PLAIN, threshold=-1.0, density_weight=0.5, density_k=3)
    index.density = Neighbourhoods(3, limit=20)
    for q in vecs[:10]:
        index.rank(q, frozenset(), policy)
        assert 0 < len(index.density) <= 20
    ranked = index.rank(vecs[3], frozenset(), policy)  # still correct after forgetting
    for s in ranked:
        others = sorted((float(vecs[int(s.item.key[1:])] @ v) for v in vecs), reverse=True)
        r_i = float(np.mean(others[1:4]))  # its own cosine of 1 left out
        r_q = float(np.mean(sorted((float(vecs[3] @ v) for v in vecs), reverse=True)[:3]))
        assert s.score == pytest.approx(s.semantic - 0.5 * ((r_q + r_i) / 2 - 0.5), abs=1e-5)


def test_a_small_workspace_averages_what_there_is() -> None:
    e = np.eye(4, dtype=np.float32)
    vecs = {"a": e[0], "b": unit(e[0] + e[1])}
    index = WorkspaceIndex.build([item("a"), item("b")], np.stack(list(vecs.values())))
    query = unit(e[0] + 0.2 * e[2])
    policy = replace(PLAIN, threshold=-1.0, density_weight=1.0, density_k=10)
    ranked = {s.item.key: s for s in index.rank(query, frozenset(), policy)}
    r_q = float(np.mean([vecs["a"] @ query, vecs["b"] @ query]))
    cos_ab = float(vecs["a"] @ vecs["b"])  # each one's only neighbour is the other
    for key in "ab":
        s = ranked[key]
        assert s.score == pytest.approx(s.semantic - ((r_q + cos_ab) / 2 - 0.5), abs=1e-5)
    # alone in its workspace: no neighbour, no correction
    alone = WorkspaceIndex.build([item("a")], e[:1])
    [only] = alone.rank(query, frozenset(), policy)
    assert only.score == pytest.approx(only.semantic, abs=1e-6)


def test_a_stored_query_excludes_itself() -> None:
    """A narration already in the index (an edit, another replica) is ranked with its own
    key excluded: not a candidate, and its own cosine of 1.0 is not in its r."""
    index, vecs, query = hub_index()
    index.add([item("me")], query[None, :])
    k, beta = 3, 0.5
    policy = replace(PLAIN, threshold=-1.0, density_weight=beta, density_k=k)
    ranked = index.rank(query, frozenset(), policy, exclude={"me"})
    assert "me" not in [s.item.key for s in ranked]
    stored = dict(vecs, me=query)
    r_q = brute_r(stored, "me", k)  # its k nearest OTHER items
    for s in ranked:
        expected = s.semantic - beta * ((r_q + brute_r(stored, s.item.key, k)) / 2 - 0.5)
        assert s.score == pytest.approx(expected, abs=1e-5)
    # without `exclude` the query's own cosine of 1.0 would lift r_q (and it is a candidate)
    counted = index.rank(query, frozenset(), policy)
    assert counted[0].item.key == "me"
    hub = next(s for s in ranked if s.item.key == "hub")
    assert next(s for s in counted if s.item.key == "hub").score < hub.score


async def test_the_engine_excludes_the_narration_itself(
    db: Database, encoder: CountingEncoder, clock: FakeClock
) -> None:
    """engine.search passes the narration's own key (`exclude`) down to the ranking: a
    narration already stored is neither suggested nor counted in its own neighbourhood."""
    assert encoder.policy is not None
    # the correction itself, without the floor or the young-workspace policy of E5_POLICY
    encoder.policy = replace(
        encoder.policy, density_weight=0.75, density_floor=None, density_center=0.5, young=None
    )
    engine = MatchingEngine(db, encoder=encoder, clock=clock)
    ws = "console:density"
    texts = [
        ("1", "alice", "moving our CI from Jenkins to GitHub Actions"),
        ("2", "carol", "migrating the Jenkins pipelines of the web shop to GitHub Actions"),
        ("3", "dave", "reducing the energy use of our school buildings"),
        ("4", "erin", "forecasting youth care costs for the municipal budget"),
    ]
    await engine.index(ws, [item_of(*t) for t in texts])
    own = "narration:2"
    ranked = await engine.rank(ws, texts[1][2], exclude=[own])
    assert own not in [s.item.key for s in ranked]
    index = await engine.rebuild(ws)
    vec = index.vectors.vector(own)
    others = sorted(float(index.vectors.vector(k) @ vec) for k in index.items if k != own)
    r_q = float(np.mean(others[::-1][:10]))
    alice = next(s for s in ranked if s.item.author_id == "alice")
    r_alice = float(np.mean(index.vectors.neighbours(["narration:1"], 10)[0][:3]))
    assert alice.score == pytest.approx(
        alice.semantic - 0.75 * ((r_q + r_alice) / 2 - 0.5), abs=1e-4
    )
    found = await engine.search(ws, texts[1][2], Viewer("bob", None, "public"), exclude=[own])
    assert [s.item.author_id for s in found] == ["alice"]


def item_of(ref: str, author: str, text: str) -> Item:
    return Item.of(f"narration:{ref}", "narration", author, text, visibility="public")


def floored_r(vecs: dict[str, np.ndarray], key: str, k: int, floor: float) -> float:
    """r with a floor, by brute force: each of the k nearest cosines counts at least
    `floor`, missing ones (fewer than k others) count `floor`."""
    cos = sorted((float(vecs[key] @ v) for other, v in vecs.items() if other != key), reverse=True)
    cos = (cos + [floor] * k)[:k]
    return float(np.mean([max(c, floor) for c in cos]))


def test_with_a_floor_the_formula_uses_floored_neighbourhoods() -> None:
    index, vecs, query = hub_index()
    k, beta, low = 3, 0.5, 0.55
    policy = replace(
        PLAIN,
        threshold=-1.0,
        density_weight=beta,
        density_k=k,
        density_floor=low,
        density_center=low,
    )
    on = index.rank(query, frozenset(), policy)
    near_q = sorted((float(v @ query) for v in vecs.values()), reverse=True)[:k]
    r_q = float(np.mean([max(c, low) for c in near_q]))
    for s in on:
        expected = s.semantic - beta * ((r_q + floored_r(vecs, s.item.key, k, low)) / 2 - low)
        assert s.score == pytest.approx(expected, abs=1e-5)
        assert s.score <= s.semantic + 1e-6  # floor = center: the correction only lowers
    assert on[0].item.key == "partner"


def test_a_young_workspace_gets_no_correction_with_a_floor() -> None:
    """Three unrelated narrations: without a floor each looks isolated (its r is the mean
    cosine to two unrelated items) and every score is pushed up, so an unrelated item can
    cross the threshold; with the floor as center nothing changes."""
    e = np.eye(6, dtype=np.float32)
    query = unit(e[0] + 0.2 * e[1])
    vecs = {
        "related": unit(e[0] + 0.5 * e[2]),
        "other": unit(0.55 * e[0] + e[3]),
        "far": unit(e[4] - 0.2 * e[0]),
    }
    keys = list(vecs)
    index = WorkspaceIndex.build([item(k) for k in keys], np.stack([vecs[k] for k in keys]))
    base = replace(PLAIN, threshold=-1.0)
    plain = {s.item.key: s.score for s in index.rank(query, frozenset(), base)}
    pushed = replace(base, density_weight=0.75, density_k=10, density_center=0.5)
    unfloored = {s.item.key: s.score for s in index.rank(query, frozenset(), pushed)}
    assert all(unfloored[k] > plain[k] for k in keys)  # the young workspace's inflation
    floored = replace(pushed, density_floor=0.5)
    ranked = index.rank(query, frozenset(), floored)
    got = {s.item.key: s.score for s in ranked}
    assert all(got[k] <= plain[k] + 1e-6 for k in keys)  # nothing pushed up
    assert [s.item.key for s in ranked] == sorted(keys, key=lambda k: -plain[k])
    # the items' own neighbourhoods are all below the floor: only the query's r counts
    near_q = sorted((float(v @ query) for v in vecs.values()), reverse=True)
    r_q = float(np.mean([max(c, 0.5) for c in (near_q + [0.5] * 10)[:10]]))
    for k in keys:
        assert got[k] == pytest.approx(plain[k] - 0.75 * ((r_q + 0.5) / 2 - 0.5), abs=1e-5)


def test_a_young_workspace_gets_the_young_policy() -> None:
    """`MatchPolicy.young` applies below `density_min_items` (for_size): no correction
    there; the mature policy, with its correction, from that size on; /wol who's policy
    wraps both."""
    from bot.features.who import WHO_MARGIN, WHO_THRESHOLD_SHIFT, who_policy

    index, _vecs, query = hub_index()  # 11 items
    young = replace(PLAIN, threshold=0.45)
    mature = replace(
        PLAIN, threshold=-1.0, density_weight=0.5, density_k=3, density_min_items=12, young=young
    )
    assert mature.for_size(11) is young and mature.for_size(12) is mature
    got = index.rank(query, frozenset(), mature)
    assert all(s.score == pytest.approx(s.semantic) for s in got)  # young: no correction
    assert select(got, mature.for_size(len(index)), Viewer("me", None, "public"))[0].score >= 0.45
    index.add([item("extra")], unit(np.eye(8, dtype=np.float32)[7:8] + 0.1))
    grown = index.rank(query, frozenset(), mature)
    assert any(abs(s.score - s.semantic) > 1e-3 for s in grown)  # 12 items: corrected
    wrapped = who_policy(mature, 5)
    assert wrapped.young is not None and wrapped.young.margin == WHO_MARGIN
    assert wrapped.young.threshold == pytest.approx(young.threshold + WHO_THRESHOLD_SHIFT)
