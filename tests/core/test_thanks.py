"""`/wol thanks` in English and Dutch (issue 16 item 9, issue 17 item 6): the people thanked
are the mentioned ones at the start, thanking two people is one post naming both, and the
reason is kept as typed, with any `@word` in it left as text."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.events import ConversationKind
from bot.store.tables.asks import Thanks
from tests.core.test_dialogues import run_table
from tests.fakes.chat import RecordingPort

TABLE_EN = [
    (
        "alice",
        "/wol thanks @bob and @carol for the onboarding tips",
        "🙌 @alice thanks @bob and @carol:\n> for the onboarding tips",
    ),
    (
        "alice",
        "/wol thanks @dave, @erin & @frank for helping @gina",
        "🙌 @alice thanks @dave, @erin and @frank:\n> for helping @gina",
    ),
    ("alice", "/wol thanks for the tips @bob", "Who and what for?"),
]
TABLE_NL = [
    (
        "alice",
        "/wol bedankt @bob en @carol voor de inwerktips",
        "🙌 @alice bedankt @bob en @carol:\n> voor de inwerktips",
    ),
    (
        "alice",
        "/wol bedankt @dave, @erin en @frank voor de hulp aan @gina",
        "🙌 @alice bedankt @dave, @erin en @frank:\n> voor de hulp aan @gina",
    ),
    ("alice", "/wol bedankt voor de tips @bob", "Wie en waarvoor?"),
]


@pytest.mark.parametrize("language,table", [("en", TABLE_EN), ("nl", TABLE_NL)], ids=["en", "nl"])
async def test_thanking_several_people_is_one_post(
    make_core, port: RecordingPort, language: str, table
) -> None:
    core = make_core(port, language=language)
    await core.start(deliver=False)
    before = len(port.records)
    await run_table(core, port, table)
    posts = [r for r in port.records[before:] if r.op == "send" and "🙌" in r.text]
    assert len(posts) == 2  # one per command, however many people it thanks
    async with core.db.session() as s:
        receivers = sorted((await s.exec(select(Thanks.receiver_id))).all())
    assert receivers == ["bob", "carol", "dave", "erin", "frank"]  # never @gina


@pytest.mark.parametrize(
    ("language", "said", "expected"),
    [
        (
            "en",
            "/wol thanks @henk for the help with the tender",
            "Thanks are for everyone to see, and only you read this conversation",
        ),
        (
            "nl",
            "/wol bedankt @henk voor de hulp bij de aanbesteding",
            "Een bedankje is voor iedereen zichtbaar, en dit gesprek lees alleen jij",
        ),
    ],
    ids=["en", "nl"],
)
async def test_thanks_in_a_private_chat_with_the_bot_is_refused_with_the_way_to_do_it(
    make_core, port: RecordingPort, language: str, said: str, expected: str
) -> None:
    """A post in the giver's own chat with the bot would reach nobody else."""
    core = make_core(port, language=language)
    await core.start(deliver=False)
    await run_table(
        core, port, [("jane", said, expected)], channel="D-jane", kind=ConversationKind.DM
    )
    assert not [r for r in port.records if "🙌" in r.text]
    assert (["/wol thanks @anouk"] if language == "en" else ["/wol bedankt @anouk"])[
        0
    ] in port.records[-1].text
    async with core.db.session() as s:
        assert (await s.exec(select(Thanks))).all() == []
