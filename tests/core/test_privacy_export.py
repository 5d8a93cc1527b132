"""The readable export (issue 17, item 4): grouped, each item with time, place and retention,
no internal ids or tokens, nothing naming anyone else; every personal table accounted for."""

from __future__ import annotations

import json

from bot.features.privacy import export_document
from bot.ports import PersonInfo
from bot.store.personal_data import personal_tables
from bot.store.personal_export import EXPORTED, NOT_EXPORTED, SCHEMA
from tests.fakes import events as ev

WS = ev.WORKSPACE
SETTINGS = {
    "workspaces": {
        WS: {
            "admins": ["alice"],
            "managers": ["mona"],
            "timezone": "UTC",
            "channels": {"DURF": {"kind": "durf-te-vragen", "anonymous": True}},
        }
    }
}
INTERNAL_KEYS = {
    "id",
    "workspace_id",
    "user_id",
    "author_id",
    "asker_id",
    "giver_id",
    "receiver_id",
    "narrator_id",
    "person_id",
    "message_id",
    "claim_token",
    "idempotency_key",
    "posted_key",
    "card_key",
    "anon_ref",
    "anon_contact",
    "channel_id",
    "token_hash",
    "session_hash",
    "granted_by",
    "manager_id",
}


def test_every_personal_table_is_exported_or_says_why_not() -> None:
    tables = {model.__tablename__ for model, _ in personal_tables()}  # type: ignore[attr-defined]
    assert tables - set(EXPORTED) - set(NOT_EXPORTED) == set()
    assert set(EXPORTED) & set(NOT_EXPORTED) == set()


def keys_of(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


async def test_the_export_is_grouped_readable_and_only_the_persons_own(make_core, port) -> None:
    port.people["anna"] = PersonInfo("anna", "Anna de Vries", timezone="Europe/Amsterdam")
    port.people["bob"] = PersonInfo("bob", "Bob Okafor")
    core = make_core(port, **SETTINGS)
    await core.start(deliver=False, schedule=False)

    async def run(event) -> None:
        await core.handle(event)
        await core.delivery.drain()

    await run(ev.message("I'm working on the tender for the harbour", user="anna", channel="C1"))
    await run(ev.message("I'm working on Bob's secret reorganisation", user="bob"))
    await run(ev.command("ask Where is the travel policy?", user="anna"))
    await run(ev.command("ask anon Is it fine to say no to a meeting?", user="anna"))
    await run(ev.command("thanks @bob for the harbour maps", user="anna"))
    await run(ev.command("thanks @anna for the review", user="bob"))
    await run(ev.command("me matching off", user="anna"))
    await run(ev.command("me matching on", user="anna"))

    for lang, narrations in (("en", "Narrations: 1"), ("nl", "Bezig-met-berichten: 1")):
        doc = await export_document(core, WS, "anna", core.clock.now(), core.translator(lang))
        assert narrations in doc["summary"]
    text = json.dumps(doc, ensure_ascii=False)
    assert doc["schema"] == SCHEMA and next(iter(doc)) == "summary"
    assert doc["you"]["name"] == "Anna de Vries"
    [narration] = doc["narrations"]
    assert narration["text"] == "I'm working on the tender for the harbour"
    assert narration["where"] == {"kind": "public", "conversation": "#C1"}
    assert narration["said_at"] and narration["kept_until"] > narration["said_at"]
    [named] = doc["questions_asked_by_name"]
    assert named["text"] == "Where is the travel policy?" and named["where"]["kind"]
    [anonymous] = doc["anonymous_questions"]
    assert anonymous["text"] == "Is it fine to say no to a meeting?" and anonymous["kept_until"]
    assert [t["reason"] for t in doc["thanks_given"]] == ["for the harbour maps"]
    assert [t["reason"] for t in doc["thanks_received"]] == ["for the review"]
    changes = [c["changes"] for c in doc["consent_history"]]
    assert changes == [
        {"suggest_me": {"from": None, "to": False}},
        {"suggest_me": {"from": False, "to": True}},
    ]
    assert doc["settings"]["your_choices"]["suggest_me"] is True
    # nothing internal, nobody else
    assert keys_of(doc) & INTERNAL_KEYS == set()
    for other in ("bob", "Bob Okafor", "secret reorganisation", "alice", "mona"):
        assert other not in text
