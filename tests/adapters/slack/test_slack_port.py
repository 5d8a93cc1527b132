"""SlackPort against the local fake Slack Web API: real slack_sdk, real HTTP on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from adapters.slack.port import SlackPort, StaticToken
from bot.messages import Form, Mention, OutboundMessage, TextInput
from bot.ports import ChatPort, DeliveryError, Destination

WS = "slack:T111"


@pytest.fixture
async def port(slack_api):
    port = SlackPort(StaticToken("xoxb-test"), base_url=slack_api.url)
    yield port
    await port.close()


def dest(channel="C111", **kw) -> Destination:
    return Destination(workspace_id=WS, channel_id=channel, **kw)


def test_is_a_chat_port(port):
    assert isinstance(port, ChatPort)
    assert port.platform == "slack"
    assert port.min_interval == 1.0


async def test_send_posts_block_kit_with_fallback(port, slack_api):
    message = OutboundMessage.text("Thanks ", Mention(user_id="U1"), " for <!channel>")
    sent = await port.send(dest(thread_id="111.222"), message)
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.token == "xoxb-test"
    assert call.args["channel"] == "C111"
    assert call.args["thread_ts"] == "111.222"
    assert call.args["text"] == "Thanks <@U1> for &lt;!channel&gt;"
    assert call.args["blocks"][0]["text"]["text"] == "Thanks <@U1> for &lt;!channel&gt;"
    assert call.args["unfurl_links"] is False
    assert "link_names" not in call.args
    assert sent.channel_id == "C111" and sent.message_id.endswith(".000100")


async def test_send_without_thread_omits_thread_ts(port, slack_api):
    await port.send(dest("D123"), OutboundMessage.text("hi"))
    assert "thread_ts" not in slack_api.calls_to("chat.postMessage")[0].args


async def test_ephemeral_uses_response_url_then_falls_back(port, slack_api):
    url = slack_api.response_url("cmd")
    d = dest(ephemeral_user="U1", hints={"response_url": url})
    for _ in range(5):
        await port.send(d, OutboundMessage.text("hi"))
    hooks = slack_api.calls_to("response_url")
    assert len(hooks) == 5
    assert hooks[0].args["response_type"] == "ephemeral"
    assert hooks[0].args["replace_original"] is False
    assert hooks[0].args["text"] == "hi"
    # the sixth answer goes through chat.postEphemeral: a response_url takes 5 uses
    sent = await port.send(d, OutboundMessage.text("more"))
    [eph] = slack_api.calls_to("chat.postEphemeral")
    assert eph.args["user"] == "U1" and eph.args["channel"] == "C111"
    assert sent.message_id
    assert len(slack_api.calls_to("response_url")) == 5


async def test_expired_response_url_is_not_used(port, slack_api):
    hints = {"response_url": slack_api.response_url(), "response_url_expires_at": time.time() - 1}
    await port.send(dest(ephemeral_user="U1", hints=hints), OutboundMessage.text("hi"))
    assert slack_api.calls_to("response_url") == []
    assert len(slack_api.calls_to("chat.postEphemeral")) == 1


async def test_response_url_rejected_by_slack_falls_back(port, slack_api):
    url = slack_api.response_url("used")
    slack_api.RESPONSE_URL_USES = 0  # this response_url is already used up on Slack's side
    await port.send(
        dest(ephemeral_user="U1", hints={"response_url": url}), OutboundMessage.text("x")
    )
    assert len(slack_api.calls_to("chat.postEphemeral")) == 1


async def test_response_url_on_foreign_host_is_ignored(port, slack_api):
    hints = {"response_url": "http://127.0.0.2:9/hooks/x"}
    await port.send(dest(ephemeral_user="U1", hints=hints), OutboundMessage.text("hi"))
    assert len(slack_api.calls_to("chat.postEphemeral")) == 1


async def test_ephemeral_without_channel_goes_to_the_persons_dm(port, slack_api):
    await port.send(dest("W111", ephemeral_user="W111"), OutboundMessage.text("hi"))
    assert slack_api.calls_to("chat.postEphemeral") == []
    assert slack_api.calls_to("chat.postMessage")[0].args["channel"] == "W111"


async def test_home_surface_publishes_the_view(port, slack_api):
    hints = {"surface": "home", "user_id": "U1"}
    sent = await port.send(dest("D1", hints=hints), OutboundMessage.text("Your narrations"))
    [call] = slack_api.calls_to("views.publish")
    assert call.args["user_id"] == "U1"
    assert call.args["view"]["type"] == "home"
    assert sent.message_id.startswith("V")


async def test_update_and_react(port, slack_api):
    await port.update(dest(), "123.456", OutboundMessage.text("edited"))
    [upd] = slack_api.calls_to("chat.update")
    assert upd.args["ts"] == "123.456" and upd.args["text"] == "edited"
    await port.react(dest(), "123.456", ":memo:")
    await port.react(dest(), "123.456", "memo")  # already_reacted is success
    calls = slack_api.calls_to("reactions.add")
    assert [c.args["name"] for c in calls] == ["memo", "memo"]
    assert calls[1].error == "already_reacted"


async def test_open_dm(port, slack_api):
    assert await port.open_dm(WS, ("U1",)) == "U1"  # posting to a user id reaches their DM
    assert (await port.open_dm(WS, ("U1", "U2"))).startswith("G")
    assert [c.args["users"] for c in slack_api.calls_to("conversations.open")] == ["U1,U2"]
    sent = await port.send(dest("U1"), OutboundMessage.text("hi"))
    assert sent.channel_id.startswith("D")  # Slack answers with the DM's channel id


async def test_open_form(port, slack_api):
    form = Form(
        form_id="narrate",
        title="Narrate",
        submit_label="Share",
        fields=(TextInput(field_id="text", label="What?"),),
    )
    await port.open_form(dest(hints={"trigger_id": "1.2.3"}), form)
    [call] = slack_api.calls_to("views.open")
    assert call.args["trigger_id"] == "1.2.3"
    assert call.args["view"]["callback_id"] == "narrate"
    with pytest.raises(DeliveryError) as info:
        await port.open_form(dest(), form)
    assert info.value.permanent


async def test_lookup_person(port, slack_api):
    slack_api.add_user(
        "U1", display_name="Ann", tz="Europe/Amsterdam", locale="nl-NL", is_owner=True
    )
    person = await port.lookup_person(WS, "U1")
    assert person.display_name == "Ann"
    assert person.timezone == "Europe/Amsterdam"
    assert person.locale == "nl-NL"
    assert person.is_admin  # workspace owners count as admins
    assert slack_api.calls_to("users.info")[0].args["include_locale"] in ("1", "true", True)
    with pytest.raises(DeliveryError) as info:
        await port.lookup_person(WS, "U404")
    assert info.value.permanent


async def test_rate_limit_maps_retry_after(port, slack_api):
    slack_api.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(DeliveryError) as info:
        await port.send(dest(), OutboundMessage.text("hi"))
    assert info.value.retry_after == 7.0
    assert not info.value.permanent
    await port.send(dest(), OutboundMessage.text("hi"))  # the next one goes through


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "account_inactive", "is_archived"]
)
async def test_permanent_errors(port, slack_api, error):
    slack_api.fail("chat.postMessage", error)
    with pytest.raises(DeliveryError) as info:
        await port.send(dest(), OutboundMessage.text("hi"))
    assert info.value.permanent and info.value.reason == error
    assert info.value.retry_after is None


async def test_transient_errors(port, slack_api):
    slack_api.fail("chat.postMessage", "internal_error", status=500)
    with pytest.raises(DeliveryError) as info:
        await port.send(dest(), OutboundMessage.text("hi"))
    assert not info.value.permanent and info.value.retry_after is None


async def test_unreachable_api_is_transient():
    port = SlackPort(StaticToken("xoxb-test"), base_url="http://127.0.0.1:9/api/", timeout=2)
    try:
        with pytest.raises(DeliveryError) as info:
            await port.send(dest(), OutboundMessage.text("hi"))
        assert not info.value.permanent
    finally:
        await port.close()


async def test_ephemeral_where_the_bot_is_not_falls_back_to_the_persons_dm(port, slack_api):
    slack_api.fail("chat.postEphemeral", "not_in_channel")
    sent = await port.send(dest("C999", ephemeral_user="U1"), OutboundMessage.text("only you"))
    [dm] = slack_api.calls_to("chat.postMessage")
    assert dm.args["channel"] == "U1" and dm.args["text"] == "only you"
    assert sent.message_id
    slack_api.fail("chat.postEphemeral", "is_archived")  # other refusals are reported
    with pytest.raises(DeliveryError):
        await port.send(dest("C999", ephemeral_user="U1"), OutboundMessage.text("x"))


async def test_send_file_posts_the_message_then_uploads_the_bytes(port, slack_api):
    from bot.messages import OutboundMessage
    from bot.ports import FileSender

    assert isinstance(port, FileSender)
    sent = await port.send_file(
        dest("D1"), "export.json", b'{"narration": []}', OutboundMessage.text("Your data")
    )
    assert sent.channel_id == "D1"
    [stored] = slack_api.files.values()
    assert stored["content"] == b'{"narration": []}'
    assert (stored["channel"], stored["title"]) == ("D1", "export.json")
    methods = slack_api.methods
    assert methods.index("chat.postMessage") < methods.index("files.getUploadURLExternal")
    assert "files.completeUploadExternal" in methods
