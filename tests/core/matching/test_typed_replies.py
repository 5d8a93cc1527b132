"""Typed replies under a narration (issue 16 item 5), a dialogue table in English and Dutch:
the family of "I've done this" / "ask @x" phrasings is recognised, people come only from
real mentions, and the replier is told what happened, in the language they wrote in."""

from __future__ import annotations

import itertools

import pytest

from bot.app import FEATURES
from bot.events import ConversationKind
from bot.features import matching
from bot.runtime import Wolbot
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

_threads = itertools.count(1)

EN_DONE = "I've started a conversation between @anouk and @bram."
NL_DONE = "Ik heb een gesprek gestart tussen @anouk en @bram."
EN_CARLA = "I've started a conversation between @anouk and @carla."
NL_CARLA = "Ik heb een gesprek gestart tussen @anouk en @carla."
EN_PICK = "Who can help @anouk with this?"
NL_PICK = "Wie kan @anouk hiermee helpen?"

# (what bram replies under anouk's narration, who gets a group DM, what bram is told)
TABLE_EN = [
    ("I did this last year", ("anouk", "bram"), EN_DONE),
    ("I've done something similar, happy to share", ("anouk", "bram"), EN_DONE),
    ("We did that before at the other location", ("anouk", "bram"), EN_DONE),
    ("I’ve already done this", ("anouk", "bram"), EN_DONE),
    ("ask @carla", ("anouk", "carla"), EN_CARLA),
    ("@carla knows about this", ("anouk", "carla"), EN_CARLA),
    ("Talk to @carla, she built the old one", ("anouk", "carla"), EN_CARLA),
    ("I know who can help: @carla", ("anouk", "carla"), EN_CARLA),
    ("I know someone who can help", None, EN_PICK),
]
TABLE_NL = [
    ("Dat heb ik ook al eens gedaan", ("anouk", "bram"), NL_DONE),
    ("heb ik ook gedaan", ("anouk", "bram"), NL_DONE),
    ("Dat hebben wij vorig jaar gedaan", ("anouk", "bram"), NL_DONE),
    ("Ik heb iets vergelijkbaars gedaan bij de gemeente", ("anouk", "bram"), NL_DONE),
    ("Ik weet wie je kan helpen: @carla", ("anouk", "carla"), NL_CARLA),
    ("vraag het aan @carla", ("anouk", "carla"), NL_CARLA),
    ("@carla weet hier alles van", ("anouk", "carla"), NL_CARLA),
    ("Ik ken iemand die je daarbij kan helpen", None, NL_PICK),
]
# Ordinary replies, and typed look-alikes of mentions, do nothing.
SILENT = [
    "Nice, good luck!",
    "I will ask around",
    "Wat heb je tot nu toe gedaan?",
    "ask &lt;@carla&gt; maybe",  # no real mention: the console's mentions are @name only
]


@pytest.fixture
async def mcore(core: Wolbot, e5_encoder) -> Wolbot:  # type: ignore[no-untyped-def]
    if matching.register not in FEATURES:
        matching.register(core.services, core.router)
    return core


async def _reply(core: Wolbot, port: RecordingPort, said: str, **extra):  # type: ignore[no-untyped-def]
    thread = f"m-anouk-{next(_threads)}"
    await core.handle(
        ev.message(
            "I'm working on a DPIA for the cameras in the city centre",
            user="anouk",
            message_id=thread,
        )
    )
    await core.delivery.drain()
    before = len(port.records)
    await core.handle(ev.message(said, user="bram", thread_id=thread, **extra))
    await core.delivery.drain()
    return port.records[before:]


@pytest.mark.parametrize(
    "said,introduced,told", TABLE_EN + TABLE_NL, ids=[row[0] for row in TABLE_EN + TABLE_NL]
)
async def test_typed_replies_in_both_languages(
    mcore: Wolbot, port: RecordingPort, said: str, introduced: tuple[str, str] | None, told: str
) -> None:
    did = await _reply(mcore, port, said)
    assert [r.user_ids for r in did if r.op == "open_dm"] == ([introduced] if introduced else [])
    to_bram = [
        r.text
        for r in did
        if r.op == "send" and r.dest is not None and not r.dest.channel_id.startswith("D-")
    ]
    assert any(told in text for text in to_bram), (said, [r.text for r in did])


@pytest.mark.parametrize("said", SILENT)
async def test_other_replies_do_nothing(mcore: Wolbot, port: RecordingPort, said: str) -> None:
    did = await _reply(mcore, port, said)
    assert [r for r in did if r.op in ("send", "open_dm")] == [], [r.text for r in did]


async def test_typed_mentions_are_not_people(mcore: Wolbot, port: RecordingPort) -> None:
    """A platform that says nobody was mentioned: "ask @carla" typed as text is no pointer,
    and "I know someone who can help: @carla" asks bram to pick the person instead."""
    assert [
        r
        for r in await _reply(mcore, port, "ask @carla", mentions=())
        if r.op in ("send", "open_dm")
    ] == []
    did = await _reply(mcore, port, "I know someone who can help: @carla", mentions=())
    assert [r for r in did if r.op == "open_dm"] == []
    assert any(EN_PICK in r.text for r in did)


def test_the_table_has_both_languages() -> None:
    assert TABLE_EN and TABLE_NL
    assert ConversationKind.PUBLIC  # replies are in public threads here


@pytest.mark.parametrize(
    "said,intro",
    [
        ("ask @carla", "@carla, meet @anouk, who thinks you can help with this:"),
        (
            "vraag het aan @carla",
            "@carla, maak kennis met @anouk, die denkt dat jij hierbij kunt helpen:",
        ),
    ],
)
async def test_the_narrator_naming_who_can_help_gets_an_introduction_that_reads_well(
    mcore: Wolbot, port: RecordingPort, said: str, intro: str
) -> None:
    """anouk names carla under her own narration: carla is asked to help anouk, not told
    that "@anouk thought you two should talk" to @anouk."""
    thread = f"m-anouk-{next(_threads)}"
    await mcore.handle(
        ev.message(
            "I'm working on a DPIA for the cameras in the city centre",
            user="anouk",
            message_id=thread,
        )
    )
    await mcore.delivery.drain()
    before = len(port.records)
    await mcore.handle(ev.message(said, user="anouk", thread_id=thread))
    await mcore.delivery.drain()
    did = port.records[before:]
    assert [r.user_ids for r in did if r.op == "open_dm"] == [("anouk", "carla")]
    texts = [r.text for r in did if r.op == "send"]
    assert any(intro in text for text in texts), texts
    assert not any("thought you two" in t or "denkt dat jullie" in t for t in texts)
