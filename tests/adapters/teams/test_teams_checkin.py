"""The weekly check-in in Teams carries "Narrate my work": its click opens the narrate form
as a dialog (`task/fetch`), and what is submitted there is the check-in's answer, handled as
the same text typed in the personal chat (bot/features/checkin_form.py): the same narration,
the same suggestions, the same "Thanks!". An empty text or a question shows the dialog
again with what to write, in the person's language; a submission forged for someone else
stores nothing. In English and in Dutch, through the real endpoint, botbuilder and the fake
Bot Connector."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from adapters.teams.inbound import ACTION_KEY
from bot.features.checkin_form import NARRATE_BUTTON
from bot.features.checkins import run_checkins
from bot.store.tables import Narration
from bot.store.tables.rhythms import CheckinState
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_dialogs import inputs, submit_data, task
from tests.adapters.teams.test_teams_e2e import StartApp, TeamsApp, start_app  # noqa: F401

PERSONAL = activity("message_personal_2019")
PERSON = PERSONAL["from"]["id"]  # answers the check-in with the form
CHAT = PERSONAL["conversation"]["id"]
TENANT = PERSONAL["conversation"]["tenantId"]
WS = f"teams:{TENANT}"
BOB = {"id": "29:1bob", "name": "Bob", "aadObjectId": "b0b00000-0000-4000-8000-0000000000b0"}
BOB_CHAT = "a:1bob-personal-chat"  # Bob answers his check-in by typing
ALICE = {"id": "29:1alice", "name": "Alice", "aadObjectId": "a11ce000-0000-4000-8000-0000000a11ce"}
MALLORY = {"id": "29:1mallory", "name": "Mallory"}
CHANNEL = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"
MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam, the default time zone
SETTINGS = {"workspaces": {WS: {"defaults": {"checkins": True}}}}

EN = {
    "locale": "en-US",
    "language": "wol language en",
    "ask": "What are you working on this week?",
    "hint": (
        "Answer here in a sentence or two, or use the Narrate my work button below to write "
        "it in a form."
    ),
    "buttons": ["Narrate my work", "Skip this week", "Turn check-ins off"],
    "empty": "Tell me in a few words what you are working on.",
    "a_question": "Who knows about rosters?",
    "question": "I keep only what you tell me you are working on, not questions.",
    "not_for_you": "This button isn't meant for you, so I left everything as it was.",
    "noted": "Noted, thanks for working out loud:",
    "similar": "Similar work:",
    "thanks": "Thanks! Colleagues working on something similar can find you now.",
    "colleague": "I'm working on reviewing our supplier contracts for the third quarter",
    "topic": "the supplier contract review for Q3",
}
NL = {
    "locale": "nl-NL",
    "language": "wol taal nl",
    "ask": "Waar ben je deze week mee bezig?",
    "hint": (
        "Antwoord hier in een zin of twee, of schrijf het in een formulier met de knop "
        "Hardop werken hieronder."
    ),
    "buttons": ["Hardop werken", "Deze week overslaan", "Check-ins uitzetten"],
    "empty": "Vertel in een paar woorden waar je mee bezig bent.",
    "a_question": "Wie weet er iets van roosters?",
    "question": "Ik bewaar alleen waar je mee bezig bent, geen vragen.",
    "not_for_you": "Deze knop is niet voor jou bedoeld, dus ik heb alles gelaten zoals het was.",
    "noted": "Genoteerd, fijn dat je hardop werkt:",
    "similar": "Vergelijkbaar werk:",
    "thanks": "Dank je! Collega's die met iets vergelijkbaars bezig zijn, kunnen je nu vinden.",
    "colleague": "Ik ben bezig met de roosterplanning voor de zorgafdelingen",
    "topic": "de nieuwe roosterplanning voor de zorg",
}


def buttons(card: dict[str, Any] | None) -> list[dict[str, Any]]:
    assert card is not None
    return [a for b in card["body"] if b["type"] == "ActionSet" for a in b["actions"]]


def shown(call: Any) -> str:
    """What the person reads: a card's text, or a plain message's."""
    return str(call.card["fallbackText"] if call.card else call.body.get("text"))


async def say_in_personal_chat(
    app: TeamsApp, who: dict[str, Any], chat: str, **fields: Any
) -> None:
    said = activity("message_personal_2019", **fields)
    said["from"] = who
    said["conversation"] = {**said["conversation"], "id": chat}
    assert (await app.post(app.connector.rewrite(said))).status == 201
    await app.deliver()


async def narrations_of(app: TeamsApp, user_id: str) -> list[Narration]:
    async with app.core.db.session() as s:
        return list((await s.exec(select(Narration).where(Narration.author_id == user_id))).all())


async def waits(app: TeamsApp, user_id: str) -> bool:
    """Whether the person's check-in still waits for an answer."""
    async with app.core.db.session() as s:
        state = (await s.exec(select(CheckinState).where(CheckinState.user_id == user_id))).one()
    return state.pending_since is not None


async def submit(
    app: TeamsApp, dialog: dict[str, Any], text: str, lang: dict[str, Any], id_: str, **who: Any
) -> dict[str, Any]:
    body = task(
        app, "task/submit", {**submit_data(dialog), "text": text}, locale=lang["locale"], id_=id_
    )
    body.update(who)
    response = await app.post(body)
    assert response.status == 200
    return dict(await response.json())


