"""Natural phrasing (issue 16, item 3): the word orders people use are narrations; questions
and plans that only share words are not. Both languages, through the core."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.features.narration_phrases import (
    BUILT_IN,
    PhraseError,
    Topicless,
    compile_phrase,
    match_phrase,
    topicless,
)
from bot.store.tables import Narration
from tests.core.test_dialogues import run_table

NATURAL_NL = [
    ("joost", "Vandaag werk ik aan de nieuwe intranet-zoekfunctie", "📝"),
    ("joost", "Deze week werk ik aan de begroting voor 2027", "📝"),
    ("sanne", "Momenteel ben ik bezig met de AVG-verzoeken", "📝"),
    ("sanne", "Ik ben momenteel bezig met de inwerkmap", "📝"),
    ("femke", "We zijn bezig met de verhuizing naar het nieuwe kantoor", "📝"),
    ("femke", "Ik werk morgen thuis", ""),
    ("femke", "Is er iemand bezig met de intranet-zoekfunctie?", ""),
]
NATURAL_EN = [
    ("sanne", "This week I'm working on the budget for 2027", "📝"),
    ("sanne", "Currently working on the new intranet search", "📝"),
    ("bram", "Today I'm working on the onboarding checklist", "📝"),
    ("bram", "We're working on the move to the new office", "📝"),
    ("bram", "Who is working on the intranet?", ""),
    ("bram", "Working on anything fun this week?", ""),
    ("bram", "I work from home tomorrow", ""),
]


@pytest.mark.parametrize("table", [NATURAL_NL, NATURAL_EN], ids=["nl", "en"])
async def test_natural_word_orders_are_narrations(core, port, table) -> None:
    await run_table(core, port, table)


async def test_topic_and_language_of_natural_phrasings(core, port) -> None:
    await run_table(core, port, NATURAL_NL[:1] + NATURAL_EN[:1])
    async with core.db.session() as s:
        rows = list(await s.exec(select(Narration).order_by(Narration.id)))
    assert [(r.language, r.topic) for r in rows] == [
        ("nl", "de nieuwe intranet-zoekfunctie"),
        ("en", "the budget for 2027"),
    ]


PHRASES_YAML = {
    "workspaces": {
        "test:T1": {
            "narration_phrases": {
                "nl": ["(ik|we) (focus|focussen) (me|ons) [nu|momenteel] op"],
                "en": ["[this week] my focus is"],
            }
        }
    }
}


async def test_a_workspace_adds_its_own_phrases(make_core, port) -> None:
    core = make_core(port, **PHRASES_YAML)
    await core.start(deliver=False)
    await run_table(
        core,
        port,
        [
            ("joost", "Ik focus me momenteel op de inkoopprocedure", "📝"),
            ("sanne", "This week my focus is the supplier contracts", "📝"),
            ("sanne", "My focus is elsewhere?", ""),
        ],
    )
    other = make_core(port)  # another workspace (no phrases of its own) is unaffected
    assert match_phrase("Ik focus me op de inkoop") is None
    await other.stop()


def test_phrases_in_app_yaml_are_validated() -> None:
    with pytest.raises(ValueError, match="narration_phrases"):
        Settings.model_validate(
            {"workspaces": {"w": {"narration_phrases": {"nl": ["ik werk [aan"]}}}}
        )
    with pytest.raises(ValueError, match="always there"):
        Settings.model_validate(
            {"workspaces": {"w": {"narration_phrases": {"en": ["working [on]"]}}}}
        )
    with pytest.raises(ValueError, match="narration_phrases"):
        Settings.model_validate(
            {"workspaces": {"w": {"narration_phrases": {"fr": ["je travaille sur"]}}}}
        )


def test_every_built_in_phrase_compiles_and_errors_name_the_problem() -> None:
    for phrases in BUILT_IN.values():
        for phrase in phrases:
            compile_phrase(phrase)
    with pytest.raises(PhraseError, match="only words"):
        compile_phrase("working on.*")


# QA findings (issue 16, items 3 and 4): replies that name nothing are chat, a greeting may
# come first, a question after the topic does not undo the narration.
QA_EN = [
    ("bram", "Working on it!", ""),
    ("bram", "I am working on it, will let you know", ""),
    ("bram", "We're on it", ""),
    ("bram", "Working on that now", ""),
    ("bram", "Good morning! Today I'm working on the Kubernetes migration of billing", "📝"),
    ("bram", "Hi all, I'm working on the supplier contracts for the new warehouse", "📝"),
    ("bram", "This week I'm focusing on the accessibility audit of the intranet", "📝"),
    ("bram", "I'm working on the intranet redesign, who else is?", "📝"),
    ("bram", "Good morning! Working on anything fun?", ""),
]
QA_NL = [
    ("femke", "Ik ben bezig met je vraag, komt goed", ""),
    ("femke", "Ik ben ermee bezig", ""),
    ("femke", "We werken eraan!", ""),
    ("femke", "Ik ben bezig met het, laat het je weten", ""),
    ("femke", "Hoi allemaal! Ik ben bezig met de roosterplanning voor de IC", "📝"),
    ("femke", "Goedemorgen, we zijn bezig met de verhuizing van het archief", "📝"),
    ("femke", "Vandaag ga ik aan de slag met de jaarplanning voor het sociaal domein", "📝"),
    ("femke", "Ik werk aan de nieuwe website, wie doet er mee?", "📝"),
    ("femke", "Hoi! Is er iemand bezig met de intranet-zoekfunctie?", ""),
]


@pytest.mark.parametrize("table", [QA_EN, QA_NL], ids=["en", "nl"])
async def test_replies_greetings_and_trailing_questions(core, port, table) -> None:
    await run_table(core, port, table)
    async with core.db.session() as s:
        stored = [r.text for r in await s.exec(select(Narration).order_by(Narration.id))]
    assert stored == [said for _, said, expected in table if expected == "📝"]


async def test_the_topic_starts_after_the_phrase_not_the_greeting(core, port) -> None:
    await run_table(core, port, [QA_NL[4], QA_EN[4], QA_EN[7], QA_NL[6]])
    async with core.db.session() as s:
        rows = list(await s.exec(select(Narration).order_by(Narration.id)))
    assert [(r.language, r.topic) for r in rows] == [
        ("nl", "de roosterplanning voor de IC"),
        ("en", "the Kubernetes migration of billing"),
        ("en", "the intranet redesign, who else is?"),
        ("nl", "de jaarplanning voor het sociaal domein"),
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Working on it!", Topicless.REPLY),
        ("working on that now", Topicless.REPLY),
        ("Ik ben bezig met je vraag, komt goed", Topicless.REPLY),
        ("ok, ik ben ermee bezig", Topicless.REPLY),
        ("Ik ben bezig", Topicless.BARE),
        ("I'm working on", Topicless.BARE),
        ("Working on this: the SEO audit of the website", None),
        ("Working on it?", None),
        ("I'm working on the question of pricing", None),
        ("Ik ben bezig met de begroting", None),
    ],
)
def test_topicless(text, kind) -> None:
    assert topicless(text) is kind
