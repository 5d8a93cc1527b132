"""A narration's vector lives on its own row: stored with the narration in one INSERT, loaded
from there by a restart or another replica, replaced when the message is edited and gone
from every replica when it is deleted (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import func, select

from bot.app import FEATURES
from bot.clock import FakeClock
from bot.features import matching
from bot.matching.e5 import E5Encoder
from bot.matching.engine import MatchingEngine
from bot.matching.ranking import Viewer
from bot.runtime import Wolbot
from bot.store.tables import Narration
from bot.store.tables.matching import MatchVector
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

from .conftest import CountingEncoder

WS = ev.WORKSPACE
CI = "I'm working on moving our CI from Jenkins to GitHub Actions"
QUERY = "Jenkins-jobs overzetten naar GitHub Actions"


@pytest.fixture
async def mcore(core: Wolbot, e5_encoder: E5Encoder) -> Wolbot:
    if matching.register not in FEATURES:
        matching.register(core.services, core.router)
    return core


async def narration(core: Wolbot) -> Narration:
    async with core.db.session() as s:
        return (await s.exec(select(Narration))).one()


async def match_vectors(core: Wolbot) -> int:
    async with core.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(MatchVector))).one())


async def test_a_narration_and_its_vector_are_one_insert(
    mcore: Wolbot, encoder: CountingEncoder
) -> None:
    inserts: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement.split()[2])

    engine = mcore.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        await mcore.handle(ev.message(CI, user="alice", message_id="m-ci"))
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    stored = await narration(mcore)
    assert stored.vector is not None and stored.vector_model == encoder.name
    assert inserts.count("narration") == 1 and "match_vector" not in inserts
    assert await match_vectors(mcore) == 0


async def test_other_replicas_load_edit_and_drop_it(
    mcore: Wolbot, port: RecordingPort, encoder: CountingEncoder, clock: FakeClock
) -> None:
    await mcore.handle(ev.message(CI, user="alice", message_id="m-ci"))
    counting = CountingEncoder(encoder.inner)
    replica = MatchingEngine(
        mcore.db, encoder=counting, clock=clock, refresh_every=timedelta(seconds=30)
    )
    await replica.warm_up()
    counting.texts.clear()
    assert await replica.size(WS) == 1
    assert counting.texts == []  # loaded from the narration's row, not encoded again
    found = await replica.search(WS, QUERY, Viewer("bob", "C1", "public"))
    assert [s.item.author_id for s in found] == ["alice"]

    before = (await narration(mcore)).vector
    edited = "I'm working on the summer barbecue for the department"
    await mcore.handle(
        ev.message(edited, user="alice", message_id="m-ci", event_kind=ev.EventKind.MESSAGE_EDITED)
    )
    after = await narration(mcore)
    assert after.vector is not None and after.vector != before
    assert await match_vectors(mcore) == 0  # replaced on the narration's row
    clock.advance(seconds=31)
    assert await replica.search(WS, QUERY, Viewer("bob", "C1", "public")) == []
    found = await replica.search(
        WS, "organising the department's summer barbecue", Viewer("bob", "C1", "public")
    )
    assert [s.item.author_id for s in found] == ["alice"]

    await mcore.handle(
        ev.message("", user="alice", message_id="m-ci", event_kind=ev.EventKind.MESSAGE_DELETED)
    )
    clock.advance(seconds=31)
    await replica.search(WS, QUERY, Viewer("bob", "C1", "public"))  # refreshes
    assert await replica.size(WS) == 0
