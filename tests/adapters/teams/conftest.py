"""Fixtures for the Teams adapter tests: the fake Bot Connector, and a TeamsPort wired to it
through the real botbuilder connector client, on a migrated SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.teams.members import Members
from adapters.teams.port import TeamsPort
from adapters.teams.sdk import TeamsAuthConfig, make_adapter
from bot.clock import SystemClock
from bot.store.delivery_log import References
from bot.store.engine import Database
from bot.store.limits import Limits
from tests.fakes.bot_connector import FakeBotConnector


@pytest.fixture
async def teams_db(sqlite_url: str) -> AsyncIterator[Database]:
    db = Database(sqlite_url)
    yield db
    await db.dispose()


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    async with FakeBotConnector() as fake:
        yield fake


@pytest.fixture
def teams_port(teams_db: Database) -> TeamsPort:
    adapter = make_adapter(TeamsAuthConfig())
    return TeamsPort(
        adapter,
        app_id="",
        references=References(teams_db),
        members=Members(teams_db),
        limits=Limits(teams_db, SystemClock()),
    )
