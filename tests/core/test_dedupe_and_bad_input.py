"""Retries and duplicates are handled once; bad input gets a clear answer and never a crash."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlmodel import func, select

from bot.store.tables import Narration, OutboxItem, ProcessedEvent
from tests.fakes import events as ev


async def narration_count(core) -> int:
    async with core.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(Narration))).one())


async def test_same_event_id_twice_is_stored_once(core, port) -> None:
    event = ev.message("I'm working on the GDPR register", event_id="Ev-42")
    await core.handle(event)
    await core.handle(event)
    await core.handle(replace(event, message_id="other-id"))  # a retry with the same event id
    await core.delivery.drain()
    assert await narration_count(core) == 1
    assert len(port.sent("react")) == 1


async def test_two_cores_on_one_database_handle_an_event_once(make_core, port) -> None:
    first, second = make_core(port), make_core(port)
    event = ev.message("Working on the rollout of the new VPN", event_id="Ev-dup")
    await asyncio.gather(first.handle(event), second.handle(event))
    assert await narration_count(first) == 1
    async with first.db.session() as s:
        queued = (await s.exec(select(func.count()).select_from(OutboxItem))).one()
    assert queued == 1


async def test_a_claim_left_by_a_crashed_process_is_taken_over_once_stale(
    core, port, clock
) -> None:
    """A process that claimed an event and died before finishing it (kill -9) must not make
    the event's next delivery a duplicate: after `STALE_CLAIM` it is handled again."""
    event = ev.message("I'm working on the crash drill", event_id="Ev-crash")
    assert await core.event_log.claim(event.workspace_id, event.event_id, clock.now())
    await core.handle(event)  # at once: the first process might still be at it
    assert await narration_count(core) == 0
    clock.advance(seconds=31)
    await core.handle(event)  # the inbox's lease ran out and it hands the event out again
    await core.handle(event)  # once finished, every later delivery is a duplicate
    clock.advance(seconds=120)
    await core.handle(event)
    await core.delivery.drain()
    assert await narration_count(core) == 1
    assert len(port.sent("react")) == 1
    async with core.db.session() as s:
        assert (await s.exec(select(ProcessedEvent.completed))).one() is True


async def test_a_failed_handling_releases_the_event_for_the_platform_retry(core, port) -> None:
    calls = []

    async def broken_listener(narration, ctx) -> None:
        calls.append(narration.id)
        if len(calls) == 1:
            raise RuntimeError("matching crashed")

    core.hooks.narration_listeners.append(broken_listener)
    event = ev.message("Working on the tender for cleaning services", event_id="Ev-fail")
    await core.handle(event)  # the bug is logged and apologised for, not raised
    await core.delivery.drain()
    assert "Sorry, something went wrong" in port.sent()[-1].text
    async with core.db.session() as s:
        claims = (await s.exec(select(func.count()).select_from(ProcessedEvent))).one()
    assert claims == 1  # answered, so a retry is a duplicate and stays quiet


async def test_empty_narration_gets_help_not_a_record(core, port) -> None:
    await core.handle(ev.message("I'm working on   …   "))
    await core.handle(ev.message("Ik ben bezig met", user="bob"))
    await core.delivery.drain()
    texts = [r.text for r in port.sent()]
    assert "Tell me what you are working on" in texts[0]
    assert "Vertel me waar je mee bezig bent" in texts[1]
    assert await narration_count(core) == 0


async def test_fifty_kilobytes_is_refused_politely(core, port) -> None:
    await core.handle(ev.message("I'm working on " + "very long text " * 3500))
    await core.delivery.drain()
    assert await narration_count(core) == 0
    answer = port.sent()[-1]
    assert "I can keep at most 4000" in answer.text and answer.dest.ephemeral_user == "alice"


