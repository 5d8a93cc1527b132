"""Role lists in app.yaml name Teams people by their Entra ID object id (`aadObjectId`):
the same rule for admins and managers, checked through the adapter (issue 20)."""

from __future__ import annotations

import json

from sqlmodel import select

from adapters.teams.inbound import ACTION_KEY, VALUE_KEY
from bot.store.tables.admin import AuditEntry
from bot.store.tables.asks import Acknowledgement, Question
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
ASKER = "29:asker-in-the-durf-channel"
MANAGER = "29:manager-bot-framework-id"
MANAGER_AAD = "6b703ce3-6d14-4fe6-b90c-dc5f03657ae4"
ADMIN = "29:admin-bot-framework-id"
ADMIN_AAD = "0f3b8c2e-1d4a-4e5b-9c6d-7e8f9a0b1c2d"
DURF = "19:durf-te-vragen@thread.tacv2"
SETTINGS = {
    "workspaces": {
        WS: {
            "admins": [ADMIN_AAD],
            "managers": [MANAGER_AAD],
            "channels": {DURF: {"kind": "durf-te-vragen", "anonymous": True}},
        }
    }
}


def personal(
    app, text: str, *, user: str, aad: str | None, id_: str, locale: str = "en-US"
) -> dict:
    body = activity("message_personal_2019", id=id_, text=text, locale=locale)
    body["from"] = {"id": user, "name": user.removeprefix("29:")}
    if aad:
        body["from"]["aadObjectId"] = aad
    body["conversation"] = {**body["conversation"], "id": f"a:personal-{user}"}
    return app.connector.rewrite(body)


def click(
    app, verb: str, value: str, *, user: str, aad: str, id_: str, locale: str = "en-US"
) -> dict:
    body = activity("invoke_adaptiveCard_action_execute_2026", id=id_, locale=locale)
    body["from"] = {"id": user, "name": "Mia Manager", "aadObjectId": aad}
    body["conversation"] = {"id": DURF, "conversationType": "channel", "tenantId": TENANT}
    body["channelData"] = {"tenant": {"id": TENANT}, "channel": {"id": DURF}}
    body["value"] = {
        "action": {
            "type": "Action.Execute",
            "verb": verb,
            "data": {ACTION_KEY: verb, VALUE_KEY: value},
        },
        "trigger": "manual",
    }
    return app.connector.rewrite(body)


async def test_a_manager_listed_by_object_id_acknowledges(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(**SETTINGS)
    # a top-level message in the durf-te-vragen channel is a question
    asked = activity(
        "message_channel_reply_mention_2025",
        id="1767765488332",
        text="Mag ik vragen hoe de reorganisatie gaat?",
        entities=[],
    )
    asked["from"] = {"id": ASKER, "name": "Sam"}
    asked["conversation"] = {"id": DURF, "conversationType": "channel", "tenantId": TENANT}
    asked["channelData"] = {"tenant": {"id": TENANT}, "channel": {"id": DURF}}
    assert (await app.post(app.connector.rewrite(asked))).status == 201
    async with app.core.db.session() as s:
        question = (await s.exec(select(Question))).one()
    answer = await app.post(
        click(app, "ask.ack", str(question.id), user=MANAGER, aad=MANAGER_AAD, id_="click-1")
    )
    assert answer.status == 200
    async with app.core.db.session() as s:
        (ack,) = (await s.exec(select(Acknowledgement))).all()
    assert ack.manager_id == MANAGER
    await app.deliver()
    sent = json.dumps([c.body for c in app.connector.of("send", "reply")], ensure_ascii=False)
    assert "Acknowledging questions is for managers" not in sent
    assert "Great that you ask this!" in sent


async def test_a_member_without_the_object_id_is_refused(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(**SETTINGS)
    await app.post(personal(app, "wol ask Wat is de planning?", user=ASKER, aad=None, id_="q1"))
    async with app.core.db.session() as s:
        question = (await s.exec(select(Question))).one()
    answer = await app.post(
        click(
            app,
            "ask.ack",
            str(question.id),
            user="29:someone-else",
            aad="11111111-2222-4333-8444-555555555555",
            id_="click-2",
        )
    )
    async with app.core.db.session() as s:
        assert (await s.exec(select(Acknowledgement))).all() == []
    # told in the click's answer, to the clicker alone
    assert "Acknowledging questions is for managers" in json.dumps(await answer.json())


async def test_an_admin_listed_by_object_id_configures(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(**SETTINGS)
    assert (
        await app.post(
            personal(app, "wol config set nudges.ack_hours 6", user=ADMIN, aad=ADMIN_AAD, id_="c1")
        )
    ).status == 201
    # the manager (by object id) is not an admin: roles stay apart (asked in Dutch)
    assert (
        await app.post(personal(app, "wol taal nl", user=MANAGER, aad=MANAGER_AAD, id_="c1b"))
    ).status == 201
    assert (
        await app.post(
            personal(
                app,
                "wol config set nudges.ack_hours 9",
                user=MANAGER,
                aad=MANAGER_AAD,
                id_="c2",
                locale="nl-NL",
            )
        )
    ).status == 201
    await app.deliver()
    assert await app.core.config.value(WS, "nudges.ack_hours") == 6
    async with app.core.db.session() as s:
        assert [e.actor_id for e in await s.exec(select(AuditEntry))] == [ADMIN]
    sent = json.dumps([c.body for c in app.connector.of("send", "reply")], ensure_ascii=False)
    assert "nudges.ack_hours is now 6" in sent
    assert "Alleen wolbot-beheerders kunnen" in sent  # the manager asked in Dutch
