"""Dialogue tables: (who, what they type, what the bot answers) through the core, both languages.

Expected answers are matched as substrings of everything the bot did for that line; "📝"
stands for the acknowledgement reaction and "" for silence.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.events import ConversationKind
from bot.store.tables import Narration
from tests.fakes import events as ev

NARRATION_EN = [
    ("alice", "I am working on the onboarding checklist for new nurses", "📝"),
    ("alice", "I'M WORKING ON: the rota for the summer", "📝"),
    ("bob", "- working on… migrating the intranet search", "📝"),
    ("carol", "Just a normal message about lunch", ""),
    ("alice", "/wol working on a leaflet on AVG", "Noted, thanks for working out loud:"),
    ("alice", "/wol working on", "Tell me what you are working on, for example:"),
]
NARRATION_NL = [
    ("bob", "Ik ben bezig met de AVG-verzoeken", "📝"),
    ("bob", "ik werk aan een nieuwe intake voor de wijkteams", "📝"),
    ("dirk", "Bezig met: de begroting van 2027", "📝"),
    ("bob", "/wol bezig met de inwerkmap", "Genoteerd, fijn dat je hardop werkt:"),
    ("bob", "/wol bezig met", "Vertel me waar je mee bezig bent, bijvoorbeeld:"),
]
HELP_EN = [
    ("alice", "/wol help", "/wol working on <what you are working on>"),
    ("alice", "/wol", "Commands:"),
    ("alice", "/wol frobnicate", "I don't know the command /wol frobnicate."),
    ("alice", "/wol hepl", "Did you mean /wol help?"),
    ("alice", "/wol language nl", "Vanaf nu praat ik Nederlands met je."),
    ("alice", "/wol help", "Commando's:"),
    ("alice", "/wol language auto", "I'll use the language you write in again"),
]
HELP_NL = [
    ("bob", "/wol hulp", "/wol bezig met <waar je mee bezig bent>"),
    ("bob", "/wol taal", "Ik praat"),
    ("bob", "/wol taal klingon", "Ik spreek Engels en Nederlands."),
    ("bob", "/wol taal engels", "From now on I'll talk to you in English."),
]


async def run_table(core, port, table, *, channel="C1", kind=ConversationKind.PUBLIC) -> None:
    for user, said, expected in table:
        before = len(port.records)
        if said.startswith("/wol"):
            event = ev.command(said[4:].strip(), user=user, channel=channel, kind=kind)
        else:
            event = ev.message(said, user=user, channel=channel, kind=kind)
        await core.handle(event)
        await core.delivery.drain()
        did = port.records[before:]
        rendered = "\n".join("📝" if r.op == "react" else r.text for r in did)
        if expected == "":
            assert did == [], f"{said!r}: expected silence, got {rendered!r}"
        else:
            assert expected in rendered, f"{said!r}: expected {expected!r} in {rendered!r}"


@pytest.mark.parametrize(
    "table",
    [NARRATION_EN, NARRATION_NL, HELP_EN, HELP_NL],
    ids=["narration-en", "narration-nl", "help-en", "help-nl"],
)
async def test_dialogue_table(core, port, table) -> None:
    await run_table(core, port, table)


async def test_narrations_are_stored_with_language_and_topic(core, port) -> None:
    await run_table(core, port, NARRATION_EN[:1] + NARRATION_NL[:1])
    async with core.db.session() as s:
        rows = list(await s.exec(select(Narration).order_by(Narration.id)))
    assert [(r.author_id, r.language, r.visibility, r.source) for r in rows] == [
        ("alice", "en", "public", "channel"),
        ("bob", "nl", "public", "channel"),
    ]
    assert rows[0].topic == "the onboarding checklist for new nurses"
    assert rows[1].text == "Ik ben bezig met de AVG-verzoeken"


async def test_dm_narrations_need_no_phrase_but_short_chatter_gets_a_hint(core, port) -> None:
    await core.handle(ev.dm("the Q3 forecast model for the finance team", user="erin"))
    await core.handle(ev.dm("hoi", user="frank"))
    await core.delivery.drain()
    async with core.db.session() as s:
        rows = list(await s.exec(select(Narration)))
    assert [(r.author_id, r.visibility, r.source) for r in rows] == [("erin", "dm", "dm")]
    hint = port.sent()[-1]
    assert "Vertel me in een zin of twee" in hint.text  # "hoi" is Dutch
    assert hint.dest.ephemeral_user == "frank"


async def test_reply_lands_in_the_thread_of_the_narration(core, port) -> None:
    await core.handle(ev.command("", user="alice"))
    await core.delivery.drain()
    assert port.sent()[0].dest.ephemeral_user == "alice"
    event = ev.message("Working on the new rota", message_id="1700.1")
    await core.handle(event)
    await core.delivery.drain()
    react = port.sent("react")[-1]
    assert react.message_id == "1700.1" and react.emoji == "memo"
