"""Direct messages (issue 16, item 4): narrations are kept; questions get a helpful answer,
thanks a short one, small talk none, and none of them is stored. English and Dutch."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.events import ConversationKind
from bot.features.dm_kinds import DmKind, classify
from bot.store.tables import Narration
from tests.core.test_dialogues import run_table

DM_EN = [
    ("sanne", "Can you tell me who works on the intranet?", "Who works on the intranet?"),
    ("sanne", "How do I request care leave?", "/wol ask How do I request care leave?"),
    ("sanne", "thanks!", "You're welcome!"),
    ("sanne", "ok", ""),
    ("sanne", "👍", ""),
    ("sanne", "ok 👍", ""),
    ("sanne", "hello", "Tell me in a sentence or two what you are working on"),
    ("sanne", "This week I'm working on the supplier contracts", "📝"),
    ("sanne", "the Q3 forecast model for the finance team", "📝"),
]
DM_NL = [
    ("joost", "Wie werkt er aan de intranet-zoekfunctie?", "Wie werkt er aan"),
    ("joost", "Weet iemand hoe ik zorgverlof aanvraag?", "/wol vraag Weet iemand hoe"),
    ("joost", "Bedankt!", "Graag gedaan!"),
    ("joost", "oké", ""),
    ("joost", "top 👍", ""),
    ("joost", "hoi", "Vertel me in een zin of twee"),
    ("joost", "Vandaag werk ik aan de nieuwe intranet-zoekfunctie", "📝"),
    ("joost", "de begroting voor 2027 en de jaarplanning", "📝"),
]


@pytest.mark.parametrize("table", [DM_EN, DM_NL], ids=["en", "nl"])
async def test_direct_messages(core, port, table) -> None:
    for user, said, expected in table:
        await run_table(core, port, [(user, said, expected)], channel=f"D-{user}",
                        kind=ConversationKind.DM)
    async with core.db.session() as s:
        stored = [r.text for r in await s.exec(select(Narration).order_by(Narration.id))]
    assert stored == [said for _, said, expected in table if expected == "📝"]


async def test_the_answer_to_a_question_is_in_its_language(core, port) -> None:
    await run_table(core, port, [("bram", "Wie weet er iets van AVG-verzoeken?",
                                  "Vraag het collega's met")], channel="D-bram",
                    kind=ConversationKind.DM)
    assert "Ask colleagues" not in port.records[-1].text


@pytest.mark.parametrize(("text", "kind", "topic"), [
    ("Thanks a lot!", DmKind.THANKS, None),
    ("dank je wel", DmKind.THANKS, None),
    ("🎉", DmKind.SMALL_TALK, None),
    ("Good morning!", DmKind.GREETING, None),
    ("Who knows about Kubernetes upgrades", DmKind.QUESTION, "Kubernetes upgrades"),
    ("Is er iemand bezig met het rooster?", DmKind.QUESTION, "het rooster"),
    ("lunch?", DmKind.QUESTION, None),
    ("budget", DmKind.SHORT, None),
])
def test_classify(text, kind, topic) -> None:
    found = classify(text, min_words=3, narration_phrase=False)
    assert (found.kind, found.who_topic) == (kind, topic)


async def test_a_who_question_is_answered_by_who_when_it_exists(core, port) -> None:
    """When a `/wol who` command is registered (issue 15), a "who works on X?" DM runs it."""
    from bot.features.commands import Subcommand

    if core.commands.parse("who").name != "who":
        asked: list[str] = []

        async def who(event, ctx, args: str) -> None:
            asked.append(args)
            await ctx.respond(ctx.text("{topic}", topic=f"who: {args}"))

        core.commands.register(Subcommand(names={"en": ("who",), "nl": ("wie",)},
                                          handler=who, summary="who"))
        await run_table(core, port, [("sanne", "Can you tell me who works on the intranet?",
                                      "who: the intranet")], channel="D-sanne",
                        kind=ConversationKind.DM)
        assert asked == ["the intranet"]
    else:  # the real one: it answers, and nothing is stored
        await run_table(core, port, [("sanne", "Who works on the intranet?", "intranet")],
                        channel="D-sanne", kind=ConversationKind.DM)
    async with core.db.session() as s:
        assert list(await s.exec(select(Narration))) == []
