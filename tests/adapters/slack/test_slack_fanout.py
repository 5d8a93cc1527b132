"""Rate-limited fan-out through the core's outbox and delivery worker into the fake Slack API.

Slack allows about one message per second per channel; the test scales that down
(`min_interval`, and the fake's `per_channel_interval`) so 50 messages take seconds.
"""

from __future__ import annotations

import itertools
import time

import pytest

from adapters.slack.port import SlackPort, StaticToken
from bot.app import build
from bot.messages import OutboundMessage
from bot.ports import Destination
from tests.conftest import make_settings

INTERVAL = 0.1
# The fake enforces a shorter interval: requests paced by the worker may still arrive a
# little closer together (scheduling jitter on a busy machine), as they would at Slack.
FAKE_INTERVAL = INTERVAL * 0.5


class TimedPort(SlackPort):
    """Records when the delivery worker calls `send`: the pacing it controls."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.send_times: list[float] = []

    async def _send(self, dest, message, metadata=None):  # send and send_tagged
        self.send_times.append(time.monotonic())
        return await super()._send(dest, message, metadata)


@pytest.fixture
async def core_with_slack(slack_api, sqlite_url):
    core = build(make_settings(sqlite_url, delivery={"base_backoff_seconds": 0.05}))
    port = TimedPort(StaticToken("xoxb-test"), base_url=slack_api.url)
    port.min_interval = INTERVAL
    core.register_port(port)
    await core.start()
    core.timed_port = port
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
    # the worker never sent faster than the limit...
    starts = core_with_slack.timed_port.send_times
    assert min(b - a for a, b in itertools.pairwise(starts)) >= INTERVAL * 0.95
    # ...and after each 429 (the injected one, at least) it waited for Retry-After
    calls = slack_api.calls_to("chat.postMessage")
    refused = [c for c in calls if c.error]
    assert refused and all(c.status == 429 for c in refused)
    for refusal in refused:
        later = [c for c in calls if c.at > refusal.at]
        assert later and later[0].at - refusal.at >= 0.95


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
