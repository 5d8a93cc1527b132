"""The check-in is one message on every chat tool: in Slack's DM it carries "Narrate my
work" too (the Teams dialog: tests/adapters/teams/test_teams_checkin.py). Its click opens
the narrate modal; what is submitted answers the check-in as the same text typed in the DM
would (bot/features/checkin_form.py): a check-in narration and the same "Thanks!"."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.features.checkin_form import NARRATE_BUTTON
from bot.features.checkins import run_checkins
from bot.store.tables import Narration
from tests.adapters.slack.test_slack_http_e2e import wol
from tests.adapters.slack.test_slack_surfaces_e2e import submission

WS = "slack:T111"
MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam, the person's time zone


@pytest.mark.parametrize(
    ("language", "ask", "hint", "label", "error", "thanks", "topic"),
    [
        (
            "language en",
            "What are you working on this week?",
            "Answer here in a sentence or two, or use the *Narrate my work* button below to write "
            "it in a form.",
            "Narrate my work",
            "Tell me in a few words what you are working on.",
            "Thanks! Colleagues working on something similar can find you now.",
            "the travel policy FAQ for the regions",
        ),
        (
            "taal nl",
            "Waar ben je deze week mee bezig?",
            "Antwoord hier in een zin of twee, of schrijf het in een formulier met de knop "
            "*Hardop werken* hieronder.",
            "Hardop werken",
            "Vertel in een paar woorden waar je mee bezig bent.",
            "Dank je! Collega's die met iets vergelijkbaars bezig zijn, kunnen je nu vinden.",
            "het nieuwe reisbeleid voor de regio",
        ),
    ],
)
async def test_the_checkin_in_the_dm_opens_the_narrate_modal(
    serve_slack, payload, slack_api, language, ask, hint, label, error, thanks, topic
) -> None:
    slack_api.add_user("W111")
    core, slack = await serve_slack(workspaces={WS: {"defaults": {"checkins": True}}})
    chosen = wol(payload, slack_api, language, channel_id="D111", channel_name="directmessage")
    assert (await slack.command(chosen))[0] == 200
    await slack_api.wait_for("response_url")

    assert (await run_checkins(core, MONDAY))["sent"] == 1
    [card] = await slack_api.wait_for("chat.postMessage")
    assert ask in card.args["text"]
    buttons = [e for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    (button,) = [b for b in buttons if b["action_id"] == NARRATE_BUTTON]
    assert button["text"]["text"] == label and button["value"] == "W111"
    # the hint under the question names that button, in bold
    hints = [
        e["text"] for b in card.args["blocks"] if b["type"] == "context" for e in b["elements"]
    ]
    assert any(hint in h for h in hints), hints

    click = payload("interactivity/block_actions.json")
    channel = card.args["channel"]
    click["container"] = {"type": "message", "message_ts": "111.222", "channel_id": channel}
    click["channel"] = {"id": channel, "name": "directmessage"}
    click["actions"] = [{**button, "block_id": "b", "action_ts": "1596530385.194939"}]
    assert (await slack.interaction(click))[0] == 200
    [opened] = await slack_api.wait_for("views.open")
    view = opened.args["view"]
    assert view["title"]["text"] == label

    _, text = await slack.interaction(submission(payload, view, "", "t.1"))
    assert json.loads(text) == {"response_action": "errors", "errors": {"text": error}}
    assert (await slack.interaction(submission(payload, view, topic, "t.2"))) == (200, "")
    async with core.db.session() as s:
        (stored,) = (await s.exec(select(Narration))).all()
    assert (stored.author_id, stored.topic) == ("W111", topic)
    assert (stored.visibility, stored.source) == ("dm", "checkin")
    posts = await slack_api.wait_for("chat.postMessage", count=2)
    assert posts[1].args["channel"] == channel and posts[1].args["text"] == thanks
