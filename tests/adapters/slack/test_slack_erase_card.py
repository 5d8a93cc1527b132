"""`/wol privacy forget` in Slack (QA): the confirmation is an only-you message, so the
click replaces it through its response_url (`replace_original`), by the result without
buttons; a stale copy clicked again after the erasure brings no person row back and says
so, in the person's language."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import select

from bot.store.tables.core import Person
from tests.adapters.slack.test_slack_features import SETTINGS, WS, wol

CASES = {
    "en": (
        "privacy forget",
        "Yes, erase my data",
        "Done: I erased",
        "There was nothing left to erase: I keep nothing about you any more.",
    ),
    "nl": (
        "privacy vergeet",
        "Ja, wis mijn gegevens",
        "Klaar: ik heb",
        "Er viel niets meer te wissen: ik bewaar niets meer over je.",
    ),
}


async def answer(slack_api, hook: str) -> str:
    """The post on response_url `hook` (waiting for it)."""
    for _ in range(100):
        found = [c for c in slack_api.calls_to("response_url") if c.path == hook]
        if found:
            return json.dumps(found[-1].args, ensure_ascii=False)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer on {hook}")


async def people(core) -> list[str]:
    async with core.db.session() as s:
        return list(await s.exec(select(Person.user_id).where(Person.workspace_id == WS)))


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_yes_replaces_the_card_and_a_stale_yes_changes_nothing(
    serve_slack, payload, slack_api, lang
):
    command, yes_label, done, nothing_left = CASES[lang]
    core, slack = await serve_slack(**SETTINGS)
    slack_api.add_user("W111", name="alice", display_name="Alice de Wit")
    if lang == "nl":
        await slack.command(wol(payload, slack_api, "taal nl", "lang"))
        await answer(slack_api, "lang")
    await slack.command(wol(payload, slack_api, "working on the archive migration", "n"))
    await answer(slack_api, "n")
    await slack.command(wol(payload, slack_api, command, "card"))
    card = json.loads(await answer(slack_api, "card"))
    [yes] = [
        e
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "privacy.forget.confirm"
    ]
    assert yes["text"]["text"] == yes_label
    assert await people(core) == ["W111"]

    async def click(hook: str) -> dict:
        body = payload("interactivity/block_actions.json")
        body["user"] = {"id": "W111", "username": "alice", "name": "alice", "team_id": "T111"}
        body["channel"] = {"id": "C111", "name": "general"}
        body["container"] = {
            "type": "message",
            "message_ts": "1700000300.000300",
            "channel_id": "C111",
            "is_ephemeral": True,
        }
        body["message"] = {"ts": "1700000300.000300", "type": "message"}
        body["actions"][0].update(
            action_id="privacy.forget.confirm",
            value=yes["value"],
            action_ts=f"17000004{len(hook)}.000001",
        )
        body["response_url"] = slack_api.response_url(hook)
        body["trigger_id"] = f"trigger-{hook}"
        assert (await slack.interaction(body))[0] == 200
        await core.delivery.drain()
        return json.loads(await answer(slack_api, hook))

    replaced = await click("yes")
    assert replaced["replace_original"] is True  # the card itself, not a new message
    assert done in json.dumps(replaced, ensure_ascii=False)
    assert not [b for b in replaced["blocks"] if b["type"] == "actions"]
    assert await people(core) == [] and await core.narrations.count(WS) == 0
    again = await click("yes-again")  # the same card, clicked again
    assert again["replace_original"] is True
    assert nothing_left in json.dumps(again, ensure_ascii=False)
    assert await people(core) == []
    assert (
        slack_api.calls_to("chat.update") == [] and slack_api.calls_to("chat.postEphemeral") == []
    )
