"""The optional OpenAI-compatible embeddings endpoint, against a fake server on 127.0.0.1:
batching, the key, the spaces of endpoint and local vectors never mixing, and the fallback
to the local model (with a log line) when the endpoint fails or is slow."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import numpy as np
import pytest
from sqlmodel import col, select

from bot.app import FEATURES
from bot.clock import FakeClock
from bot.config import load_settings
from bot.features import matching
from bot.matching.encoder import UseEncoder
from bot.matching.engine import MatchingEngine
from bot.matching.ranking import MatchPolicy
from bot.matching.remote import EndpointEncoder, EndpointError, FallbackEncoder
from bot.runtime import Wolbot
from bot.store.engine import Database
from bot.store.tables import Narration
from bot.store.tables.matching import MatchVector
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

from .fake_embeddings import DIM, FakeEmbeddings
from .test_engine import WS, bob, seed

DUTCH = "het overzetten van onze Jenkins-jobs naar GitHub Actions"


@pytest.fixture
async def server(use_encoder: UseEncoder) -> AsyncIterator[FakeEmbeddings]:
    fake = await FakeEmbeddings(use_encoder).start()
    yield fake
    await fake.stop()


def endpoint(server: FakeEmbeddings, **kw: object) -> EndpointEncoder:
    options: dict = {"api_key": "sk-test", "timeout": 2.0, "batch": 4, **kw}
    return EndpointEncoder(server.url, "fake-e5", **options)


async def stored_models(db: Database) -> set[str]:
    """The models of the stored vectors: narrations' on their rows, the rest in match_vector."""
    async with db.session() as s:
        models = set((await s.exec(select(MatchVector.model))).all())
        narrations = await s.exec(
            select(Narration.vector_model).where(col(Narration.vector_model).is_not(None))
        )
        return models | {m for m in narrations.all() if m}


async def test_batches_the_key_and_the_order_of_the_answer(server: FakeEmbeddings) -> None:
    enc = endpoint(server)
    texts = [f"narration number {i} about GitHub Actions" for i in range(10)]
    vecs = await asyncio.to_thread(enc.encode, texts)
    assert vecs.shape == (10, DIM) and enc.dim == DIM
    assert [len(r["input"]) for r in server.requests] == [4, 4, 2]
    assert {r["model"] for r in server.requests} == {"fake-e5"}
    assert set(server.auth) == {"Bearer sk-test"}
    expected = server.vectors(texts)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vecs, expected, atol=1e-5)  # shuffled answer, right order


async def test_failures_are_endpoint_errors(server: FakeEmbeddings) -> None:
    server.status = 500
    with pytest.raises(EndpointError, match="HTTP 500"):
        await asyncio.to_thread(endpoint(server).encode, ["x"])
    server.status, server.delay = 200, 1.0
    with pytest.raises(EndpointError, match="timed out"):
        await asyncio.to_thread(endpoint(server, timeout=0.2).encode, ["x"])
    unused = EndpointEncoder("http://127.0.0.1:9/v1/embeddings", "m", timeout=1.0)
    with pytest.raises(EndpointError):
        await asyncio.to_thread(unused.encode, ["x"])


async def test_engine_uses_the_endpoint_and_its_threshold(
    db: Database, server: FakeEmbeddings, use_encoder: UseEncoder, clock: FakeClock
) -> None:
    strict = endpoint(server, policy=MatchPolicy(threshold=0.99))
    encoder = FallbackEncoder(strict, use_encoder)
    engine = MatchingEngine(db, encoder=encoder, clock=clock)
    await engine.warm_up()
    await seed(engine)
    assert await stored_models(db) == {"endpoint:fake-e5"}
    assert (await engine.rank(WS, DUTCH))[0].item.author_id == "alice"  # same model, same ranks
    assert await engine.search(WS, DUTCH, bob()) == []  # but the endpoint's own bar: 0.99
    encoder.primary.policy = MatchPolicy(threshold=0.5)
    assert [s.item.author_id for s in await engine.search(WS, DUTCH, bob())] == ["alice"]
    assert encoder.name == "endpoint:fake-e5"


