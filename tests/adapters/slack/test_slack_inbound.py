"""Recorded Slack payloads -> InboundEvent (adapters/slack/inbound.py)."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from adapters.slack.inbound import plain_text, to_inbound
from bot.events import ConversationKind, EventKind, Mentioned, PersonRef


def form(body: str) -> dict[str, str]:
    return dict(parse_qsl(body, keep_blank_values=True))


def test_channel_message(payload):
    event = to_inbound(payload("events/event_callback_message.json"))
    assert event is not None
    assert event.platform == "slack"
    assert event.kind is EventKind.MESSAGE
    assert event.workspace_id == "slack:T111"
    assert event.event_id == "Ev111"
    assert event.user == PersonRef("W111")
    assert event.conversation.id == "C111"
    assert event.conversation.kind is ConversationKind.PUBLIC
    assert event.conversation.thread_id is None
    assert event.text == "Hello World!"
    assert event.message_id == "1596183880.004200"
    assert not event.is_from_bot
    assert event.reference == {
        "platform": "slack",
        "team_id": "T111",
        "channel_id": "C111",
        "enterprise_id": "E111",
    }


def test_dm_and_thread(payload):
    body = payload("events/event_callback_message.json")
    body["event"].update(channel="D999", channel_type="im", thread_ts="1596183800.000100")
    event = to_inbound(body)
    assert event.is_dm
    assert event.conversation.kind is ConversationKind.DM
    assert event.conversation.thread_id == "1596183800.000100"


def test_channel_types(payload):
    body = payload("events/event_callback_message.json")
    for channel_type, kind in [
        ("group", ConversationKind.PRIVATE),
        ("channel", ConversationKind.PUBLIC),
    ]:
        body["event"]["channel_type"] = channel_type
        assert to_inbound(body).conversation.kind is kind
    # group DMs are never read (issue 17 item 2): an older install that still sends
    # message.mpim gets nothing captured from the introductions it opened
    body["event"]["channel_type"] = "mpim"
    assert to_inbound(body) is None


def test_bot_messages_are_marked(payload):
    classic = to_inbound(payload("events/event_callback_message_bot_message.json"))
    assert classic.kind is EventKind.MESSAGE and classic.is_from_bot
    assert classic.user.user_id == "B888"
    app_bot = to_inbound(payload("events/event_callback_message_from_bot_user.json"))
    assert app_bot.is_from_bot and app_bot.user.user_id == "UB111"


def test_message_changed(payload):
    event = to_inbound(payload("events/event_callback_message_changed.json"))
    assert event.kind is EventKind.MESSAGE_EDITED
    assert event.text == "updated message"
    assert event.user.user_id == "U111"
    assert event.message_id == "1665102338.901939"  # the edited message, not the event
    assert event.workspace_id == "slack:T-auth"  # the installation it was delivered for


def test_unfurl_only_change_is_not_an_edit(payload):
    body = payload("events/event_callback_message_changed.json")
    body["event"]["message"]["text"] = body["event"]["previous_message"]["text"]
    assert to_inbound(body) is None


def test_message_deleted(payload):
    event = to_inbound(payload("events/event_callback_message_deleted.json"))
    assert event.kind is EventKind.MESSAGE_DELETED
    assert event.message_id == "1665368619.804829"
    assert event.user.user_id == "U111"
    assert event.text == ""


def test_system_subtypes_are_dropped(payload):
    body = payload("events/event_callback_message.json")
    body["event"]["subtype"] = "channel_join"
    assert to_inbound(body) is None


def test_app_mention_strips_the_bot_and_lists_others(payload):
    body = payload("events/event_callback_app_mention.json")
    body["event"]["text"] = "<@W111> I'm working on <@U42|ann>'s report &amp; slides"
    event = to_inbound(body)
    assert event.kind is EventKind.MESSAGE
    assert event.mentions_bot
    assert event.text == "I'm working on @ann's report & slides"
    # the label is the name; the tag is what stands for the person in the text
    assert event.mentions == (Mentioned("U42", "ann", tag="@ann"),)
    assert event.workspace_id == "slack:T_INSTALLED"


def test_app_mention_legacy_authed_users(payload):
    event = to_inbound(payload("events/event_callback_app_mention_authed_users.json"))
    assert event.mentions_bot
    assert event.workspace_id == "slack:T111"


def test_mention_of_bot_in_plain_message(payload):
    body = payload("events/event_callback_message.json")
    body["event"]["text"] = "hey <@UBOT> look"
    event = to_inbound(body, bot_user_id="UBOT")
    assert event.mentions_bot and event.mentions == ()


def test_member_joined_bot_added(payload):
    body = payload("events/event_callback_member_joined_channel.json")
    event = to_inbound(body, bot_user_id="W23456789")
    assert event.kind is EventKind.BOT_ADDED
    assert event.user.user_id == "U222"  # the inviter
    assert event.conversation.id == "C111"
    assert event.conversation.kind is ConversationKind.PUBLIC
    other = to_inbound(body, bot_user_id="UOTHER")
    assert other.kind is EventKind.MEMBER_JOINED
    assert other.mentions == (PersonRef("W23456789"),)


def test_reaction_added(payload):
    event = to_inbound(payload("events/event_callback_reaction_added.json"))
    assert event.kind is EventKind.REACTION_ADDED
    assert event.action.value == "heart_eyes"
    assert event.action.message_id == "1599529504.000400"
    assert event.conversation.id == "C111"


def test_old_envelope_gets_a_stable_event_id(payload):
    body = payload("events/event_callback_reaction_added_2016.json")
    first, second = to_inbound(body), to_inbound(body)
    assert first.event_id == second.event_id == "reaction_added:T0JFD6M53:1477958240.864741"
    assert first.conversation.kind is ConversationKind.DM


def test_home_tab_only(payload):
    body = payload("events/event_callback_app_home_opened_messages_tab.json")
    assert to_inbound(body) is None  # the Messages tab needs no view
    body["event"]["tab"] = "home"
    event = to_inbound(body)
    assert event.kind is EventKind.HOME_OPENED
    assert event.user.user_id == "W111"
    assert event.reply_hints == {"surface": "home", "user_id": "W111"}
    assert event.workspace_id == "slack:T111"


def test_uninstall_events(payload):
    uninstalled = to_inbound(payload("events/event_callback_app_uninstalled.json"))
    assert uninstalled.kind is EventKind.UNINSTALLED
    assert uninstalled.workspace_id == "slack:E111"  # org-wide: no team id in the payload
    revoked = to_inbound(payload("events/event_callback_tokens_revoked.json"))
    assert revoked.kind is EventKind.UNINSTALLED
    body = payload("events/event_callback_tokens_revoked.json")
    body["event"]["tokens"] = {"oauth": ["W111"]}  # only a user token: not an uninstall
    assert to_inbound(body) is None


def test_url_verification_and_rate_limit_notices_are_not_events(payload):
    assert to_inbound(payload("events/url_verification.json")) is None
    assert to_inbound(payload("events/app_rate_limited.docs_example.json")) is None


def test_slash_command(payload):
    body = form(payload("commands/slash_command.form-urlencoded.txt"))
    event = to_inbound(body)
    assert event.kind is EventKind.COMMAND
    assert event.command == "hello-world"
    assert event.text == "Hi"
    assert event.user == PersonRef("W111", "primary-owner")
    assert event.conversation.id == "C111"
    assert event.conversation.name == "random"
    assert event.event_id == "command:111.111.xxx"
    hints = dict(event.reply_hints)
    expires = hints.pop("response_url_expires_at")
    assert 1700 < expires - time.time() <= 1800  # Slack honours a response_url for 30 minutes
    assert hints == {
        "response_url": "https://hooks.slack.com/commands/T111/111/xxxxx",
        "trigger_id": "111.111.xxx",
    }


def test_slash_command_in_dm(payload):
    body = form(payload("commands/slash_command.form-urlencoded.txt"))
    body.update(command="/wol", text="help", channel_id="D111", channel_name="directmessage")
    event = to_inbound(body)
    assert event.command == "wol" and event.text == "help"
    assert event.is_dm and event.conversation.name is None


def test_block_actions(payload):
    event = to_inbound(payload("interactivity/block_actions.json"))
    assert event.kind is EventKind.ACTION
    assert event.action.action_id == "a"
    assert event.action.value == "click_me_123"
    assert event.action.message_id == "111.222"
    assert event.conversation.id == "C111"
    assert event.event_id == "action:111.222.valid"
    assert (
        event.reply_hints["response_url"] == "https://hooks.slack.com/actions/T111/111/random-value"
    )
    assert event.reply_hints["ephemeral"] is True


def test_block_actions_strips_unique_suffix(payload):
    body = payload("interactivity/block_actions.json")
    body["actions"][0]["action_id"] = "narration:helpful#2"
    assert to_inbound(body).action.action_id == "narration:helpful"


def test_block_actions_in_socket_mode_modal(payload):
    body = payload("socket_mode/envelope_4_events_api_message.json")["payload"]
    assert to_inbound(body).kind is EventKind.MESSAGE
    shortcut = payload("socket_mode/envelope_3_interactive_shortcut.json")["payload"]
    event = to_inbound(shortcut)
    assert event.kind is EventKind.SHORTCUT and event.action.action_id == "do-something"


def test_view_submission(payload):
    event = to_inbound(payload("interactivity/view_submission.json"))
    assert event.kind is EventKind.FORM_SUBMIT
    assert event.action.form_id == "view-id"
    assert event.action.values == {"maBWU": "test"}
    assert event.action.value == "This is for you!"  # foreign metadata passed through
    assert event.conversation.kind is ConversationKind.DM  # no channel: the person's DM
    assert event.conversation.id == "W111"
    assert event.reply_hints["view_id"] == "V111"


def test_view_submission_response_urls(payload):
    event = to_inbound(payload("interactivity/view_submission_with_response_urls.json"))
    assert event.reply_hints["response_urls"][0]["channel_id"] == "C111"
    assert event.action.values == {}


def test_view_closed_is_ignored(payload):
    assert to_inbound(payload("interactivity/view_closed.json")) is None


def test_global_shortcut(payload):
    event = to_inbound(payload("interactivity/shortcut_global.json"))
    assert event.kind is EventKind.SHORTCUT
    assert event.action.action_id == "test-shortcut"
    assert event.reply_hints == {"trigger_id": "111.111.xxxxxx"}
    assert event.conversation.id == "W111" and event.is_dm


def test_message_shortcut(payload):
    event = to_inbound(payload("interactivity/shortcut_message.json"))
    assert event.kind is EventKind.SHORTCUT
    assert event.text == "@W222 test"
    assert event.action.message_id == "1583636382.000300"
    assert event.action.value == "W111"  # the author of the message
    assert event.conversation.id == "C111"
    assert event.mentions == (Mentioned("W222", tag="@W222"),)
    assert event.reply_hints["response_url"] == "https://hooks.slack.com/app/T111/111/xxx"


def test_plain_text_defuses_slack_markup():
    assert plain_text("&lt;!channel&gt; hi") == "<!channel> hi"
    assert plain_text("<!here> and <!channel>") == "@here and @channel"
    assert plain_text("see <https://x.test/a|the doc>") == "see the doc (https://x.test/a)"
    assert plain_text("<https://x.test>") == "https://x.test"
    assert plain_text("<mailto:a@b.test|a@b.test>") == "a@b.test"
    assert plain_text("in <#C123|general>") == "in #general"
    assert plain_text("<!subteam^S1|@devs> ping") == "@devs ping"
