"""`/wol privacy forget` in Teams (QA): the click on the confirmation is answered with the
result as the card itself (Universal Actions), without buttons; a stale copy clicked again
after the erasure brings no person back and says nothing is kept, in the person's language."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from adapters.teams.inbound import ACTION_KEY
from bot.store.tables.core import Person
from bot.store.tables.teams import TeamsMember
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
CASES = {
    "en": (
        "en-US",
        "wol privacy forget",
        "Done: I erased",
        "There was nothing left to erase: I keep nothing about you any more.",
        "Nothing to cancel: I keep nothing about you any more.",
    ),
    "nl": (
        "nl-NL",
        "wol privacy vergeet",
        "Klaar: ik heb",
        "Er viel niets meer te wissen: ik bewaar niets meer over je.",
        "Er valt niets te annuleren: ik bewaar niets meer over je.",
    ),
}


def said(app, text: str, id_: str, locale: str) -> dict[str, Any]:
    return app.connector.rewrite(
        activity("message_personal_2019", text=text, id=id_, locale=locale)
    )


async def stored(app, model: Any) -> int:
    async with app.core.db.session() as s:
        return len((await s.exec(select(model).where(model.workspace_id == WS))).all())


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_the_click_answers_with_the_result_as_the_card(
    start_app: StartApp,  # noqa: F811
    lang: str,
) -> None:
    locale, command, done, nothing_left, nothing_to_cancel = CASES[lang]
    app = await start_app()
    person = said(app, command, "f1", locale)
    if lang == "nl":
        assert (await app.post(said(app, "wol taal nl", "f0", locale))).status == 201
        await app.deliver()
    assert (
        await app.post(
            app.connector.rewrite(said(app, "I'm working on the archive migration", "n1", locale))
        )
    ).status == 201
    assert (await app.post(person)).status == 201
    await app.deliver()
    [posted] = [
        c
        for c in app.connector.of("send", "reply")
        if c.card and "privacy.forget" in json.dumps(c.card)
    ]
    assert await stored(app, Person) == 1

    async def click(verb: str, id_: str) -> dict[str, Any]:
        [data] = [
            a["data"]
            for b in posted.card["body"]
            if b["type"] == "ActionSet"
            for a in b["actions"]
            if a["data"][ACTION_KEY] == verb
        ]
        body = activity(
            "invoke_adaptiveCard_action_execute_2026",
            id=id_,
            locale=locale,
            replyToId=posted.answer_id,
        )
        body.update(conversation=person["conversation"], **{"from": person["from"]})
        body["value"] = {
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        }
        response = await app.post(app.connector.rewrite(body))
        assert response.status == 200
        answer = await response.json()
        await app.deliver()
        assert answer["type"] == "application/vnd.microsoft.card.adaptive"
        assert not [b for b in answer["value"]["body"] if b["type"] == "ActionSet"]
        return answer["value"]

    assert done in json.dumps(await click("privacy.forget.confirm", "y1"), ensure_ascii=False)
    assert await stored(app, Person) == 0 and await stored(app, TeamsMember) == 0
    assert await app.core.narrations.count(WS) == 0
    again = json.dumps(await click("privacy.forget.confirm", "y2"), ensure_ascii=False)
    assert nothing_left in again
    cancel = json.dumps(await click("privacy.forget.cancel", "n2"), ensure_ascii=False)
    assert nothing_to_cancel in cancel
    assert await stored(app, Person) == 0 and await stored(app, TeamsMember) == 0
