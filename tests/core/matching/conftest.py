"""Matching fixtures: the real encoder, loaded once per test session (about 0.3 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from bot.clock import FakeClock
from bot.features.matching.encoder import UseEncoder
from bot.features.matching.engine import MatchingEngine
from bot.store.engine import Database


class CountingEncoder:
    """The real encoder, counting the texts it encodes (to prove what is not re-encoded)."""

    def __init__(self, inner: UseEncoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="session")
def use_encoder() -> UseEncoder:
    encoder = UseEncoder()
    encoder.load()
    return encoder


@pytest.fixture
def encoder(use_encoder: UseEncoder) -> CountingEncoder:
    return CountingEncoder(use_encoder)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def engine(db: Database, encoder: CountingEncoder, clock: FakeClock) -> MatchingEngine:
    return MatchingEngine(db, encoder=encoder, clock=clock)