@pytest.mark.parametrize("lang", [EN, NL], ids=["en", "nl"])
async def test_narrate_my_work_on_the_checkin_is_its_answer_as_if_typed(
    start_app: StartApp,  # noqa: F811
    lang: dict[str, Any],
) -> None:
    app = await start_app(**SETTINGS)
    app.core.clock.set(MONDAY - timedelta(days=3))  # type: ignore[attr-defined]
    # Alice narrated similar work in a team channel; the person and Bob chose their language
    colleague = app.connector.rewrite(
        activity(
            "message_channel_mention_2019",
            id="7001",
            text=f"<at>My Combined</at> {lang['colleague']}",
        )
    )
    colleague["from"] = ALICE
    colleague["conversation"] = {**colleague["conversation"], "id": f"{CHANNEL};messageid=7001"}
    assert (await app.post(colleague)).status == 201
    await app.deliver()
    for who, chat, id_ in ((PERSONAL["from"], CHAT, "l1"), (BOB, BOB_CHAT, "l2")):
        await say_in_personal_chat(
            app, who, chat, id=id_, locale=lang["locale"], text=lang["language"]
        )

    app.core.clock.set(MONDAY)  # type: ignore[attr-defined]
    assert (await run_checkins(app.core, MONDAY))["sent"] == 3  # type: ignore[arg-type]
    await app.deliver()
    (card,) = [
        c
        for c in app.connector.of("send")
        if c.conversation_id == CHAT and c.card and lang["ask"] in c.card["fallbackText"]
    ]
    assert [b["title"] for b in buttons(card.card)] == lang["buttons"]
    # the hint names the button, in its own words and in bold
    assert lang["hint"] in card.card["fallbackText"]
    assert f"**{lang['buttons'][0]}**" in json.dumps(card.card["body"], ensure_ascii=False)
    narrate = buttons(card.card)[0]
    assert narrate["type"] == "Action.Submit"
    assert narrate["data"]["msteams"]["type"] == "task/fetch"  # only this click opens a dialog
    assert narrate["data"][ACTION_KEY] == NARRATE_BUTTON

    opened = await app.post(
        task(app, "task/fetch", narrate["data"], locale=lang["locale"], id_="f1")
    )
    assert opened.status == 200
    dialog = await opened.json()
    assert dialog["task"]["type"] == "continue"
    assert dialog["task"]["value"]["title"] == lang["buttons"][0]
    assert set(inputs(dialog)) == {"text"}

    # nothing written, or a question: the dialog again, saying what to write
    for wrong, error, id_ in (
        ("", lang["empty"], "s1"),
        ("  ", lang["empty"], "s2"),
        (lang["a_question"], lang["question"], "s3"),
    ):
        again = await submit(app, dialog, wrong, lang, id_)
        assert again["task"]["type"] == "continue"
        body = again["task"]["value"]["card"]["content"]["body"]
        assert error in [b.get("text") for b in body]
    # Mallory sends the person's form with her own text: refused, nothing stored
    forged = await submit(app, dialog, lang["topic"], lang, "s4", **{"from": MALLORY})
    assert forged["task"] == {"type": "message", "value": lang["not_for_you"]}
    assert await narrations_of(app, PERSON) == [] and await narrations_of(app, MALLORY["id"]) == []
    assert await waits(app, PERSON)

    sent_before = len(app.connector.calls)
    answered = await submit(app, dialog, lang["topic"], lang, "s5")
    assert answered["task"]["type"] == "message"  # the dialog closes with the "noted"
    assert lang["noted"] in answered["task"]["value"] and lang["topic"] in answered["task"]["value"]
    # Bob answers his check-in by typing the same text in his personal chat
    await say_in_personal_chat(
        app, BOB, BOB_CHAT, id="t1", locale=lang["locale"], text=lang["topic"]
    )
    await app.deliver()

    after = [c for c in app.connector.calls[sent_before:] if c.op in ("send", "reply", "update")]
    form_chat = [shown(c) for c in after if c.conversation_id == CHAT]
    typed_chat = [shown(c) for c in after if c.conversation_id == BOB_CHAT]
    assert len(form_chat) == 2 and form_chat[1] == lang["thanks"]
    assert form_chat[0].startswith(lang["similar"]) and "@Alice" in form_chat[0]
    # the same answers as the typed text, but the 📝 that has no message to go under
    assert typed_chat == ["📝", *form_chat]
    assert {c.conversation_id for c in after} == {CHAT, BOB_CHAT}  # no channel, nobody else

    (formed,) = await narrations_of(app, PERSON)
    (typed,) = await narrations_of(app, BOB["id"])
    for narration, chat in ((formed, CHAT), (typed, BOB_CHAT)):
        assert (narration.topic, narration.text) == (lang["topic"], lang["topic"])
        assert (narration.visibility, narration.source, narration.channel_id) == (
            "dm",
            "checkin",
            chat,
        )
        assert narration.language == lang["locale"][:2]
    assert not await waits(app, PERSON) and not await waits(app, BOB["id"])
