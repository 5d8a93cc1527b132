"""TeamsPort against the fake Bot Connector, through botbuilder's real connector client."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.teams.connector import retry_after_seconds
from adapters.teams.inbound import parse_activity
from adapters.teams.members import Seen
from adapters.teams.port import TeamsPort
from bot.messages import Form, Mention, OutboundMessage, TextInput, fill
from bot.ports import ChatPort, DeliveryError, Destination
from tests.adapters.teams.teams_helpers import activity, load
from tests.fakes.bot_connector import FakeBotConnector

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def remember(port: TeamsPort, connector: FakeBotConnector, name: str, **changes) -> dict:
    """Store what the core stores on an inbound activity, plus the adapter's member memory."""
    data = connector.rewrite(activity(name, **changes))
    event = parse_activity(data)
    assert event is not None and event.reference is not None
    await port.references.save(
        event.workspace_id, event.conversation.id, "teams", event.reference, NOW
    )
    seen = Seen.from_activity(data)
    if seen is not None:
        await port.members.seen(seen)
    return data


def test_port_implements_the_protocol(teams_port: TeamsPort) -> None:
    assert isinstance(teams_port, ChatPort)


async def test_send_to_a_personal_chat(teams_port: TeamsPort, connector: FakeBotConnector) -> None:
    data = await remember(teams_port, connector, "message_personal_2019")
    ws = "teams:" + data["conversation"]["tenantId"]
    message = OutboundMessage.text(*fill("Thanks {who}!", who=Mention(user_id="29:x", name="Tien")))
    sent = await teams_port.send(Destination(ws, data["conversation"]["id"]), message)
    (call,) = connector.of("send")
    assert sent.message_id.startswith("1:fake-activity-")
    assert sent.channel_id == data["conversation"]["id"]
    assert call.conversation_id == data["conversation"]["id"]
    assert call.body["type"] == "message"
    assert call.body["from"]["id"] == data["recipient"]["id"]
    assert call.body["channelData"]["tenant"]["id"] == data["conversation"]["tenantId"]
    assert call.body["summary"] == "Thanks @Tien!"
    card = call.card
    assert card is not None and card["version"] == "1.5"
    assert card["msteams"]["entities"][0]["mentioned"]["id"] == "29:x"
    assert "authorization" not in call.headers  # dev mode: no app id, no token


