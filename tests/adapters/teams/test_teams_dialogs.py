"""Forms open as Teams dialogs (issue 20): a posted form's button and a form-opening button
fetch a dialog (`task/fetch`); an invalid `task/submit` shows the dialog again with the
field's error; a valid one saves and closes with the answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from adapters.teams.inbound import ACTION_KEY, VALUE_KEY
from bot.store.tables.asks import Acknowledgement
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)
from tests.adapters.teams.test_teams_universal_actions import (
    MANAGER,
    MANAGER_AAD,
    SETTINGS,
    asked,
    in_durf,
)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
ADMIN = activity("message_personal_2019")["from"]["id"]
TEAM = "19:team-channel@thread.tacv2"


def task(
    app,
    name: str,
    data: dict[str, Any],
    *,
    locale: str,
    id_: str,
    user: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = activity("invoke_task_fetch_2019", id=id_, locale=locale)
    body["name"] = name
    body["value"] = {"data": data, "context": {"theme": "default"}}
    if user is not None:
        body["from"] = user
        body = in_durf(body)
    else:
        body["from"] = activity("message_personal_2019")["from"]
        body["conversation"] = activity("message_personal_2019")["conversation"]
    return app.connector.rewrite(body)


def inputs(dialog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    card = dialog["task"]["value"]["card"]["content"]
    return {e["id"]: e for e in card["body"] if e["type"] == "Input.Text"}


def submit_data(dialog: dict[str, Any]) -> dict[str, Any]:
    (submit,) = dialog["task"]["value"]["card"]["content"]["actions"]
    assert submit["type"] == "Action.Submit"
    return dict(submit["data"])


@pytest.mark.parametrize(
    ("locale", "title", "error", "saved"),
    [
        (
            "en-US",
            "Community settings",
            "every tuesday is not a schedule I can read",
            "Saved the settings of",
        ),
        (
            "nl-NL",
            "Community instellen",
            "every tuesday is geen schema dat ik kan lezen",
            "De instellingen van",
        ),
    ],
)
async def test_community_edit_opens_as_a_dialog(
    start_app: StartApp,  # noqa: F811
    locale: str,
    title: str,
    error: str,
    saved: str,
) -> None:
    app = await start_app(workspaces={WS: {"admins": [ADMIN]}})
    said = activity(
        "message_personal_2019", id="e1", locale=locale, text=f"wol config community edit #{TEAM}"
    )
    assert (await app.post(app.connector.rewrite(said))).status == 201
    await app.deliver()
    (posted,) = await app.connector.wait_for("send")
    (launch,) = posted.card["actions"]
    assert launch["type"] == "Action.Submit" and launch["data"]["msteams"]["type"] == "task/fetch"

    opened = await app.post(task(app, "task/fetch", launch["data"], locale=locale, id_="f1"))
    assert opened.status == 200
    dialog = await opened.json()
    assert dialog["task"]["type"] == "continue" and dialog["task"]["value"]["title"] == title
    assert {"community.kind", "community.rhythm", "language"} <= set(inputs(dialog))

    wrong = {**submit_data(dialog), "community.rhythm": "every tuesday", "community.theme": "AI"}
    again = await (await app.post(task(app, "task/submit", wrong, locale=locale, id_="s1"))).json()
    assert again["task"]["type"] == "continue"  # the same dialog, with the error under the field
    body = again["task"]["value"]["card"]["content"]["body"]
    texts = [b.get("text", "") for b in body]
    assert any(error in t for t in texts), texts
    assert inputs(again)["community.theme"]["value"] == "AI"  # what was typed stays
    assert await app.core.config.value(WS, "community.theme", TEAM) is None

    right = {**wrong, "community.rhythm": "0 10 * * tue"}
    done = await (await app.post(task(app, "task/submit", right, locale=locale, id_="s2"))).json()
    assert done["task"]["type"] == "message" and saved in done["task"]["value"]
    assert await app.core.config.value(WS, "community.rhythm", TEAM) == "0 10 * * tue"
    assert await app.core.config.value(WS, "community.theme", TEAM) == "AI"


async def test_acknowledge_with_a_note_opens_a_dialog(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(**SETTINGS)
    _card, card_id = await asked(app)
    manager = {"id": MANAGER, "name": "Mia Manager", "aadObjectId": MANAGER_AAD}
    view = in_durf(activity("invoke_adaptiveCard_action_execute_2026", id="v1", replyToId=card_id))
    view["from"] = manager
    view["value"] = {
        "action": {
            "type": "Action.Execute",
            "verb": "ask.view",
            "data": {ACTION_KEY: "ask.view", VALUE_KEY: "1"},
        },
        "trigger": "automatic",
    }
    mine = (await (await app.post(app.connector.rewrite(view))).json())["value"]
    note_button = next(
        a
        for b in mine["body"]
        if b["type"] == "ActionSet"
        for a in b["actions"]
        if a["data"].get(ACTION_KEY) == "ask.ack_note"
    )
    assert note_button["type"] == "Action.Submit"

    dialog = await (
        await app.post(
            task(app, "task/fetch", note_button["data"], locale="en-US", id_="f1", user=manager)
        )
    ).json()
    assert dialog["task"]["type"] == "continue" and set(inputs(dialog)) == {"note"}
    await app.deliver()  # the form is the click's answer: nothing is sent to the chat
    assert not any("wolbot_dialog" in json.dumps(c.body) for c in app.connector.of("send"))
    note = {**submit_data(dialog), "note": "Goede vraag, daar komen we op terug."}
    done = await app.post(task(app, "task/submit", note, locale="en-US", id_="s1", user=manager))
    assert done.status == 200
    async with app.core.db.session() as s:
        (ack,) = (await s.exec(select(Acknowledgement))).all()
    assert ack.manager_id == MANAGER and ack.note == "Goede vraag, daar komen we op terug."
    await app.deliver()
    posted = json.dumps([c.body for c in app.connector.of("reply")], ensure_ascii=False)
    assert "Goede vraag, daar komen we op terug." in posted
