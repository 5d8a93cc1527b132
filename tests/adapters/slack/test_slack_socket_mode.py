"""Socket Mode end to end: `wolbot serve` with SLACK_APP_TOKEN opens a WebSocket to the
fake Slack (apps.connections.open), receives recorded envelopes and acknowledges them."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.store.tables import Narration

from .conftest import BOT_TOKEN

APP_TOKEN = "xapp-1-A111-test"


@pytest.fixture
async def socket_slack(serve_slack, slack_api):
    env = {
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack_api.url,
    }
    core, http = await serve_slack(env=env)
    await slack_api.wait_socket()
    return core, http


async def test_connects_with_the_app_token(socket_slack, slack_api):
    [opened] = slack_api.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN


async def test_narration_envelope_is_acked_handled_once(socket_slack, slack_api, payload):
    core, _ = socket_slack
    envelope = payload("socket_mode/envelope_4_events_api_message.json")
    envelope["payload"]["event"]["text"] = "I'm working on the Socket Mode guide"
    ack = await slack_api.socket_send(envelope)
    assert ack == {"envelope_id": envelope["envelope_id"]}
    [reaction] = await slack_api.wait_for("reactions.add")
    assert reaction.args["timestamp"] == "1610241741.000200"
    assert reaction.token == BOT_TOKEN
    # Slack redelivers the envelope (retry_attempt 1): acknowledged, nothing more happens
    envelope.update(envelope_id="retry-1", retry_attempt=1, retry_reason="timeout")
    assert (await slack_api.socket_send(envelope))["envelope_id"] == "retry-1"
    await slack_api.settle(0.5)
    assert len(slack_api.calls_to("reactions.add")) == 1
    async with core.db.session() as s:
        assert len(list((await s.exec(select(Narration))).all())) == 1


async def test_slash_command_envelope(socket_slack, slack_api, payload):
    envelope = payload("socket_mode/envelope_1_slash_commands_command.json")
    envelope["payload"].update(command="/wol", text="hulp", response_url=slack_api.response_url())
    ack = await slack_api.socket_send(envelope)
    assert ack["envelope_id"] == envelope["envelope_id"]
    [answer] = await slack_api.wait_for("response_url")
    assert "/wol hulp" in json.dumps(answer.args, ensure_ascii=False)


async def test_modal_errors_travel_in_the_ack(socket_slack, slack_api, payload):
    shortcut = payload("socket_mode/envelope_3_interactive_shortcut.json")
    shortcut["payload"]["callback_id"] = "wol_narrate"
    await slack_api.socket_send(shortcut)
    [opened] = await slack_api.wait_for("views.open")
    view = opened.args["view"]
    submission = payload("interactivity/view_submission.json")
    submission["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        state={"values": {"text": {"text": {"type": "plain_text_input", "value": "x"}}}},
    )
    envelope = {
        "envelope_id": "sub-1",
        "type": "interactive",
        "payload": submission,
        "accepts_response_payload": True,
    }
    ack = await slack_api.socket_send(envelope)
    assert ack["payload"]["response_action"] == "errors"
    assert "text" in ack["payload"]["errors"]


async def test_no_http_endpoint_without_a_signing_secret(socket_slack, payload):
    _, http = socket_slack
    status, _ = await http.event(payload("events/url_verification.json"))
    assert status == 404


async def test_reconnects_when_slack_asks_and_keeps_working(socket_slack, slack_api, payload):
    await slack_api.socket_push(payload("socket_mode/disconnect.json"))
    await slack_api.wait_socket_connections(2)
    assert len(slack_api.calls_to("apps.connections.open")) == 2
    envelope = payload("socket_mode/envelope_4_events_api_message.json")
    envelope["payload"]["event"]["text"] = "I'm working on reconnecting"
    ack = await slack_api.socket_send(envelope)
    assert ack["envelope_id"] == envelope["envelope_id"]
    await slack_api.wait_for("reactions.add")
