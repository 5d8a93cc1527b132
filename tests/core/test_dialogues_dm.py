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
    ("sanne", "Can you tell me who works on the intranet?", "who works on the intranet"),
    (
        "sanne",
        "How do I request care leave?",  # QA: no channel to ask in, so no /wol ask
        "That sounds like a question for colleagues, but there is no durf-te-vragen channel to "
        "ask it in yet: an admin can make one with /wol config community add #durf-te-vragen "
        "durf-te-vragen.",
    ),
    ("sanne", "thanks!", "You're welcome!"),
    ("sanne", "ok", ""),
    ("sanne", "👍", ""),
    ("sanne", "ok 👍", ""),
    ("sanne", "hello", "Tell me in a sentence or two what you are working on"),
    ("sanne", "I work from home tomorrow", "Tell me in a sentence or two"),
    ("sanne", "Who is working on the intranet?", "who works on the intranet"),
    ("sanne", "This week I'm working on the supplier contracts", "📝"),
    ("sanne", "the Q3 forecast model for the finance team", "📝"),
    ("sanne", "Working on it!", ""),
    ("sanne", "I am working on it, will let you know", ""),
    ("sanne", "we're on it", ""),
    ("sanne", "I am working", "Tell me in a sentence or two"),
    ("sanne", "I'm working on", "Tell me in a sentence or two"),
    ("sanne", "Good morning! Today I'm working on the Kubernetes migration of billing", "📝"),
    ("sanne", "I'm working on the intranet redesign, who else is?", "📝"),
]
DM_NL = [
    ("joost", "Wie werkt er aan de intranet-zoekfunctie?", "de intranet-zoekfunctie"),
    (
        "joost",
        "Weet iemand hoe ik zorgverlof aanvraag?",
        "Dat klinkt als een vraag voor collega's, maar er is nog geen durf-te-vragen-kanaal om hem "
        "in te stellen: een beheerder kan er een maken met /wol instellingen community toevoegen "
        "#durf-te-vragen durf-te-vragen.",
    ),
    ("joost", "Bedankt!", "Graag gedaan!"),
    ("joost", "oké", ""),
    ("joost", "top 👍", ""),
    ("joost", "hoi", "Vertel me in een zin of twee"),
    ("joost", "Ik werk morgen thuis", "Vertel me in een zin of twee"),
    ("joost", "Is er iemand bezig met de intranet-zoekfunctie?", "de intranet-zoekfunctie"),
    ("joost", "Vandaag werk ik aan de nieuwe intranet-zoekfunctie", "📝"),
    ("joost", "de begroting voor 2027 en de jaarplanning", "📝"),
    ("joost", "Ik ben bezig met je vraag, komt goed", ""),
    ("joost", "ik ben ermee bezig", ""),
    ("joost", "Ik ben bezig", "Vertel me in een zin of twee"),
    ("joost", "Ik ben bezig met", "Vertel me in een zin of twee"),
    ("joost", "Hoi allemaal! Ik ben bezig met de roosterplanning voor de IC", "📝"),
    ("joost", "Ik werk aan de nieuwe website, wie doet er mee?", "📝"),
]


@pytest.mark.parametrize("table", [DM_EN, DM_NL], ids=["en", "nl"])
async def test_direct_messages(core, port, table) -> None:
    for user, said, expected in table:
        await run_table(
            core, port, [(user, said, expected)], channel=f"D-{user}", kind=ConversationKind.DM
        )
    async with core.db.session() as s:
        stored = [r.text for r in await s.exec(select(Narration).order_by(Narration.id))]
    assert stored == [said for _, said, expected in table if expected == "📝"]


@pytest.mark.parametrize(
    ("user", "said", "expected"),
    [
        ("sanne", "How do I request care leave?", "/wol ask How do I request care leave?"),
        ("joost", "Weet iemand hoe ik zorgverlof aanvraag?", "/wol vraag Weet iemand hoe"),
    ],
)
async def test_a_question_is_pointed_to_the_durf_te_vragen_channel(
    make_core, port, user, said, expected
) -> None:
    from tests.fakes import events as ev

    core = make_core(
        port, workspaces={ev.WORKSPACE: {"channels": {"DURF": {"kind": "durf-te-vragen"}}}}
    )
    await core.start(deliver=False)
    await run_table(
        core, port, [(user, said, expected)], channel=f"D-{user}", kind=ConversationKind.DM
    )


async def test_a_who_question_gets_the_who_answer_in_its_language(core, port) -> None:
    """`/wol who` (issue 15) answers "who …?" DMs: here nobody fits yet, so it says so."""
    await run_table(
        core,
        port,
        [
            (
                "bram",
                "Wie weet er iets van AVG-verzoeken?",
                "Ik ken nog niemand die met AVG-verzoeken bezig is",
            )
        ],
        channel="D-bram",
        kind=ConversationKind.DM,
    )
    await run_table(
        core,
        port,
        [
            (
                "sanne",
                "Who knows about GDPR requests?",
                "I don't know anyone yet who works on GDPR requests",
            )
        ],
        channel="D-sanne",
        kind=ConversationKind.DM,
    )


async def test_a_who_question_names_the_colleague(core, port) -> None:
    await run_table(
        core, port, [("anna", "I'm working on the Kubernetes upgrades of our test clusters", "📝")]
    )
    await run_table(
        core,
        port,
        [("bram", "Who works on Kubernetes upgrades?", "@anna")],
        channel="D-bram",
        kind=ConversationKind.DM,
    )


@pytest.mark.parametrize(
    ("text", "kind", "topic"),
    [
        ("Thanks a lot!", DmKind.THANKS, None),
        ("dank je wel", DmKind.THANKS, None),
        ("🎉", DmKind.SMALL_TALK, None),
        ("Good morning!", DmKind.GREETING, None),
        ("Who knows about Kubernetes upgrades", DmKind.QUESTION, "Kubernetes upgrades"),
        ("Is er iemand bezig met het rooster?", DmKind.QUESTION, "het rooster"),
        ("lunch?", DmKind.QUESTION, None),
        ("budget", DmKind.SHORT, None),
        ("Working on it!", DmKind.SMALL_TALK, None),
        ("Ik ben bezig", DmKind.SHORT, None),
        ("Hoi allemaal", DmKind.GREETING, None),
    ],
)
def test_classify(text, kind, topic) -> None:
    found = classify(text, min_words=3, narration_phrase=False)
    assert (found.kind, found.who_topic) == (kind, topic)
