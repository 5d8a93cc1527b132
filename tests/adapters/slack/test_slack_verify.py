"""SlackPort as a DeliveryVerifier: a tagged message can be found again in the history, so a
delivery whose outcome was unknown is recorded instead of posted twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.slack.port import OUTBOX_EVENT_TYPE, SlackPort, StaticToken
from bot.messages import OutboundMessage
from bot.ports import DeliveryError, DeliveryVerifier, Destination

WS = "slack:T111"


@pytest.fixture
async def port(slack_api):
    port = SlackPort(StaticToken("xoxb-test"), base_url=slack_api.url, timeout=0.3)
    yield port
    await port.close()


def since() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=5)


async def test_a_tagged_message_is_found_in_its_channel(port, slack_api) -> None:
    assert isinstance(port, DeliveryVerifier)
    sent = await port.send_tagged(Destination(WS, "C111"), OutboundMessage.text("hi"), "tag-1")
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args["metadata"] == {
        "event_type": OUTBOX_EVENT_TYPE,
        "event_payload": {"key": "tag-1"},
    }
    found = await port.find_tagged(Destination(WS, "C111"), "tag-1", since())
    assert found is not None and found.message_id == sent.message_id
    assert await port.find_tagged(Destination(WS, "C111"), "tag-2", since()) is None
    # only messages since the first attempt count
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert await port.find_tagged(Destination(WS, "C111"), "tag-1", later) is None
    [history] = slack_api.calls_to("conversations.history")[:1]
    assert history.args["include_all_metadata"] in (True, "true", "1", 1)


async def test_a_dm_to_a_user_id_is_looked_up_in_the_dm(port, slack_api) -> None:
    await port.send_tagged(Destination(WS, "U123"), OutboundMessage.text("check-in"), "dm-1")
    found = await port.find_tagged(Destination(WS, "U123"), "dm-1", since())
    assert found is not None and found.channel_id == "D123"
    assert slack_api.calls_to("conversations.open")[0].args["users"] == "U123"


async def test_a_thread_reply_is_looked_up_in_the_thread(port, slack_api) -> None:
    dest = Destination(WS, "C111", thread_id="1700000001.000100")
    await port.send_tagged(dest, OutboundMessage.text("reply"), "thread-1")
    assert await port.find_tagged(dest, "thread-1", since()) is not None
    assert slack_api.calls_to("conversations.replies")


async def test_ephemeral_messages_cannot_be_found(port, slack_api) -> None:
    dest = Destination(WS, "C111", ephemeral_user="U1")
    assert await port.find_tagged(dest, "x", since()) is None
    assert not slack_api.calls_to("conversations.history")


async def test_timeouts_and_server_errors_are_uncertain_rate_limits_are_not(
    port, slack_api
) -> None:
    slack_api.response_delay = 1.0  # stored, then answered after the client gave up
    with pytest.raises(DeliveryError) as timeout:
        await port.send_tagged(Destination(WS, "C1"), OutboundMessage.text("a"), "t-1")
    assert timeout.value.uncertain
    slack_api.response_delay = 0.0
    assert await port.find_tagged(Destination(WS, "C1"), "t-1", since()) is not None
    slack_api.fail("chat.postMessage", "internal_error", status=500)
    with pytest.raises(DeliveryError) as server_error:
        await port.send(Destination(WS, "C2"), OutboundMessage.text("b"))
    assert server_error.value.uncertain and not server_error.value.permanent
    slack_api.rate_limit("chat.postMessage", retry_after=2)
    with pytest.raises(DeliveryError) as limited:
        await port.send(Destination(WS, "C3"), OutboundMessage.text("c"))
    assert not limited.value.uncertain and limited.value.retry_after == 2
    slack_api.fail("chat.postMessage", "channel_not_found")
    with pytest.raises(DeliveryError) as gone:
        await port.send(Destination(WS, "C4"), OutboundMessage.text("d"))
    assert not gone.value.uncertain and gone.value.permanent
