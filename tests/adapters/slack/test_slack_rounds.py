"""A round's summary through Slack (issue 16, item 6): one chat.postMessage in the question's
thread with reply_broadcast, so the channel sees it too, and never a second post."""

from __future__ import annotations

import json

from sqlmodel import select

from adapters.slack.render import post_options
from bot.messages import OutboundMessage
from bot.store.tables.rhythms import DialogueRound
from tests.adapters.slack.test_slack_features import wol

WS = "slack:T111"
SETTINGS = {
    "workspaces": {
        WS: {"admins": ["W111"], "channels": {"CROUND": {"kind": "dialogue", "language": "nl"}}}
    }
}


def test_post_options_only_for_a_broadcast_thread_reply() -> None:
    summary = OutboundMessage.text("x").model_copy(update={"broadcast": True})
    assert post_options(summary, "1700.1") == {"reply_broadcast": True}
    assert post_options(summary, None) == {}
    assert post_options(OutboundMessage.text("x"), "1700.1") == {}


async def test_summary_is_one_broadcast_reply(serve_slack, payload, slack_api) -> None:
    core, slack = await serve_slack(**SETTINGS)
    await slack.command(
        wol(payload, slack_api, "ronde nu", "now", channel_id="CROUND", channel_name="ronde")
    )
    await slack_api.wait_for("chat.postMessage", count=1)
    await core.delivery.drain()
    async with core.db.session() as s:
        row = (await s.exec(select(DialogueRound))).one()
    question_ts = await core.outbox.result_message_id(row.posted_key)
    assert question_ts
    for i, user in enumerate(("W201", "W202", "W203")):
        body = payload("events/event_callback_message.json")
        body["event_id"] = f"EvAnswer{i}"
        body["event"].update(
            channel="CROUND",
            user=user,
            text=f"Mijn antwoord nummer {i}",
            ts=f"1700000300.00010{i}",
            event_ts=f"1700000300.00010{i}",
            thread_ts=question_ts,
            channel_type="channel",
        )
        body["event"].pop("blocks", None)
        assert (await slack.event(body))[0] == 200
    await slack.processed()
    await slack.command(
        wol(payload, slack_api, "ronde sluit", "close", channel_id="CROUND", channel_name="ronde")
    )
    await slack_api.wait_for("chat.postMessage", count=2)
    await core.delivery.drain()
    posts = [
        p
        for p in await slack_api.wait_for("chat.postMessage", count=2)
        if p.args.get("channel") == "CROUND"
    ]
    summaries = [p for p in posts if "afgesloten" in json.dumps(p.args, ensure_ascii=False)]
    assert len(summaries) == 1
    args = summaries[0].args
    assert args["thread_ts"] == question_ts and args["reply_broadcast"] in (True, "true", "1")
    assert "3 collega's antwoordden." in json.dumps(args, ensure_ascii=False)
