""" "Narrate my work" in Teams (issue 20 item 2): the welcome and the help in the personal
chat carry the button; its click opens the narrate form as a dialog (`task/fetch`); a too
short text shows the dialog again with the error; a valid one is kept as a private
narration of the personal chat (nothing goes to any channel) and the person is answered,
in English and in Dutch."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from adapters.teams.inbound import ACTION_KEY
from bot.features.share_work import NARRATE_BUTTON
from bot.store.tables import Narration
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_dialogs import inputs, submit_data, task
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)

PERSONAL = activity("message_personal_2019")
PERSON = PERSONAL["from"]["id"]


def narrate_buttons(card: dict[str, Any] | None) -> list[dict[str, Any]]:
    assert card is not None
    return [
        a
        for b in card["body"]
        if b["type"] == "ActionSet"
        for a in b["actions"]
        if a["data"].get(ACTION_KEY) == NARRATE_BUTTON
    ]


@pytest.mark.parametrize(
    ("locale", "help_", "label", "error", "noted", "topic"),
    [
        (
            "en-US",
            "wol help",
            "Narrate my work",
            "Tell me in a few words what you are working on.",
            "Noted, thanks for working out loud:",
            "the supplier contract review for Q3",
        ),
        (
            "nl-NL",
            "wol hulp",
            "Hardop werken",
            "Vertel in een paar woorden waar je mee bezig bent.",
            "Genoteerd, fijn dat je hardop werkt:",
            "de nieuwe roosterplanning voor de zorg",
        ),
    ],
)
async def test_narrate_my_work_opens_a_dialog_in_the_personal_chat(
    start_app: StartApp,  # noqa: F811
    locale: str,
    help_: str,
    label: str,
    error: str,
    noted: str,
    topic: str,
) -> None:
    app = await start_app()
    installed = app.connector.rewrite(activity("conversationUpdate_bot_added_to_team_docs_2021"))
    installed["conversation"] = {
        "conversationType": "personal",
        "id": PERSONAL["conversation"]["id"],
        "tenantId": installed["conversation"]["tenantId"],
    }
    installed["locale"] = locale
    del installed["channelData"]["team"]
    assert (await app.post(installed)).status == 201
    await app.deliver()
    (welcome,) = await app.connector.wait_for("send")
    (button,) = narrate_buttons(welcome.card)
    assert button["title"] == label and button["type"] == "Action.Submit"
    assert button["data"]["msteams"]["type"] == "task/fetch"  # only this click opens a dialog

    said = activity("message_personal_2019", id="h1", locale=locale, text=help_)
    assert (await app.post(app.connector.rewrite(said))).status == 201
    await app.deliver()
    (_, answer) = await app.connector.wait_for("send", count=2)
    assert narrate_buttons(answer.card) == [button]  # one button, the same in both

    opened = await app.post(task(app, "task/fetch", button["data"], locale=locale, id_="f1"))
    assert opened.status == 200
    dialog = await opened.json()
    assert dialog["task"]["type"] == "continue" and dialog["task"]["value"]["title"] == label
    assert set(inputs(dialog)) == {"text"}

    for wrong, id_ in (("", "s1"), ("hmm", "s2")):
        again = await (
            await app.post(
                task(
                    app,
                    "task/submit",
                    {**submit_data(dialog), "text": wrong},
                    locale=locale,
                    id_=id_,
                )
            )
        ).json()
        assert again["task"]["type"] == "continue"
        body = again["task"]["value"]["card"]["content"]["body"]
        assert error in [b.get("text") for b in body]
    async with app.core.db.session() as s:
        assert (await s.exec(select(Narration))).all() == []

    done = await app.post(
        task(app, "task/submit", {**submit_data(dialog), "text": topic}, locale=locale, id_="s3")
    )
    assert done.status == 200
    answered = await done.json()
    assert answered["task"]["type"] == "message"
    assert noted in answered["task"]["value"] and topic in answered["task"]["value"]
    async with app.core.db.session() as s:
        (narration,) = (await s.exec(select(Narration))).all()
    assert narration.author_id == PERSON and narration.topic == topic
    assert narration.visibility == "dm" and narration.source == "shortcut"
    assert narration.channel_id == PERSONAL["conversation"]["id"]
    await app.deliver()
    # the dialog's answer told the person: the chat gets no second "noted"
    assert [c.op for c in app.connector.of("send", "reply", "update")] == ["send", "send"]
    # private: nothing went to a channel, a team or anyone else's chat
    assert {c.conversation_id for c in app.connector.of("send", "reply", "update")} == {
        PERSONAL["conversation"]["id"]
    }
    assert topic not in json.dumps(
        [c.body for c in app.connector.of("send", "reply")], ensure_ascii=False
    )


async def test_the_help_asked_in_a_channel_has_no_narrate_button(start_app: StartApp) -> None:  # noqa: F811
    # the button is for the personal chat's own turns (where the form's submission stays
    # private on every chat tool); a channel's help goes to the personal chat without it
    app = await start_app()
    said = app.connector.rewrite(activity("message_channel_mention_2019", text="wol help"))
    assert (await app.post(said)).status == 201
    await app.deliver()
    (answer,) = await app.connector.wait_for("send")
    assert "Commands:" in answer.card["fallbackText"]
    assert narrate_buttons(answer.card) == []
