"""The message action "Share as working out loud" (issue 20): on any Teams message it opens a
dialog filled with the message (composeExtension/fetchTask); submitting it records a narration
in that conversation (composeExtension/submitAction), in Dutch and in English."""

from __future__ import annotations

from typing import Any

import pytest

from bot.store.tables import Narration
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
CHANNEL = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"


def message_action(app, name: str, value: dict[str, Any], *, locale: str, id_: str) -> dict:
    body = activity("invoke_task_fetch_2019", id=id_, locale=locale)
    body["name"] = name
    body["value"] = {"commandId": "wol_share_message", "commandContext": "message", **value}
    return app.connector.rewrite(body)


def payload(html: str) -> dict[str, Any]:
    return {
        "messagePayload": {
            "id": "1571537999000",
            "messageType": "message",
            "importance": "normal",
            "body": {"contentType": "html", "content": html},
            "from": {
                "user": {
                    "id": "0f3b8c2e-1d4a-4e5b-9c6d-7e8f9a0b1c2d",
                    "displayName": "Kim",
                    "userIdentityType": "aadUser",
                }
            },
        }
    }


@pytest.mark.parametrize(
    ("locale", "html", "title", "topic", "short"),
    [
        (
            "nl-NL",
            "<p>Ik ben bezig met de <b>nieuwe</b> roosterplanning &amp; de app</p>",
            "Deel je werk",
            "de nieuwe roosterplanning & de app",
            "Vertel in een paar woorden waar je mee bezig bent.",
        ),
        (
            "en-US",
            "<div>I'm working on the supplier <i>contract</i> review<br>for Q3</div>",
            "Share your work",
            "the supplier contract review\nfor Q3",
            "Tell me in a few words what you are working on.",
        ),
    ],
)
async def test_a_message_becomes_a_narration(
    start_app: StartApp,  # noqa: F811
    locale: str,
    html: str,
    title: str,
    topic: str,
    short: str,
) -> None:
    app = await start_app(workspaces={WS: {"language": locale[:2]}})
    fetched = await app.post(
        message_action(app, "composeExtension/fetchTask", payload(html), locale=locale, id_="f1")
    )
    assert fetched.status == 200
    dialog = await fetched.json()
    assert dialog["task"]["type"] == "continue" and dialog["task"]["value"]["title"] == title
    card = dialog["task"]["value"]["card"]["content"]
    (field,) = [b for b in card["body"] if b["type"] == "Input.Text"]
    assert "<" not in field["value"] and field["value"].split()[-1] in html
    (submit,) = card["actions"]

    too_short = {**submit["data"], field["id"]: "dit"}
    again = await (
        await app.post(
            message_action(
                app, "composeExtension/submitAction", {"data": too_short}, locale=locale, id_="s1"
            )
        )
    ).json()
    assert again["task"]["type"] == "continue"
    assert short in [b.get("text") for b in again["task"]["value"]["card"]["content"]["body"]]

    done = await app.post(
        message_action(
            app,
            "composeExtension/submitAction",
            {"data": {**submit["data"], field["id"]: field["value"]}},
            locale=locale,
            id_="s2",
        )
    )
    assert done.status == 200
    from sqlmodel import select

    async with app.core.db.session() as s:
        (narration,) = (await s.exec(select(Narration))).all()
    assert narration.topic == topic and narration.channel_id == CHANNEL
    assert narration.author_id == activity("invoke_task_fetch_2019")["from"]["id"]
    assert narration.source == "shortcut"
