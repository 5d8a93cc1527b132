"""A click on a suggestion's "Connect me" in Slack (issue 20 item 1): the suggestion in the
thread is updated in place (`chat.update`), its buttons giving way to the new state, and a
second click changes nothing."""

from __future__ import annotations

import json

from tests.adapters.slack.test_slack_http_e2e import narration_event


async def test_connect_me_updates_the_suggestion_in_place(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    alice = narration_event(
        payload,
        text="I'm working on moving our CI from Jenkins to GitHub Actions",
        event_id="Ev1",
        ts="1700000100.000100",
        user="W111",
    )
    bob = narration_event(
        payload,
        text="Ik werk aan het overzetten van onze Jenkins-jobs naar GitHub Actions",
        event_id="Ev2",
        ts="1700000200.000200",
        user="W222",
    )
    assert (await slack.event(alice))[0] == 200
    await slack.processed()
    await core.delivery.drain()
    assert (await slack.event(bob))[0] == 200
    await slack.processed()
    await core.delivery.drain()
    posts = [
        c
        for c in slack_api.calls_to("chat.postMessage")
        if c.args.get("thread_ts") == "1700000200.000200"
        and "matching.connect" in json.dumps(c.args)
    ]
    assert len(posts) == 1, [c.args for c in slack_api.calls_to("chat.postMessage")]
    (post,) = posts
    (ts,) = [m["ts"] for m in slack_api.messages["C111"] if m["thread_ts"] == "1700000200.000200"]
    blocks = (
        post.args["blocks"]
        if isinstance(post.args["blocks"], list)
        else json.loads(post.args["blocks"])
    )
    connect = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "matching.connect"
    )
    click = payload("interactivity/block_actions.json")
    click["user"] = {"id": "W222", "username": "bob", "name": "bob", "team_id": "T111"}
    click["channel"] = {"id": "C111", "name": "general"}
    click["container"] = {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C111",
        "thread_ts": "1700000200.000200",
    }
    click["message"] = {"ts": ts, "type": "message", "thread_ts": "1700000200.000200"}
    click["actions"][0].update(action_id="matching.connect", value=connect["value"])
    click["response_url"] = slack_api.response_url("connect")
    assert (await slack.interaction(click))[0] == 200
    await slack.processed()
    await core.delivery.drain()
    (update,) = await slack_api.wait_for("chat.update", count=1)
    assert update.args["ts"] == ts and update.args["channel"] == "C111"
    updated = json.dumps(update.args, ensure_ascii=False)
    assert "matching.connect" not in updated
    # a second click changes nothing
    click["response_url"] = slack_api.response_url("again")
    click["trigger_id"] = "trigger-again"
    click["actions"][0]["action_ts"] = "1700000999.000001"
    assert (await slack.interaction(click))[0] == 200
    await slack.processed()
    await core.delivery.drain()
    assert len(slack_api.calls_to("chat.update")) == 1
