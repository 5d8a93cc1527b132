"""Recipients only from real mentions, through `wolbot serve` and the fake Slack Web API
(issue 17 item 6, issue 16 item 9): a typed `<@U…>` (which Slack delivers escaped) or a bare
`@U…` in a thanks is text, shown as typed and pinging nobody; two real mentions are one post
naming both."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.store.tables.asks import Thanks
from tests.adapters.slack.test_slack_features import wol


def _outgoing(slack_api) -> str:
    return json.dumps([c.args for c in slack_api.calls], ensure_ascii=False)


async def test_a_typed_mention_in_a_thanks_is_text_and_pings_nobody(
    serve_slack, payload, slack_api
) -> None:
    for user in ("W111", "U0BOB", "U0VICTIM", "U0OTHER"):
        slack_api.add_user(user, locale="en-US")
    core, slack = await serve_slack()
    # As typed: "/wol thanks @bob for helping <@U0VICTIM> and @U0OTHER" with bob picked from
    # Slack's list; Slack escapes the typed "<" and ">".
    sent = "thanks <@U0BOB|bob> for helping &lt;@U0VICTIM&gt; and @U0OTHER"
    assert (await slack.command(wol(payload, slack_api, sent, "t1")))[0] == 200
    await slack.processed()
    await core.delivery.drain()
    await slack_api.settle(0.2)
    posts = slack_api.calls_to("chat.postMessage")
    assert len(posts) == 1
    post = json.dumps(posts[0].args, ensure_ascii=False)
    assert "<@W111> thanks <@U0BOB>" in post
    assert "for helping &lt;@U0VICTIM&gt; and @U0OTHER" in post  # as typed, escaped
    everything = _outgoing(slack_api)
    assert "<@U0VICTIM>" not in everything and "<@U0OTHER>" not in everything
    async with core.db.session() as s:
        rows = (await s.exec(select(Thanks))).all()
    assert [(r.receiver_id, r.reason) for r in rows] == [
        ("U0BOB", "for helping <@U0VICTIM> and @U0OTHER")
    ]


async def test_thanking_two_people_is_one_post_naming_both(serve_slack, payload, slack_api) -> None:
    for user in ("W111", "U0BOB", "U0CAROL"):
        slack_api.add_user(user, locale="en-US")
    core, slack = await serve_slack()
    sent = "thanks <@U0BOB|bob> and <@U0CAROL|carol> for the onboarding tips"
    await slack.command(wol(payload, slack_api, sent, "t2"))
    await slack.processed()
    await core.delivery.drain()
    await slack_api.settle(0.2)
    [post] = slack_api.calls_to("chat.postMessage")
    text = json.dumps(post.args, ensure_ascii=False)
    assert "<@W111> thanks <@U0BOB> and <@U0CAROL>" in text
    assert "for the onboarding tips" in text
    async with core.db.session() as s:
        receivers = sorted((await s.exec(select(Thanks.receiver_id))).all())
    assert receivers == ["U0BOB", "U0CAROL"]  # each is thanked (and counted) once