async def test_reply_in_a_channel_thread(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_channel_reply_mention_2025")
    event = parse_activity(data)
    assert event is not None
    dest = Destination(event.workspace_id, event.conversation.id, thread_id="1759881511856")
    await teams_port.send(dest, OutboundMessage.text("noted"))
    (call,) = connector.of("reply")
    assert call.conversation_id == (
        "19:6848757105754c8981c67612732d9aa7@thread.tacv2;messageid=1759881511856"
    )
    assert call.activity_id == "1759881511856"
    assert call.body["replyToId"] == "1759881511856"


async def test_top_level_channel_post(teams_port: TeamsPort, connector: FakeBotConnector) -> None:
    data = await remember(teams_port, connector, "message_channel_reply_mention_2025")
    ws = "teams:" + data["conversation"]["tenantId"]
    await teams_port.send(
        Destination(ws, "19:6848757105754c8981c67612732d9aa7@thread.tacv2"),
        OutboundMessage.text("Weekly question"),
    )
    (call,) = connector.of("send")
    assert call.conversation_id == "19:6848757105754c8981c67612732d9aa7@thread.tacv2"


async def test_update(teams_port: TeamsPort, connector: FakeBotConnector) -> None:
    data = await remember(teams_port, connector, "message_personal_2019")
    ws = "teams:" + data["conversation"]["tenantId"]
    dest = Destination(ws, data["conversation"]["id"])
    await teams_port.update(dest, "1:abc", OutboundMessage.text("edited"))
    (call,) = connector.of("update")
    assert call.method == "PUT"
    assert call.activity_id == "1:abc"
    assert call.body["id"] == "1:abc"
    assert call.card is not None and call.card["fallbackText"] == "edited"


async def test_unknown_conversation_is_a_permanent_failure(teams_port: TeamsPort) -> None:
    with pytest.raises(DeliveryError) as info:
        await teams_port.send(Destination("teams:t", "19:nowhere"), OutboundMessage.text("hi"))
    assert info.value.permanent


@pytest.mark.parametrize(
    ("status", "retry_after", "permanent"),
    [
        (429, 3.0, False),
        (412, 1.0, False),
        (502, 1.0, False),
        (503, 1.0, False),
        (504, 1.0, False),
        (403, None, True),
        (404, None, True),
        (500, None, False),
    ],
)
async def test_connector_errors_map_to_delivery_errors(
    teams_port: TeamsPort,
    connector: FakeBotConnector,
    status: int,
    retry_after: float | None,
    permanent: bool,
) -> None:
    data = await remember(teams_port, connector, "message_personal_2019")
    ws = "teams:" + data["conversation"]["tenantId"]
    connector.fail("send", status=status, retry_after=3 if status == 429 else None)
    dest = Destination(ws, data["conversation"]["id"])
    with pytest.raises(DeliveryError) as info:
        await teams_port.send(dest, OutboundMessage.text("hi"))
    assert info.value.retry_after == retry_after
    assert info.value.permanent is permanent
    assert str(status) in info.value.reason
    # exactly one request: the SDK does not retry behind the outbox's back
    assert [c.status for c in connector.calls] == [status]
    # the next attempt goes through
    await teams_port.send(dest, OutboundMessage.text("hi"))
    assert len(connector.of("send")) == 1


async def test_open_dm_creates_a_personal_conversation_once(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_channel_reply_mention_2025")
    ws = "teams:" + data["conversation"]["tenantId"]
    anna = "29:anna-never-wrote-to-the-bot"
    conversation_id = await teams_port.open_dm(ws, (anna,))
    (call,) = connector.of("create_conversation")
    assert call.body["members"] == [{"id": anna}]
    assert call.body["bot"]["id"] == data["recipient"]["id"]
    assert call.body["channelData"]["tenant"]["id"] == data["conversation"]["tenantId"]
    assert call.body["isGroup"] is False
    assert conversation_id == connector.created[0]
    # the new conversation can be written to: its reference was stored
    await teams_port.send(Destination(ws, conversation_id), OutboundMessage.text("Hoi Anna"))
    assert connector.of("send")[0].conversation_id == conversation_id


async def test_open_dm_reuses_the_personal_chat(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_personal_2019")
    ws = "teams:" + data["conversation"]["tenantId"]
    assert await teams_port.open_dm(ws, (data["from"]["id"],)) == data["conversation"]["id"]
    assert connector.of("create_conversation") == []


async def test_open_dm_refused_by_the_tenant(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_channel_reply_mention_2025")
    ws = "teams:" + data["conversation"]["tenantId"]
    connector.fail("create_conversation", status=403, message="Bot is not installed for user")
    with pytest.raises(DeliveryError) as info:
        await teams_port.open_dm(ws, ("29:someone",))
    assert info.value.permanent
    assert "Bot is not installed" in info.value.reason


async def test_group_dm_goes_to_each_personal_chat(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_personal_2019")
    ws = "teams:" + data["conversation"]["tenantId"]
    tien, anna = data["from"]["id"], "29:anna"
    group = await teams_port.open_dm(ws, (tien, anna))
    assert len(connector.of("create_conversation")) == 1  # Tien's chat exists already
    message = OutboundMessage.text(
        *fill("{a}, meet {b}", a=Mention(user_id=tien, name="Tien"), b=Mention(user_id=anna))
    )
    sent = await teams_port.send(Destination(ws, group), message)
    posts = connector.of("send")
    assert [p.conversation_id for p in posts] == [data["conversation"]["id"], connector.created[0]]
    assert all(p.card and len(p.card["msteams"]["entities"]) == 2 for p in posts)
    await teams_port.update(Destination(ws, group), sent.message_id, OutboundMessage.text("x"))
    updates = connector.of("update")
    assert [u.activity_id for u in updates] == [p_id for p_id in sent.message_id.split("|")]
    assert [u.conversation_id for u in updates] == [p.conversation_id for p in posts]


async def test_group_dm_fails_early_when_a_chat_cannot_be_created(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_personal_2019")
    ws = "teams:" + data["conversation"]["tenantId"]
    connector.fail("create_conversation", status=403)
    with pytest.raises(DeliveryError) as info:
        await teams_port.open_dm(ws, (data["from"]["id"], "29:blocked"))
    assert info.value.permanent
    assert connector.of("send") == []


async def test_ephemeral_goes_to_the_personal_chat(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_channel_reply_mention_2025")
    ws = "teams:" + data["conversation"]["tenantId"]
    channel = "19:6848757105754c8981c67612732d9aa7@thread.tacv2"
    sent = await teams_port.send(
        Destination(ws, channel, ephemeral_user=data["from"]["id"]), OutboundMessage.text("psst")
    )
    (send,) = connector.of("send")
    assert send.conversation_id == connector.created[0] == sent.channel_id


async def test_open_form_sends_a_card_opening_a_dialog_to_the_person(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_personal_2019")
    ws = "teams:" + data["conversation"]["tenantId"]
    form = Form(
        form_id="ask",
        title="Ask",
        submit_label="Send",
        fields=(TextInput(field_id="q", label="Question"),),
    )
    await teams_port.open_form(
        Destination(ws, "19:some-channel", ephemeral_user=data["from"]["id"]), form
    )
    (call,) = connector.of("send")
    assert call.conversation_id == data["conversation"]["id"]
    assert call.card is not None  # a button that opens the form as a dialog
    assert call.card["actions"][0]["data"]["msteams"] == {"type": "task/fetch"}


async def test_lookup_person(teams_port: TeamsPort, connector: FakeBotConnector) -> None:
    data = await remember(teams_port, connector, "message_channel_reply_mention_2025")
    ws = "teams:" + data["conversation"]["tenantId"]
    conversation = "19:6848757105754c8981c67612732d9aa7@thread.tacv2"
    recorded = load("get_conversation_members_200_2019.recording.json")["response"][1]
    connector.add_member(conversation, {**recorded, "id": data["from"]["id"]})
    person = await teams_port.lookup_person(ws, data["from"]["id"])
    (call,) = connector.of("get_member")
    assert call.conversation_id == conversation and call.user_id == data["from"]["id"]
    assert person.display_name == "Dave Taniguchi"
    assert person.email == "Dave.Taniguchi@microsoft.com"
    assert person.timezone == "America/Los_Angeles"  # from the person's own activity
    assert person.locale == "en-US"
    assert not person.is_admin


async def test_lookup_person_falls_back_to_what_activities_showed(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_channel_reply_mention_2025")
    ws = "teams:" + data["conversation"]["tenantId"]
    person = await teams_port.lookup_person(ws, data["from"]["id"])  # the fake has no roster: 404
    assert person.display_name == "rido"
    assert person.timezone == "America/Los_Angeles"
    with pytest.raises(DeliveryError):
        await teams_port.lookup_person(ws, "29:a-stranger")


async def test_react_replies_with_the_emoji_in_the_thread(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_channel_reply_mention_2025")
    event = parse_activity(data)
    assert event is not None
    dest = Destination(event.workspace_id, event.conversation.id, hints=event.reply_hints)
    await teams_port.react(dest, event.message_id or "", "memo")
    (call,) = connector.of("reply")
    assert call.body["text"] == "📝"
    assert call.activity_id == "1759881511856"  # the thread root, not the reply
    assert call.conversation_id.endswith(";messageid=1759881511856")
    await teams_port.react(dest, event.message_id or "", "no_such_emoji_name")
    assert len(connector.calls) == 1


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({}) == 1.0
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0


async def test_hourly_limit_per_conversation(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    data = await remember(teams_port, connector, "message_personal_2019")
    ws = "teams:" + data["conversation"]["tenantId"]
    teams_port.hourly_limit = 3
    dest = Destination(ws, data["conversation"]["id"])
    for _ in range(3):
        await teams_port.send(dest, OutboundMessage.text("hi"))
    with pytest.raises(DeliveryError) as info:
        await teams_port.send(dest, OutboundMessage.text("one too many"))
    assert info.value.retry_after is not None and 3500 < info.value.retry_after <= 3600
    assert len(connector.of("send")) == 3  # the fourth never reached Teams


async def test_privacy_export_and_erase_cover_the_member_memory(
    teams_port: TeamsPort, connector: FakeBotConnector
) -> None:
    from bot.store.personal_data import PersonalData

    data = await remember(teams_port, connector, "message_personal_2019")
    ws, user = "teams:" + data["conversation"]["tenantId"], data["from"]["id"]
    personal = PersonalData(teams_port.members.db)
    exported = await personal.export(ws, user)
    (row,) = exported["teams_member"]
    assert row["locale"] == "en-US" and row["dm_conversation_id"] == data["conversation"]["id"]
    counts, _ = await personal.forget(ws, user)
    assert counts["teams_member"] == 1
    assert await teams_port.members.get(ws, user) is None
