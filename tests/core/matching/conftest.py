"""Matching fixtures: the real encoders, loaded once per test session (e5, the default, about
3 s; USE, the alternative, about 0.3 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from bot.clock import FakeClock
from bot.matching.e5 import E5Encoder
from bot.matching.encoder import Encoder, UseEncoder
from bot.matching.engine import MatchingEngine
from bot.matching.ranking import MatchPolicy
from bot.store.engine import Database


class CountingEncoder:
    """The real encoder, counting the texts it encodes (to prove what is not re-encoded)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.policy: MatchPolicy | None = getattr(inner, "policy", None)
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="session")
def use_encoder() -> UseEncoder:
    encoder = UseEncoder()
    encoder.load()
    return encoder


@pytest.fixture(scope="session")
def e5_encoder() -> E5Encoder:
    encoder = E5Encoder()
    encoder.load()
    return encoder


@pytest.fixture
def encoder(e5_encoder: E5Encoder) -> CountingEncoder:
    """The default encoder (e5), counting."""
    return CountingEncoder(e5_encoder)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def engine(db: Database, encoder: CountingEncoder, clock: FakeClock) -> MatchingEngine:
    return MatchingEngine(db, encoder=encoder, clock=clock)
