"""Rate-limited fan-out through the core's outbox and delivery worker into the fake Slack API.

Slack allows about one message per second per channel; the test scales that down
(`min_interval`, and the fake's `per_channel_interval`) so 50 messages take seconds.
"""

from __future__ import annotations

import itertools

import pytest

from adapters.slack.port import SlackPort, StaticToken
from bot.app import build
from bot.messages import OutboundMessage
from bot.ports import Destination
from tests.conftest import make_settings

INTERVAL = 0.1
# The fake enforces a slightly shorter interval: requests paced by the worker may still
# arrive a little closer together (scheduling jitter), as they would at Slack.
FAKE_INTERVAL = INTERVAL * 0.7


@pytest.fixture
async def core_with_slack(slack_api, sqlite_url):
    core = build(make_settings(sqlite_url, delivery={"base_backoff_seconds": 0.05}))
    port = SlackPort(StaticToken("xoxb-test"), base_url=slack_api.url)
    port.min_interval = INTERVAL
    core.register_port(port)
    await core.start()
    yield core
    await core.stop()
    await port.close()


async def test_fifty_messages_to_one_channel_all_delivered_once_within_the_limit(
    core_with_slack, slack_api
):
    slack_api.per_channel_interval = FAKE_INTERVAL  # the fake answers 429 to anything faster
    slack_api.rate_limit("chat.postMessage", retry_after=1)  # and Slack says "slow down" once
    dest = Destination(workspace_id="slack:T111", channel_id="C_FANOUT")
    for n in range(50):
        queued = await core_with_slack.outbox.send(
            "slack", dest, OutboundMessage.text(f"message {n}"), key=f"fanout:{n}"
        )
        assert queued
    # enqueuing the same keys again (a retried event) adds nothing
    for n in range(50):
        assert not await core_with_slack.outbox.send(
            "slack", dest, OutboundMessage.text(f"message {n}"), key=f"fanout:{n}"
        )

    await slack_api.wait_for("chat.postMessage", 50, timeout=30)
    await slack_api.settle(0.3)
    delivered = slack_api.calls_to("chat.postMessage", ok_only=True)
    texts = [c.args["text"] for c in delivered]
    assert sorted(texts) == sorted(f"message {n}" for n in range(50))  # each exactly once
    # the only refusal is the one we injected: the worker never went faster than the limit
    refused = [c for c in slack_api.calls_to("chat.postMessage") if c.error]
    assert len(refused) == 1 and refused[0].status == 429
    gaps = [b.at - a.at for a, b in itertools.pairwise(delivered)]
    assert min(gaps) >= FAKE_INTERVAL
    # after the 429 the worker waited for Retry-After before the next request
    after = [c for c in slack_api.calls_to("chat.postMessage") if c.at > refused[0].at]
    assert after[0].at - refused[0].at >= 0.95


async def test_two_channels_are_paced_independently(core_with_slack, slack_api):
    slack_api.per_channel_interval = FAKE_INTERVAL
    for channel in ("C_A", "C_B"):
        dest = Destination(workspace_id="slack:T111", channel_id=channel)
        for n in range(5):
            await core_with_slack.outbox.send(
                "slack", dest, OutboundMessage.text(f"{channel} {n}"), key=f"{channel}:{n}"
            )
    await slack_api.wait_for("chat.postMessage", 10, timeout=10)
    assert not [c for c in slack_api.calls_to("chat.postMessage") if c.error]


async def test_permanent_error_is_not_retried(core_with_slack, slack_api):
    slack_api.fail("chat.postMessage", "channel_not_found", times=None)
    dest = Destination(workspace_id="slack:T111", channel_id="C_GONE")
    await core_with_slack.outbox.send("slack", dest, OutboundMessage.text("x"), key="gone")
    await slack_api.wait_for("chat.postMessage", ok_only=False)
    await slack_api.settle(0.5)
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_transient_error_is_retried_with_backoff(core_with_slack, slack_api):
    slack_api.fail("chat.postMessage", "internal_error", status=500, times=2)
    dest = Destination(workspace_id="slack:T111", channel_id="C_FLAKY")
    await core_with_slack.outbox.send("slack", dest, OutboundMessage.text("x"), key="flaky")
    await slack_api.wait_for("chat.postMessage", 1, timeout=10)
    calls = slack_api.calls_to("chat.postMessage")
    assert [c.error for c in calls] == ["internal_error", "internal_error", None]
