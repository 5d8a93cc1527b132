"""Forged clicks through `wolbot serve` and the fake Slack Web API (issue 17 item 3): a
block_actions payload by the wrong person changes nothing and is answered, only to them,
with a refusal. (The property over every button is tests/core/test_authorisation.py.)"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from bot.store.tables import Narration
from bot.store.tables.asks import Acknowledgement
from bot.store.tables.matching import ProfileTopic
from tests.adapters.slack.conftest import DATA
from tests.adapters.slack.test_slack_features import wol
from tests.resilience.test_hostile_injection import message_event

SETTINGS = {
    "workspaces": {
        "slack:T111": {"managers": ["W333"], "channels": {"CDURF": {"kind": "durf-te-vragen"}}}
    }
}


def click(slack_api: Any, user: str, action_id: str, value: str, hook: str) -> dict:
    payload = json.loads((DATA / "interactivity" / "block_actions.json").read_text())
    payload["user"] = {
        "id": user,
        "username": user.lower(),
        "name": user.lower(),
        "team_id": "T111",
    }
    payload["actions"][0].update(action_id=action_id, value=value)
    payload["response_url"] = slack_api.response_url(hook)
    payload["trigger_id"] = f"trigger-{hook}"
    payload["actions"][0]["action_ts"] = f"1700000100.{len(hook):06d}{hook}"
    return payload


async def test_forged_add_and_acknowledge_change_nothing(serve_slack, payload, slack_api) -> None:
    for user in ("W111", "W222", "W333"):
        slack_api.add_user(user, locale="en-US")
    core, slack = await serve_slack(**SETTINGS)
    await slack.event(
        message_event(
            "I'm working on the onboarding checklist for new nurses",
            user="W111",
            event_id="EvN1",
            ts="1700000001.000100",
        )
    )
    await slack.command(
        wol(
            payload,
            slack_api,
            "ask Is there a plan for the rota?",
            "ask",
            user_id="W111",
            channel_id="CDURF",
            channel_name="durf",
        )
    )
    await slack.processed()
    await core.delivery.drain()
    async with core.db.session() as s:
        story = (await s.exec(select(Narration))).one()
    # W222 presses an "Add" naming W111's narration, then an Acknowledge (not a manager)
    for hook, action_id, value in (
        ("add", "matching.topic.add", str(story.id)),
        ("ack", "ask.ack", "1"),
    ):
        answer = await slack.interaction(click(slack_api, "W222", action_id, value, hook))
        assert answer[0] == 200
    await slack.processed()
    await core.delivery.drain()
    await slack_api.settle(0.2)
    async with core.db.session() as s:
        assert (await s.exec(select(ProfileTopic))).all() == []
        assert (await s.exec(select(Acknowledgement))).all() == []
    answers = {
        c.path: json.dumps(c.args, ensure_ascii=False) for c in slack_api.calls_to("response_url")
    }
    assert "isn't meant for you" in answers["add"]
    assert "for managers" in answers["ack"]
    assert all(
        c.args.get("channel") != "CDURF" or "Acknowledged" not in json.dumps(c.args)
        for c in slack_api.calls_to("chat.postMessage")
    )
