"""Universal Actions on a durf-te-vragen question card (issue 20): the click is answered with
the card as it now is, the card in the channel is updated for everyone (PUT at the Bot
Connector), a second click changes nothing, a member's click gets the card back unchanged
with the reason, and `refresh` gives each viewer their own buttons."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from adapters.teams.inbound import ACTION_KEY, VALUE_KEY
from bot.store.tables.asks import Acknowledgement
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
ASKER = "29:asker-in-the-durf-channel"
MANAGER = "29:manager-bot-framework-id"
MANAGER_AAD = "6b703ce3-6d14-4fe6-b90c-dc5f03657ae4"
MEMBER = "29:a-member"
DURF = "19:durf-te-vragen@thread.tacv2"
QUESTION_ID = "1767765488332"
SETTINGS = {
    "workspaces": {
        WS: {
            "managers": [MANAGER_AAD],
            "language": "en",
            "channels": {DURF: {"kind": "durf-te-vragen"}},
        }
    }
}


def in_durf(body: dict[str, Any]) -> dict[str, Any]:
    body["conversation"] = {"id": DURF, "conversationType": "channel", "tenantId": TENANT}
    body["channelData"] = {"tenant": {"id": TENANT}, "channel": {"id": DURF}}
    return body


def invoke(
    app,
    verb: str,
    value: str,
    *,
    user: str,
    name: str,
    aad: str | None = None,
    card_id: str,
    id_: str,
    trigger: str = "manual",
    locale: str = "en-US",
) -> dict:
    body = in_durf(
        activity(
            "invoke_adaptiveCard_action_execute_2026", id=id_, locale=locale, replyToId=card_id
        )
    )
    body["from"] = {"id": user, "name": name, **({"aadObjectId": aad} if aad else {})}
    body["value"] = {
        "action": {
            "type": "Action.Execute",
            "verb": verb,
            "data": {ACTION_KEY: verb, VALUE_KEY: value},
        },
        "trigger": trigger,
    }
    return app.connector.rewrite(body)


def buttons(card: dict[str, Any]) -> list[str]:
    return [
        a["data"][ACTION_KEY]
        for b in card["body"]
        if b["type"] == "ActionSet"
        for a in b["actions"]
    ]


def texts(card: dict[str, Any]) -> str:
    return json.dumps(card["body"], ensure_ascii=False)


async def asked(app) -> tuple[dict[str, Any], str]:
    """The manager has written to the bot once; a question in the channel gets its card."""
    hello = activity("message_personal_2019", id="hello-1", text="wol help")
    hello["from"] = {"id": MANAGER, "name": "Mia Manager", "aadObjectId": MANAGER_AAD}
    assert (await app.post(app.connector.rewrite(hello))).status == 201
    question = in_durf(
        activity(
            "message_channel_reply_mention_2025",
            id=QUESTION_ID,
            text="Mag ik vragen hoe de reorganisatie gaat?",
            entities=[],
        )
    )
    question["from"] = {"id": ASKER, "name": "Sam"}
    assert (await app.post(app.connector.rewrite(question))).status == 201
    await app.deliver()
    (posted,) = [c for c in app.connector.of("reply") if c.activity_id == QUESTION_ID]
    assert posted.answer_id
    return posted.card, posted.answer_id


async def test_a_manager_acknowledges_and_the_card_changes_for_everyone(
    start_app: StartApp,  # noqa: F811
) -> None:
    app = await start_app(**SETTINGS)
    card, card_id = await asked(app)
    # the card everyone sees holds the state; the buttons go to each viewer (refresh)
    assert card["refresh"]["action"]["verb"] == "ask.view"
    assert MANAGER in card["refresh"]["userIds"] and ASKER in card["refresh"]["userIds"]
    assert buttons(card) == []

    # the manager's own version offers Acknowledge; a member's shows the state only
    mine = await app.post(
        invoke(
            app,
            "ask.view",
            "1",
            user=MANAGER,
            name="Mia Manager",
            aad=MANAGER_AAD,
            card_id=card_id,
            id_="r1",
            trigger="automatic",
        )
    )
    answer = await mine.json()
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert buttons(answer["value"]) == ["ask.ack", "ask.ack_note"]
    theirs = await (
        await app.post(
            invoke(
                app,
                "ask.view",
                "1",
                user=MEMBER,
                name="Mo",
                card_id=card_id,
                id_="r2",
                trigger="automatic",
            )
        )
    ).json()
    assert buttons(theirs["value"]) == []
    askers = await (
        await app.post(
            invoke(
                app,
                "ask.view",
                "1",
                user=ASKER,
                name="Sam",
                card_id=card_id,
                id_="r3",
                trigger="automatic",
            )
        )
    ).json()
    assert buttons(askers["value"]) == ["ask.answered"]

    # the click: answered with the updated card, and the channel's card updated (PUT)
    clicked = await app.post(
        invoke(
            app,
            "ask.ack",
            "1",
            user=MANAGER,
            name="Mia Manager",
            aad=MANAGER_AAD,
            card_id=card_id,
            id_="c1",
        )
    )
    assert clicked.status == 200
    answer = await clicked.json()
    assert answer["statusCode"] == 200
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Acknowledged by <at>Mia Manager</at>" in texts(answer["value"])
    await app.deliver()
    (update,) = await app.connector.wait_for("update")
    assert update.activity_id == card_id
    assert "Acknowledged by <at>Mia Manager</at>" in texts(update.card)
    assert update.card["refresh"]["userIds"]  # still refreshed per viewer

    # a second click changes nothing: same card, no second acknowledgement, no new PUT
    again = await (
        await app.post(
            invoke(
                app,
                "ask.ack",
                "1",
                user=MANAGER,
                name="Mia Manager",
                aad=MANAGER_AAD,
                card_id=card_id,
                id_="c2",
            )
        )
    ).json()
    assert again["value"]["body"][:-1] == update.card["body"]
    assert again["value"]["body"][-1]["text"] == "You already acknowledged this question."
    await app.deliver()
    async with app.core.db.session() as s:
        assert len((await s.exec(select(Acknowledgement))).all()) == 1
    assert len(app.connector.of("update")) == 1


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("en", "Acknowledging questions is for managers"),
        ("nl", "Vragen waarderen is voor leidinggevenden"),
    ],
)
async def test_a_members_click_gets_the_card_back_with_the_reason(
    start_app: StartApp,  # noqa: F811
    language: str,
    reason: str,
) -> None:
    app = await start_app(workspaces={WS: {**SETTINGS["workspaces"][WS], "language": language}})
    card, card_id = await asked(app)
    answer = await (
        await app.post(
            invoke(app, "ask.ack", "1", user=MEMBER, name="Mo", card_id=card_id, id_="m1")
        )
    ).json()
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert buttons(answer["value"]) == []
    # the card as it was (state, no buttons for a member), and the reason under it
    assert answer["value"]["body"][:-1] == card["body"]
    assert reason in answer["value"]["body"][-1]["text"]
    await app.deliver()
    async with app.core.db.session() as s:
        assert (await s.exec(select(Acknowledgement))).all() == []
    assert app.connector.of("update") == []


async def test_a_manager_teams_cannot_match_keeps_the_buttons_on_the_shared_card(
    start_app: StartApp,  # noqa: F811
) -> None:
    """A manager listed by object id who never wrote to the bot has no Teams id yet: the
    shared card keeps its buttons rather than hiding them from that manager."""
    app = await start_app(
        workspaces={
            WS: {**SETTINGS["workspaces"][WS], "managers": [MANAGER_AAD, "a-stranger-object-id"]}
        }
    )
    card, _card_id = await asked(app)
    assert card["refresh"]["userIds"] == [MANAGER, ASKER]
    assert buttons(card) == ["ask.ack", "ask.ack_note", "ask.answered"]
