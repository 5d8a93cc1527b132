"""The erasure confirmation answers in place (QA, after issue 20): "Yes" replaces the card by
the result, without buttons, and leaves no person row behind; a stale copy clicked again
(Yes or Cancel) brings nothing back and tells the truth, in the person's language."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.messages import Actions
from bot.store.tables import Narration
from bot.store.tables.core import Person
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

# (what the person does, what the bot answers in place of the card, or says)
ERASE_EN = [
    ("say", "I'm working on the Zuidema tender", None),
    ("say", "/wol privacy forget", "This erases your narrations"),
    ("yes", "", "Done: I erased"),
    ("yes", "", "There was nothing left to erase: I keep nothing about you any more."),
    ("no", "", "Nothing to cancel: I keep nothing about you any more."),
]
ERASE_NL = [
    ("say", "/wol taal nl", "Nederlands"),
    ("say", "Ik werk aan de aanbesteding voor Zuidema", None),
    ("say", "/wol privacy vergeet", "Hiermee wis ik je"),
    ("yes", "", "Klaar: ik heb"),
    ("yes", "", "Er viel niets meer te wissen: ik bewaar niets meer over je."),
    ("no", "", "Er valt niets te annuleren: ik bewaar niets meer over je."),
]
CANCEL_EN = [
    ("say", "I'm working on the Zuidema tender", None),
    ("say", "/wol privacy forget", "This erases your narrations"),
    ("no", "", "Nothing was erased."),
]
CANCEL_NL = [
    ("say", "/wol taal nl", "Nederlands"),
    ("say", "/wol privacy vergeet", "Hiermee wis ik je"),
    ("no", "", "Er is niets gewist."),
]


async def person_rows(core, user: str) -> int:
    async with core.db.session() as s:
        return len((await s.exec(select(Person).where(Person.user_id == user))).all())


async def narrations(core, user: str) -> int:
    async with core.db.session() as s:
        return len((await s.exec(select(Narration).where(Narration.author_id == user))).all())


async def run_erase_table(core, port: RecordingPort, table, user: str = "mallory") -> None:
    card, erased_at = None, None
    for step, said, expected in table:
        before = len(port.records)
        if step == "say":
            event = (
                ev.command(said[4:].strip(), user=user)
                if said.startswith("/wol")
                else ev.message(said, user=user)
            )
        else:
            assert card is not None
            button = card.message.blocks[-1].elements[0 if step == "yes" else 1]
            event = ev.click(button.action_id, button.value, user=user, message_id=card.message_id)
        await core.handle(event)
        await core.delivery.drain()
        did = port.records[before:]
        if step == "say":
            if expected is not None:
                assert expected in "\n".join(r.text for r in did), (said, did)
            shown = [r for r in did if r.message and isinstance(r.message.blocks[-1], Actions)]
            card = shown[-1] if shown else card
            continue
        # the clicked card itself is replaced, for the clicker, by the answer: no buttons,
        # nothing else said
        [update] = did
        assert update.op == "update" and update.message_id == card.message_id
        assert update.dest.ephemeral_user == user
        assert not any(isinstance(b, Actions) for b in update.message.blocks)
        assert expected in update.text, (step, update.text)
        if step == "yes" and erased_at is None:
            erased_at = await table_counts(core)
        if erased_at is not None:  # no click after the erasure brings anything back
            assert await person_rows(core, user) == 0
            assert await narrations(core, user) == 0
            assert await table_counts(core) == erased_at


@pytest.mark.parametrize(
    "table",
    [ERASE_EN, ERASE_NL, CANCEL_EN, CANCEL_NL],
    ids=["erase-en", "erase-nl", "cancel-en", "cancel-nl"],
)
async def test_the_confirmation_answers_in_place(core, port, table) -> None:
    await run_erase_table(core, port, table)
    if table in (CANCEL_EN, CANCEL_NL):  # cancelled: everything stays
        assert await person_rows(core, "mallory") == 1
    if table is CANCEL_EN:
        assert await narrations(core, "mallory") == 1


async def table_counts(core) -> dict[str, int]:
    from sqlalchemy import text

    from bot.store.tables import metadata

    counts = {}
    async with core.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in ("outboxitem", "processedevent", "console_button", "inbox"):
                continue  # delivery bookkeeping
            counts[table.name] = (
                await conn.execute(text(f'SELECT count(*) FROM "{table.name}"'))
            ).scalar_one()
    return counts
