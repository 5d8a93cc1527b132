"""The "Narrate my work" button under `/wol help` in the app's DM (issue 20 item 2; the same
button Teams opens as a dialog) opens the same modal as the shortcut and the App Home
button; its submission is a private narration. In a channel the help has no button."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from bot.features.share_work import NARRATE_BUTTON
from bot.store.tables import Narration
from tests.adapters.slack.test_slack_http_e2e import wol
from tests.adapters.slack.test_slack_surfaces_e2e import submission


def narrate_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == NARRATE_BUTTON
    ]


@pytest.mark.parametrize(
    ("locale", "label", "error", "topic"),
    [
        (
            "en-US",
            "Narrate my work",
            "Tell me in a few words what you are working on.",
            "the travel policy FAQ",
        ),
        (
            "nl-NL",
            "Hardop werken",
            "Vertel in een paar woorden waar je mee bezig bent.",
            "het nieuwe reisbeleid voor de regio",
        ),
    ],
)
async def test_the_help_in_the_dm_opens_the_narrate_modal(
    serve_slack, payload, slack_api, locale: str, label: str, error: str, topic: str
) -> None:
    slack_api.add_user("W111", locale=locale)
    core, slack = await serve_slack()
    body = wol(payload, slack_api, "", channel_id="D111", channel_name="directmessage")
    assert (await slack.command(body))[0] == 200
    [answer] = await slack_api.wait_for("response_url")
    (button,) = narrate_buttons(answer.args["blocks"])
    assert button["text"]["text"] == label

    click = payload("interactivity/block_actions.json")
    click["container"] = {
        "type": "message",
        "message_ts": "111.222",
        "channel_id": "D111",
        "is_ephemeral": True,
    }
    click["channel"] = {"id": "D111", "name": "directmessage"}
    click["actions"] = [{**button, "block_id": "b", "action_ts": "1596530385.194939"}]
    assert (await slack.interaction(click))[0] == 200
    [opened] = await slack_api.wait_for("views.open")
    view = opened.args["view"]
    assert opened.args["trigger_id"] == click["trigger_id"]
    assert view["callback_id"] == "wol_narrate" and view["title"]["text"] == label

    _, text = await slack.interaction(submission(payload, view, "hmm", "t.1"))
    assert json.loads(text) == {"response_action": "errors", "errors": {"text": error}}
    assert (await slack.interaction(submission(payload, view, topic, "t.2"))) == (200, "")
    async with core.db.session() as s:
        (stored,) = (await s.exec(select(Narration))).all()
    assert stored.topic == topic and stored.visibility == "dm" and stored.author_id == "W111"
    # the answer is for the person alone, in their DM with the app; no channel gets a post
    [confirm] = await slack_api.wait_for("chat.postEphemeral")
    assert (confirm.args["channel"], confirm.args["user"]) == ("D111", "W111")
    assert topic in confirm.args["text"]
    assert slack_api.calls_to("chat.postMessage") == []


async def test_the_help_in_a_channel_has_no_narrate_button(serve_slack, payload, slack_api):
    _core, slack = await serve_slack()
    assert (await slack.command(wol(payload, slack_api, "help")))[0] == 200
    [answer] = await slack_api.wait_for("response_url")
    assert "Commands:" in json.dumps(answer.args)
    assert narrate_buttons(answer.args["blocks"]) == []
