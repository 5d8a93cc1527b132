"""Issue 16, item 1, where matching is involved: a click is answered in the clicker's language,
and an introduction between people who write different languages is bilingual, each part
quoting both narrations; through the core, and as Slack blocks and a Teams card."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from adapters.slack.render import render_message
from adapters.teams.render import render_card
from bot.clock import FakeClock
from bot.runtime import Wolbot
from bot.store.tables.matching import MatchSuggestion
from tests.conftest import CoreFactory
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

SANNE_EN = "I'm working on the new intranet search function with Elasticsearch"
SANNE_NL = "Ik ben bezig met de nieuwe zoekfunctie van het intranet met Elasticsearch"
JOOST_NL = "Ik werk aan de zoekfunctie voor het nieuwe intranet, met Elasticsearch"
JOOST_EN = "I'm working on the search function for the new intranet, with Elasticsearch"

INTRO = {
    "en": "@joost, meet @sanne: you seem to be working on similar things.",
    "nl": "@joost, maak kennis met @sanne: jullie lijken met vergelijkbaar werk bezig te zijn.",
}
NEXT = {"en": "Say hello and compare notes", "nl": "Zeg even hallo en wissel ervaringen uit"}
CONNECTED = {
    "en": "I've started a conversation between @joost and @sanne.",
    "nl": "Ik heb een gesprek gestart tussen @joost en @sanne.",
}
DISMISSED = {
    "en": "Thanks, I'll suggest @sanne less often for work like this.",
    "nl": "Dank je, ik stel @sanne minder vaak voor bij dit soort werk.",
}
FOLLOW_UP = {
    "en": "Did the introduction with @sanne help?",
    "nl": "Heb je iets gehad aan de kennismaking met @sanne?",
}


def _core(make_core: CoreFactory, port: RecordingPort, workspace_language: str) -> Wolbot:
    return make_core(port, workspaces={ev.WORKSPACE: {"language": workspace_language}})


async def _suggested(core: Wolbot, port: RecordingPort, sanne: str, joost: str) -> MatchSuggestion:
    for user, text in (("sanne", sanne), ("joost", joost)):
        await core.handle(ev.message(text, user=user))
        await core.delivery.drain()
    async with core.db.session() as s:
        [row] = list(await s.exec(select(MatchSuggestion)))
    assert (row.narrator_id, row.person_id) == ("joost", "sanne")
    return row


async def _click(core: Wolbot, port: RecordingPort, action: str, row: MatchSuggestion) -> list:
    before = len(port.records)
    await core.handle(ev.click(action, str(row.id), user="joost"))
    await core.delivery.drain()
    return port.records[before:]


@pytest.mark.parametrize(
    ("workspace", "sanne", "joost", "joost_lang", "sanne_lang"),
    [
        ("en", SANNE_EN, JOOST_NL, "nl", "en"),  # the case
        ("nl", SANNE_NL, JOOST_EN, "en", "nl"),  # the reverse
    ],
)
async def test_connect_me_in_each_persons_language(
    make_core: CoreFactory,
    port: RecordingPort,
    clock: FakeClock,
    e5_encoder: object,
    workspace: str,
    sanne: str,
    joost: str,
    joost_lang: str,
    sanne_lang: str,
) -> None:
    core = _core(make_core, port, workspace)
    await core.start(deliver=False)
    row = await _suggested(core, port, sanne, joost)
    did = await _click(core, port, "matching.connect", row)
    [confirmation] = [r for r in did if r.op == "send" and r.dest.ephemeral_user == "joost"]
    assert confirmation.text == CONNECTED[joost_lang]
    [intro] = [r for r in did if r.op == "send" and r.dest.channel_id == "D-joost-sanne"]
    message = intro.message
    # one part per language, the narrator's first, each quoting both narrations
    parts = intro.text.split("\n---\n")
    assert len(parts) == 2, intro.text
    for part, lang in zip(parts, (joost_lang, sanne_lang), strict=True):
        assert part.startswith(INTRO[lang]) and NEXT[lang] in part, part
        assert sanne in part and joost in part, part
        assert part.index(joost) < part.index(sanne)  # the narrator's words first
    # Slack: the blocks of the group DM carry both parts, divided
    blocks = render_message(message)["blocks"]
    assert [b["type"] for b in blocks].count("divider") == 1
    slack_text = json.dumps(blocks, ensure_ascii=False)
    for lang in ("en", "nl"):
        assert INTRO[lang].partition("@sanne")[2] in slack_text and NEXT[lang] in slack_text
    assert slack_text.count("Elasticsearch") == 4  # two narrations, quoted in both parts
    # Teams: the card the 1:1 chats get reads the same
    body = render_card(message)["body"]
    assert [bool(e.get("separator")) for e in body].count(True) == 1
    card = json.dumps(body, ensure_ascii=False)
    for lang in ("en", "nl"):
        assert INTRO[lang].partition("@sanne")[2] in card and NEXT[lang] in card
    assert card.count("Elasticsearch") == 4
    # the follow-up a few days later asks the narrator in their own language
    clock.advance(days=3, minutes=1)
    await core.delivery.drain()
    [follow_up] = [
        r
        for r in port.records
        if "@sanne" in r.text
        and "[" in r.text
        and r.dest is not None
        and r.dest.channel_id == "D-joost"
    ]
    assert follow_up.text.startswith(FOLLOW_UP[joost_lang])


@pytest.mark.parametrize(
    ("workspace", "sanne", "joost", "joost_lang"),
    [("en", SANNE_EN, JOOST_NL, "nl"), ("nl", SANNE_NL, JOOST_EN, "en")],
)
async def test_not_relevant_answers_in_the_clickers_language(
    make_core: CoreFactory,
    port: RecordingPort,
    e5_encoder: object,
    workspace: str,
    sanne: str,
    joost: str,
    joost_lang: str,
) -> None:
    core = _core(make_core, port, workspace)
    await core.start(deliver=False)
    row = await _suggested(core, port, sanne, joost)
    [answer] = [r for r in await _click(core, port, "matching.dismiss", row) if r.op == "send"]
    assert answer.text == DISMISSED[joost_lang]


async def test_people_who_share_a_language_get_it_once(
    make_core: CoreFactory, port: RecordingPort, e5_encoder: object
) -> None:
    core = _core(make_core, port, "en")
    await core.start(deliver=False)
    row = await _suggested(core, port, SANNE_NL, JOOST_NL)
    did = await _click(core, port, "matching.connect", row)
    [intro] = [r for r in did if r.op == "send" and r.dest.channel_id == "D-joost-sanne"]
    assert "---" not in intro.text and intro.text.startswith(INTRO["nl"])
    assert SANNE_NL in intro.text and JOOST_NL in intro.text


@pytest.mark.parametrize(
    ("workspace", "sanne", "joost", "joost_lang"),
    [
        ("en", SANNE_EN, JOOST_NL, "nl"),
        ("nl", SANNE_NL, JOOST_EN, "en"),
    ],
)
async def test_a_public_suggestion_speaks_to_readers_in_the_channels_language(
    make_core: CoreFactory,
    port: RecordingPort,
    clock: FakeClock,
    e5_encoder: object,
    workspace: str,
    sanne: str,
    joost: str,
    joost_lang: str,
) -> None:
    """The thread under joost's narration is read by the whole channel: the buttons for other
    readers are in the channel's language, the heading in both, joost's own in his."""
    labels = {
        "en": ("Similar work:", "I've done this", "Connect me"),
        "nl": ("Vergelijkbaar werk:", "Dit heb ik al gedaan", "Breng ons in contact"),
    }
    core = _core(make_core, port, workspace)
    await core.start(deliver=False)
    await _suggested(core, port, sanne, joost)
    [post] = [
        r for r in port.records if r.op == "send" and r.dest.thread_id and "Elasticsearch" in r.text
    ]
    buttons = {e.label for b in post.message.blocks for e in getattr(b, "elements", ())}
    assert labels[workspace][1] in buttons and labels[joost_lang][1] not in buttons
    assert labels[joost_lang][2] in buttons and labels[workspace][2] not in buttons
    assert labels[workspace][0] in post.text and labels[joost_lang][0] in post.text


# QA: a colleague whose first message is their typed "I've done this" in the thread is
# written to in the language of that very message: the introduction is bilingual at once,
# not only from their next message on.
DONE_BEFORE = {
    "en": "@sanne, meet @joost, who has done this before:",
    "nl": "@sanne, maak kennis met @joost, die dit al eens heeft gedaan:",
}
TYPED_DONE = {"en": "I did this last year", "nl": "Dat heb ik ook al eens gedaan"}
STARTED = {
    "en": "I've started a conversation between @sanne and @joost.",
    "nl": "Ik heb een gesprek gestart tussen @sanne en @joost.",
}


@pytest.mark.parametrize(
    ("workspace", "sanne", "joost_lang"), [("en", SANNE_EN, "nl"), ("nl", SANNE_NL, "en")]
)
async def test_a_typed_reply_in_another_language_gets_a_bilingual_intro_at_once(
    make_core: CoreFactory, port: RecordingPort, workspace: str, sanne: str, joost_lang: str
) -> None:
    core = _core(make_core, port, workspace)
    await core.start(deliver=False)
    try:
        await core.handle(ev.message(sanne, user="sanne", message_id="1700.1"))
        await core.delivery.drain()
        before = len(port.records)
        await core.handle(
            ev.message(
                TYPED_DONE[joost_lang], user="joost", thread_id="1700.1", message_id="1700.2"
            )
        )
        await core.delivery.drain()
        did = port.records[before:]
        [intro] = [
            r for r in did if r.op == "open_group_dm" or "meet" in r.text or "kennis" in r.text
        ]
        assert DONE_BEFORE[workspace] in intro.text and DONE_BEFORE[joost_lang] in intro.text
        assert any(STARTED[joost_lang] in r.text for r in did)
    finally:
        await core.stop()
