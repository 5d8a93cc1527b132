"""Which channel `/wol ask` posts to (issue 16, item 7): with several durf-te-vragen channels,
the one that fits the question's language and whether anonymous questions are allowed, one of
the asker's communities for a named question, or the one named with `#channel`."""

from __future__ import annotations

import pytest

from bot.store.tables.insight import ParticipationCount
from tests.core.test_dialogues import run_table
from tests.fakes import events as ev

WS = ev.WORKSPACE
YAML = {
    "workspaces": {
        WS: {
            "channels": {
                "ask-anything": {"kind": "durf-te-vragen", "language": "en", "anonymous": False},
                "durf-te-vragen": {"kind": "durf-te-vragen", "language": "nl", "anonymous": True},
                "vragen-zorg": {"kind": "durf-te-vragen", "language": "nl", "anonymous": False},
                "C9": {"language": "nl"},
            }
        }
    }
}

ASK_EN = [
    ("sanne", "/wol ask How do I request care leave?", "Your question is in #ask-anything"),
    ("sanne", "/wol ask anon How do I request care leave?", "in #durf-te-vragen as #2"),
    (
        "sanne",
        "/wol ask #vragen-zorg Who plans the night shifts?",
        "Your question is in #vragen-zorg",
    ),
    (
        "sanne",
        "/wol ask #general Who plans the night shifts?",
        "#general is not a channel for questions. Ask in one of these: #ask-anything, "
        "#durf-te-vragen, #vragen-zorg.",
    ),
    (
        "sanne",
        "/wol ask anon #ask-anything Is the reorganisation going ahead?",
        "Anonymous questions are not allowed in #ask-anything.",
    ),
]
ASK_NL = [
    ("joost", "/wol vraag anoniem Hoe vraag ik zorgverlof aan?", "in #durf-te-vragen als #1"),
    (
        "joost",
        "/wol vraag #ask-anything Wie regelt de nachtdiensten?",
        "Je vraag staat in #ask-anything",
    ),
    (
        "joost",
        "/wol vraag #algemeen Wie regelt de nachtdiensten?",
        "#algemeen is geen kanaal voor vragen.",
    ),
]


@pytest.fixture
async def acore(make_core, port):
    core = make_core(port, **YAML)
    await core.start(deliver=False)
    return core


@pytest.mark.parametrize(("table", "channel"), [(ASK_EN, "C1"), (ASK_NL, "C9")], ids=["en", "nl"])
async def test_the_question_goes_to_the_channel_that_fits(acore, port, table, channel) -> None:
    await run_table(acore, port, table, channel=channel)


async def test_a_named_question_prefers_a_community_of_the_asker(acore, port) -> None:
    async with acore.db.session() as s:
        s.add(
            ParticipationCount(
                workspace_id=WS,
                user_id="femke",
                week=acore.clock.now().date(),
                community="vragen-zorg",
                signal="reply",
                level=2,
                count=3,
            )
        )
        await s.commit()
    await run_table(
        acore,
        port,
        [
            (
                "femke",
                "/wol vraag Wie regelt de nachtdiensten in het weekend?",
                "Je vraag staat in #vragen-zorg",
            ),  # Dutch, and her community
            (
                "femke",
                "/wol vraag anoniem Wie regelt de nachtdiensten in het weekend?",
                "in #durf-te-vragen",
            ),  # anonymous: only where allowed, never by her communities
        ],
        channel="C9",
    )


async def test_asked_inside_a_durf_channel_it_stays_there(acore, port) -> None:
    await run_table(
        acore,
        port,
        [
            (
                "sanne",
                "/wol ask Who plans the night shifts this summer?",
                "Your question is in #vragen-zorg",
            )
        ],
        channel="vragen-zorg",
    )