async def test_falls_back_to_the_local_model_when_the_endpoint_fails(
    db: Database,
    server: FakeEmbeddings,
    use_encoder: UseEncoder,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    encoder = FallbackEncoder(endpoint(server), use_encoder)
    engine = MatchingEngine(db, encoder=encoder, clock=clock)
    await seed(engine)
    assert await engine.size(WS) == 4
    server.status = 503
    with caplog.at_level(logging.WARNING):
        space, vecs = await engine.encode_with_space([DUTCH])
        found = await engine.search(WS, DUTCH, bob(), vector=vecs[0], space=space)
    assert space == use_encoder.name and encoder.name == use_encoder.name
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("embeddings endpoint" in m and "HTTP 503" in m for m in warnings)
    assert [s.item.author_id for s in found] == ["alice"]  # stored texts re-encoded locally
    assert await stored_models(db) == {use_encoder.name}
    # A vector the endpoint made before the switch is not used in the local space.
    server.status = 200
    stale = await asyncio.to_thread(endpoint(server).encode, [DUTCH])
    again = await engine.search(WS, DUTCH, bob(), vector=stale[0], space="endpoint:fake-e5")
    assert [s.item.author_id for s in again] == ["alice"]
    assert encoder.name == use_encoder.name  # no switching back until a restart


async def test_an_endpoint_down_at_start_up_means_the_local_model(
    db: Database, use_encoder: UseEncoder, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    down = EndpointEncoder("http://127.0.0.1:9/v1/embeddings", "fake-e5", timeout=1.0)
    encoder = FallbackEncoder(down, use_encoder)
    engine = MatchingEngine(db, encoder=encoder, clock=clock)
    with caplog.at_level(logging.WARNING):
        await engine.preload()
    assert encoder.name == use_encoder.name
    assert any("using the local model" in r.getMessage() for r in caplog.records)
    await seed(engine)
    assert [s.item.author_id for s in await engine.search(WS, DUTCH, bob())] == ["alice"]


def test_settings_from_app_yaml(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "app.yaml"
    path.write_text(
        "matching:\n"
        "  embeddings_url: http://models.internal:8080/v1/embeddings\n"
        "  embeddings_model: multilingual-e5-large\n"
        "  embeddings_api_key_env: MODELS_KEY\n"
        "  embeddings_threshold: 0.82\n",
        encoding="utf-8",
    )
    settings = load_settings(path, env={"MODELS_KEY": "sk-1"})
    conf = settings.matching
    assert conf.embeddings_model == "multilingual-e5-large" and conf.embeddings_threshold == 0.82
    assert settings.secret(conf.embeddings_api_key_env) == "sk-1"
    assert conf.embeddings_timeout_seconds == 5.0 and conf.embeddings_batch == 64


async def test_console_conversation_through_the_endpoint(
    make_core, port: RecordingPort, server: FakeEmbeddings, use_encoder: UseEncoder, db: Database
) -> None:  # type: ignore[no-untyped-def]
    core: Wolbot = make_core(
        port, matching={"embeddings_url": server.url, "embeddings_model": "fake-e5"}
    )
    if matching.register not in FEATURES:
        matching.register(core.services, core.router)
    await core.start(deliver=False)
    try:
        await core.handle(
            ev.message("I'm working on moving our CI from Jenkins to GitHub Actions", user="alice")
        )
        before = len(port.records)
        await core.handle(ev.message(f"Ik werk aan {DUTCH}", user="bob", message_id="m-bob"))
        await core.delivery.drain()
        [reply] = [r for r in port.records[before:] if r.op == "send"]
        assert "alice" in reply.message.mentioned_user_ids()
        assert server.requests  # the endpoint did the encoding
        assert await stored_models(core.db) == {"endpoint:fake-e5"}
    finally:
        await core.stop()


async def test_common_directions_are_measured_once_on_the_reference_texts(
    server: FakeEmbeddings,
) -> None:
    enc = endpoint(server, batch=64, common_directions=2)
    assert enc.name == "endpoint:fake-e5-abtt2"  # another transform, another space
    texts = ["moving our CI from Jenkins to GitHub Actions", DUTCH, "de kerstborrel organiseren"]
    vecs = await asyncio.to_thread(enc.encode, texts)
    assert [len(r["input"]) for r in server.requests] == [64, 64, 64, 8, 3]  # 200 reference
    await asyncio.to_thread(enc.encode, texts)
    assert len(server.requests) == 6  # measured once
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    centre = enc._centre
    assert centre is not None
    raw = server.vectors(texts)
    raw /= np.linalg.norm(raw, axis=1, keepdims=True)
    assert np.abs(vecs @ centre.top.T).max() < 1e-4  # the common directions are gone
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]  # the Jenkins pair still belongs together
    assert vecs[0] @ vecs[2] < raw[0] @ raw[2]  # and unrelated pairs drop


async def test_replicas_in_different_spaces_do_not_rewrite_each_others_rows(
    db: Database, server: FakeEmbeddings, use_encoder: UseEncoder, clock: FakeClock
) -> None:
    on_endpoint = MatchingEngine(
        db, encoder=FallbackEncoder(endpoint(server), use_encoder), clock=clock
    )
    await seed(on_endpoint)
    local = MatchingEngine(db, encoder=use_encoder, clock=clock)  # e.g. fell back at start-up
    assert await local.size(WS) == 4  # re-encoded once, stored in the local space
    assert await stored_models(db) == {use_encoder.name}
    clock.advance(seconds=31)
    requests = len(server.requests)
    found = await on_endpoint.search(WS, DUTCH, bob())  # refreshes: sees the rewritten rows
    assert [s.item.author_id for s in found] == ["alice"]
    assert len(server.requests) > requests  # re-encoded in its own space, in memory
    assert await stored_models(db) == {use_encoder.name}  # and not written back
