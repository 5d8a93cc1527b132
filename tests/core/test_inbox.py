"""The inbox of every platform: the neutral event stored as it was, handled once."""

from __future__ import annotations

from sqlmodel import func, select

from bot.delivery.inbox import Inbox, event_key
from bot.events import Action, EventKind, Mentioned, event_from_json, event_to_json
from bot.store.tables import Narration, ProcessedEvent
from bot.store.tables.inbox import InboxItem
from tests.fakes import events as ev


def test_a_stored_event_comes_back_unchanged() -> None:
    event = ev.message(
        "I'm working on the intake with @anouk",
        user="bob",
        thread_id="t1",
        mentions=(Mentioned("U9", "Anouk", "@anouk"),),
        locale="nl-NL",
        timezone="Europe/Amsterdam",
        reply_hints={"response_url": "x"},
        reference={"conversation": {"id": "C1"}},
    )
    click = ev.message(
        "", event_kind=EventKind.ACTION, action=Action("ask.ack", "7", {"f": "v"}, "m1", "form")
    )
    for original in (event, click):
        assert event_from_json(event_to_json(original)) == original


async def count(core, model) -> int:
    async with core.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


async def test_an_event_from_the_inbox_is_checked_for_duplicates_once(core, port) -> None:
    """The inbox's row is the duplicate check: the core writes no claim of its own, and a
    copy of the event stored again, also after handling, is not handled twice."""

    async def handle(event):
        return await core.handle(event, claimed=True)

    inbox = Inbox(core.db, handle, platform="test", key=event_key(core.keyring), clock=core.clock)
    event = ev.message("I'm working on the inbox drill", event_id="Ev-inbox")
    assert await inbox.put(event) is True
    assert await inbox.put(event) is False
    inbox.start()
    try:
        await inbox.wait_idle()
        assert await inbox.put(event) is False  # a late retry, after handling
        await inbox.wait_idle()
    finally:
        await inbox.stop()
    await core.delivery.drain()
    assert await count(core, Narration) == 1 and len(port.sent("react")) == 1
    assert await count(core, ProcessedEvent) == 0
    async with core.db.session() as s:
        [row] = (await s.exec(select(InboxItem))).all()
    assert (row.status, row.event, row.user_id, row.lane) == ("done", None, None, "")
    assert "Ev-inbox" not in row.event_key