async def test_control_characters_are_removed_before_storing(core, port) -> None:
    await core.handle(ev.message("I'm working on\x00 the \x1b[31mbudget\x07 plan\u200b 2027"))
    await core.delivery.drain()
    async with core.db.session() as s:
        row = (await s.exec(select(Narration))).one()
    assert row.topic == "the [31mbudget plan 2027"
    only_controls = ev.message("\x00\x01\x02", event_id="Ev-ctl")
    await core.handle(only_controls)
    await core.delivery.drain()
    assert await narration_count(core) == 1


async def test_user_text_is_kept_verbatim_and_typed_as_literal(core, port) -> None:
    hostile = "<!channel> <http://evil|bank> '; DROP TABLE narration; --"
    await core.handle(ev.command("working on " + hostile, user="mallory"))
    await core.delivery.drain()
    async with core.db.session() as s:
        row = (await s.exec(select(Narration))).one()
    assert row.topic == "<!channel> <http://evil|bank> '; DROP TABLE narration; --"
    quote = port.sent()[-1].message.blocks[-1]
    assert quote.type == "quote" and quote.text == row.topic  # a literal, escaped by renderers


async def test_unknown_slash_command_word_gets_suggestions(core, port) -> None:
    await core.handle(ev.command("wrking on the thing"))
    await core.delivery.drain()
    text = port.sent()[-1].text
    assert "I don't know the command /wol wrking." in text and "/wol help" in text


async def test_bot_messages_are_ignored(core, port) -> None:
    await core.handle(ev.message("I'm working on spam", is_from_bot=True))
    await core.delivery.drain()
    assert port.records == [] and await narration_count(core) == 0


async def test_edit_and_delete_follow_the_message(core, port) -> None:
    await core.handle(ev.message("I'm working on the old plan", message_id="m-1"))
    await core.handle(
        ev.message(
            "I'm working on the new plan", message_id="m-1", event_kind=ev.EventKind.MESSAGE_EDITED
        )
    )
    async with core.db.session() as s:
        assert (await s.exec(select(Narration.topic))).one() == "the new plan"
    await core.handle(ev.message("", message_id="m-1", event_kind=ev.EventKind.MESSAGE_DELETED))
    assert await narration_count(core) == 0


@pytest.mark.parametrize(
    ("plain", "edited", "topic"),
    [
        (
            "the new plan is ready",
            "I'm working on the new plan for the archive",
            "the new plan for the archive",
        ),
        (
            "het nieuwe plan is klaar",
            "Ik ben bezig met het nieuwe plan voor het archief",
            "het nieuwe plan voor het archief",
        ),
    ],
)
async def test_a_plain_message_edited_into_a_narration_becomes_one(
    core, port, plain: str, edited: str, topic: str
) -> None:
    await core.handle(ev.message(plain, message_id="m-2"))
    assert await narration_count(core) == 0
    await core.handle(ev.message(edited, message_id="m-2", event_kind=ev.EventKind.MESSAGE_EDITED))
    await core.delivery.drain()
    async with core.db.session() as s:
        assert (await s.exec(select(Narration.topic))).one() == topic
    assert len(port.sent("react")) == 1  # acknowledged like a narration posted so
    # a second edit follows it, as for any narration; no second narration or reaction
    await core.handle(
        ev.message(edited + "!", message_id="m-2", event_kind=ev.EventKind.MESSAGE_EDITED)
    )
    await core.delivery.drain()
    assert await narration_count(core) == 1 and len(port.sent("react")) == 1


async def test_an_edit_in_a_dm_or_without_the_phrase_records_nothing(core, port) -> None:
    await core.handle(ev.message("hello", message_id="m-3", kind=ev.ConversationKind.DM))
    await core.handle(
        ev.message(
            "I'm working on the archive",
            message_id="m-3",
            kind=ev.ConversationKind.DM,
            event_kind=ev.EventKind.MESSAGE_EDITED,
        )
    )
    await core.handle(ev.message("lunch?", message_id="m-4"))
    await core.handle(
        ev.message("lunch at noon?", message_id="m-4", event_kind=ev.EventKind.MESSAGE_EDITED)
    )
    assert await narration_count(core) == 0
