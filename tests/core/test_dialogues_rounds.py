"""Rounds post once (issue 16, item 6): one summary, in the question's thread and shown in the
channel (Slack reply_broadcast), one short line for an empty round, quotes only of answers
that got reactions (else the first answers). Dialogue tables in English and Dutch:
`> text` answers in the thread of the round's question, `+1 name` reacts to name's answer."""

from __future__ import annotations

import pytest

from bot.events import Action, EventKind
from tests.fakes import events as ev

WS = ev.WORKSPACE
YAML = {
    "workspaces": {
        WS: {
            "admins": ["alice", "bob"],
            "channels": {
                "CEN": {"kind": "dialogue", "language": "en", "rhythm": "0 10 * * tue"},
                "CNL": {"kind": "dialogue", "language": "nl", "rhythm": "0 10 * * tue"},
            },
        }
    }
}

ROUND_EN = [
    ("alice", "/wol round status", "rhythm every Tuesday at 10:00,"),
    ("alice", "/wol round now", "Posted the next question"),
    ("ann", "> We moved the stand-up to the afternoon.", ""),
    ("bob", "> Pairing with the data team taught me SQL.", ""),
    ("cem", "> A patient showed me how confusing our letter was.", ""),
    ("dan", "+1 bob", ""),
    (
        "alice",
        "/wol round close",
        "Round closed: |3 colleagues answered.|The answer that resonated most:|"
        "> Pairing with the data team taught me SQL.|1 reaction|in thread+channel",
    ),
    ("alice", "/wol round now", "Posted the next question"),
    ("alice", "/wol round close", "Round closed without answers|in thread only"),
    ("alice", "/wol round now", "I'll close the round on 6 January 2026 09:59 with"),
    ("ann", "> Only me.", ""),
    ("alice", "/wol round close", "1 colleague answered.|The first answer:|> Only me."),
]
ROUND_NL = [
    ("bob", "/wol ronde status", "ritme elke dinsdag om 10:00,"),
    ("bob", "/wol ronde nu", "De volgende vraag staat in"),
    ("ann", "> We hebben de stand-up naar de middag verplaatst.", ""),
    ("bob", "> Samenwerken met het datateam leerde me SQL.", ""),
    ("cem", "> Een patiënt liet zien hoe onduidelijk onze brief was.", ""),
    (
        "bob",
        "/wol ronde sluit",
        "Ronde afgesloten: |3 collega's antwoordden.|De eerste antwoorden:|"
        "> We hebben de stand-up naar de middag verplaatst.|in thread+channel",
    ),
    ("bob", "/wol ronde nu", "De volgende vraag staat in"),
    ("bob", "/wol ronde sluiten", "Ronde gesloten zonder antwoorden|in thread only"),  # QA
    ("bob", "/wol ronde nu", "Op 6 januari 2026 09:59 sluit ik de ronde af"),
    ("ann", "> Alleen ik.", ""),
    ("bob", "/wol ronde sluit", "1 collega antwoordde.|Het eerste antwoord:|> Alleen ik."),
]


def _describe(record) -> str:
    if record.op == "react":
        return "📝"
    where = ""
    if record.op == "send" and record.dest.thread_id and not record.dest.ephemeral_user:
        where = "\nin thread+channel" if record.message.broadcast else "\nin thread only"
    return record.text + where


async def run_round_table(core, port, table, channel: str) -> None:
    question_id = None
    answers: dict[str, str] = {}
    for user, said, expected in table:
        before = len(port.records)
        if said.startswith("/wol"):
            event = ev.command(said[4:].strip(), user=user, channel=channel)
        elif said.startswith(">"):
            event = ev.message(said[1:].strip(), user=user, channel=channel, thread_id=question_id)
            answers[user] = event.message_id or ""
        else:  # "+1 name": a reaction to name's answer
            event = ev.message(
                "",
                user=user,
                channel=channel,
                event_kind=EventKind.REACTION_ADDED,
                action=Action(
                    action_id="reaction", value="+1", message_id=answers[said.split()[1]]
                ),
            )
        await core.handle(event)
        await core.delivery.drain()
        did = port.records[before:]
        for record in did:
            if (
                record.op == "send"
                and record.dest.thread_id is None
                and not record.dest.ephemeral_user
            ):
                question_id = record.message_id  # the round's question, in the channel
        public = [r for r in did if r.op == "react" or not r.dest.ephemeral_user]
        rendered = "\n".join(_describe(r) for r in did)
        if expected == "":
            assert public == [], f"{said!r}: expected silence, got {rendered!r}"
            continue
        for piece in expected.split("|"):
            assert piece in rendered, f"{said!r}: expected {piece!r} in {rendered!r}"
        if "Round closed" in expected or "gesloten" in expected:
            posts = [r for r in did if r.op == "send" and not r.dest.ephemeral_user]
            assert len(posts) == 1, f"{said!r}: one post, not {len(posts)}: {rendered!r}"


@pytest.mark.parametrize(
    ("table", "channel"), [(ROUND_EN, "CEN"), (ROUND_NL, "CNL")], ids=["en", "nl"]
)
async def test_a_round_closes_with_one_summary(make_core, port, table, channel) -> None:
    core = make_core(port, **YAML)
    await core.start(deliver=False, schedule=False)
    await run_round_table(core, port, table, channel)


async def test_each_answer_is_quoted_once_and_unreacted_ones_only_without_reactions(
    make_core, port
) -> None:
    core = make_core(port, **YAML)
    await core.start(deliver=False, schedule=False)
    await run_round_table(
        core,
        port,
        [
            ("alice", "/wol round now", "Posted"),
            ("ann", "> First thought.", ""),
            ("bob", "> Second thought.", ""),
            ("ann", "> Third thought.", ""),
            ("cem", "+1 ann", ""),
            ("dan", "+1 ann", ""),
            ("alice", "/wol round close", "2 colleagues answered.|> Third thought.|2 reactions"),
        ],
        "CEN",
    )
    summary = [r for r in port.sent() if "Round closed" in r.text][-1]
    quotes = [b.text for b in summary.message.blocks if b.type == "quote"]
    assert quotes == ["Third thought."]  # the only answer with reactions, once
