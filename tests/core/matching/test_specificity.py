"""The specificity gate: content-free narrations get no suggestions, are never suggested to
others, and earn at most one private hint a week — English and Dutch."""

from __future__ import annotations

import numpy as np

from bot.clock import FakeClock
from bot.matching.ranking import Item, MatchPolicy, WorkspaceIndex
from bot.matching.specificity import WordStats, content_words, specificity
from bot.runtime import Wolbot
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

VAGUE = [
    ("v1", "I'm working on emails"),
    ("v2", "Ik ben bezig met mijn mail wegwerken"),
    ("v3", "I'm working on the project"),
    ("v4", "Ik werk aan het project"),
    ("v5", "Working on meetings, meetings, meetings"),
    ("v6", "Bezig met van alles en nog wat"),
    ("v7", "I'm working on a bit of everything this week"),
    ("v8", "Ik ben bezig met overleggen en wat losse eindjes"),
    ("v9", "I'm working on catching up after my holiday"),
    ("v10", "Ik werk aan de planning voor volgende week"),
]
HINT_EN = "Tell me a bit more — which system, customer or project?"
HINT_NL = "Vertel me iets meer: welk systeem, welke klant of welk project?"
SUGGESTION_WORDS = ("Similar work", "Vergelijkbaar werk", "May know", "Weet misschien")


def test_content_words_leave_out_function_and_generic_words() -> None:
    assert content_words("Ik ben bezig met mijn mail wegwerken") == []
    assert content_words("meetings, meetings, meetings") == []
    assert content_words("de migratie van de Exchange-mailboxen naar Microsoft 365") == [
        "migratie",
        "exchange",
        "mailboxen",
        "microsoft",
    ]
    assert specificity("van alles en nog wat") == 0
    assert specificity("AVG-inzageverzoeken") == 2
    assert specificity("het MT voorbereiden") == 1  # a short acronym is a name


def test_workspace_frequency_lowers_a_word_everyone_uses() -> None:
    stats = WordStats()
    for i in range(40):
        stats.add("onboarding for the new nurses" if i % 2 else f"budget line {i}")
    assert stats.rarity("onboarding") < 0.3
    assert stats.rarity("kubernetes") == 1.0
    assert specificity("onboarding", stats) < 1.0 <= specificity("onboarding on kubernetes", stats)


def test_the_gate_works_both_ways_in_the_index() -> None:
    rng = np.random.default_rng(0)
    vec = rng.normal(size=8).astype(np.float32)
    vec /= np.linalg.norm(vec)
    items = [
        Item.of("n:1", "narration", "a", "the project", visibility="public"),
        Item.of("n:2", "narration", "b", "moving Jenkins jobs", visibility="public"),
    ]
    index = WorkspaceIndex.build(items, np.stack([vec, vec]))
    policy = MatchPolicy(threshold=0.0)
    found = index.rank(vec, frozenset(), policy, text="Jenkins pipelines to GitHub Actions")
    assert [s.item.key for s in found] == ["n:2"]  # the vague item is never a candidate
    assert index.rank(vec, frozenset(), policy, text="emails and meetings") == []
    off = MatchPolicy(threshold=0.0, min_specificity=0.0)
    assert len(index.rank(vec, frozenset(), off, text="emails and meetings")) == 2


async def say(core: Wolbot, port: RecordingPort, user: str, text: str) -> str:
    before = len(port.records)
    await core.handle(ev.message(text, user=user))
    await core.delivery.drain()
    return "\n".join(r.text for r in port.records[before:] if r.op == "send")


async def test_ten_vague_narrations_get_no_suggestion_then_a_real_pair_does(
    core: Wolbot, port: RecordingPort, clock: FakeClock
) -> None:
    for user, text in VAGUE:
        answer = await say(core, port, user, text)
        assert not any(w in answer for w in SUGGESTION_WORDS), (text, answer)
        # the hint, privately, in the narration's language
        hint = HINT_NL if text.startswith(("Ik", "Bezig")) else HINT_EN
        assert hint in answer, (text, answer)
        assert port.sent()[-1].dest.ephemeral_user == user
    fenna = await say(
        core, port, "fenna", "I'm working on migrating our Exchange mailboxes to Microsoft 365"
    )
    assert fenna == ""
    gert = await say(
        core,
        port,
        "gert",
        "Ik ben bezig met de migratie van de Exchange-mailboxen naar Microsoft 365",
    )
    assert "Vergelijkbaar werk:" in gert and "@fenna" in gert
    assert not any(f"@{user}" in gert for user, _ in VAGUE)


async def test_the_hint_comes_at_most_once_a_week(
    core: Wolbot, port: RecordingPort, clock: FakeClock
) -> None:
    table = [
        ("I'm working on emails", HINT_EN),
        ("I'm working on the project", ""),  # the same week: silent
    ]
    for text, expected in table:
        answer = await say(core, port, "vera", text)
        assert (expected in answer) if expected else answer == ""
    clock.advance(days=7, minutes=1)
    assert HINT_NL in await say(core, port, "vera", "Ik werk aan het project")
    assert await say(core, port, "vera", "Ik ben bezig met mijn mail") == ""
