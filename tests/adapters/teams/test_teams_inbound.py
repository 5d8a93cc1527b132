"""inbound.py on recorded Teams activities (tests/adapters/teams/data/activities/)."""

from __future__ import annotations

import pytest

from adapters.teams.inbound import (
    ACTION_KEY,
    FORM_KEY,
    META_KEY,
    SELECT_KEY,
    VALUE_KEY,
    parse_activity,
    parse_command,
    split_conversation_id,
    strip_mentions,
)
from bot.context import RESPOND_INLINE_HINT
from bot.events import ConversationKind, EventKind, Mentioned, PersonRef
from tests.adapters.teams.teams_helpers import activity

NAMES = frozenset({"help", "narrate", "working on", "ik", "me"})
BOT = "28:eac5e5c6-ab14-4f50-80cb-49213fe51b1a"
DAVE = "29:1CFIxRJBLjT_io3iNsDZxMk_4YPWQmr3DZUM1I6ihf5L2ocCDqg9S1vkHK6kRdGfK1P_2LFE2nQqFIvdu-GBOZA"
MS_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def test_personal_message_is_a_dm_message() -> None:
    event = parse_activity(activity("message_personal_2019", text="Ik ben bezig met een offerte"))
    assert event is not None
    assert event.kind is EventKind.MESSAGE
    assert event.platform == "teams"
    assert event.workspace_id == f"teams:{MS_TENANT}"
    assert event.event_id == "1571691217375" == event.message_id
    assert event.conversation.kind is ConversationKind.DM
    assert event.conversation.id.startswith("a:1VF4K2uXl")
    assert event.conversation.thread_id is None
    assert event.text == "Ik ben bezig met een offerte"
    assert event.user == PersonRef(
        "29:1kbOecyrymSn1FtrbJlQNF_BvhIpb7CLGbmjaTldT8A8tXXphjq4BcA2KfWGwoI-ahbEJ_Og1syGOt68MsLId1Q",
        "Tien Suwandy",
    )
    assert event.locale == "en-US"
    assert not event.is_from_bot
    assert not event.mentions_bot


def test_reference_holds_what_a_proactive_message_needs() -> None:
    event = parse_activity(activity("message_channel_reply_mention_2025"))
    assert event is not None and event.reference is not None
    ref = event.reference
    assert ref["serviceUrl"] == (
        "https://smba.trafficmanager.net/amer/50612dbb-0237-4969-b378-8d42590f9c00/"
    )
    assert ref["conversation"]["id"] == "19:6848757105754c8981c67612732d9aa7@thread.tacv2"
    assert ref["conversation"]["tenantId"] == "50612dbb-0237-4969-b378-8d42590f9c00"
    assert ref["conversation"]["conversationType"] == "channel"
    assert ref["bot"] == {"id": "28:0b6fe6d1-fece-44f7-9a48-56465e2d5ab8", "name": "ridotest"}
    assert ref["user"]["aadObjectId"] == "b15a9416-0ad3-4172-9210-7beb711d3f70"
    assert ref["teamId"].startswith("19:66P469")


def test_channel_thread_reply_strips_bot_mention() -> None:
    event = parse_activity(activity("message_channel_reply_mention_2025"))
    assert event is not None
    assert event.kind is EventKind.MESSAGE
    assert event.text == "reply to thread"
    assert event.mentions_bot
    assert event.mentions == ()
    assert event.conversation.kind is ConversationKind.PUBLIC
    assert event.conversation.id == "19:6848757105754c8981c67612732d9aa7@thread.tacv2"
    assert event.conversation.thread_id == "1759881511856"
    assert event.message_id == "1759944781430"
    assert event.timezone == "America/Los_Angeles"
    assert event.workspace_id == "teams:50612dbb-0237-4969-b378-8d42590f9c00"


def test_top_level_channel_post_is_not_in_a_thread() -> None:
    event = parse_activity(activity("message_channel_mention_2019"))
    assert event is not None
    # conversation id ends in ";messageid=<this message>": the post starts its own thread.
    assert event.conversation.thread_id is None
    assert event.message_id == "1571537152320"
    assert event.text == "1"
    assert event.mentions_bot


def test_private_and_shared_channels_are_private() -> None:
    for membership in ("private", "shared"):
        data = activity("message_channel_reply_mention_2025")
        data["channelData"]["channel"]["membershipType"] = membership
        event = parse_activity(data)
        assert event is not None
        assert event.conversation.kind is ConversationKind.PRIVATE


def test_group_chat_is_group() -> None:
    data = activity("message_personal_2019")
    data["conversation"] = {
        "isGroup": True,
        "conversationType": "groupChat",
        "tenantId": MS_TENANT,
        "id": "19:444d246d19234aab86db1a0cb3d13cb8@thread.v2",
    }
    event = parse_activity(data)
    assert event is not None
    assert event.conversation.kind is ConversationKind.GROUP


def test_other_mentions_become_person_refs() -> None:
    data = activity(
        "message_channel_reply_mention_2025",
        text="<at>ridotest</at> working on the budget with <at>Jan &amp; co</at>",
    )
    data["entities"].insert(
        0,
        {
            "type": "mention",
            "text": "<at>Jan &amp; co</at>",
            "mentioned": {"id": "29:jan", "name": "Jan & co"},
        },
    )
    event = parse_activity(data)
    assert event is not None
    assert event.text == "working on the budget with @Jan & co"
    assert event.mentions == (Mentioned("29:jan", "Jan & co", tag="@Jan & co"),)
    assert event.mentions_bot


def test_a_mentioned_channel_is_not_a_person() -> None:
    entities = [
        {
            "type": "mention",
            "text": "<at>General</at>",
            "mentioned": {"id": "19:abc@thread.tacv2", "name": "General"},
        }
    ]
    text, people, _ = strip_mentions("capture on <at>General</at>", entities, "28:bot")
    assert (text, people) == ("capture on #General", ())


def test_strip_mentions_drops_tags_without_entity() -> None:
    text, people, mentions_bot = strip_mentions("hi <at>Ghost</at>&nbsp;there", [], "28:x")
    assert (text, people, mentions_bot) == ("hi Ghost there", (), False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/wol help", "help"),
        ("wol help", "help"),
        ("WOL   narrate ik ben bezig", "narrate ik ben bezig"),
        ("/wol", ""),
        ("wolf help", None),
        ("help", None),
    ],
)
def test_parse_command(text: str, expected: str | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "/wol help",
        "wol help",
        "<at>ridotest</at> help",
        "<at>ridotest</at> /wol help",
        "<at>ridotest</at> /help",
    ],
)
def test_commands_typed_to_the_bot(text: str) -> None:
    event = parse_activity(
        activity("message_channel_reply_mention_2025", text=text), command_names=NAMES
    )
    assert event is not None
    assert event.kind is EventKind.COMMAND
    assert event.command == "wol"
    assert event.text == "help"


def test_multi_word_command_names_must_match_whole() -> None:
    dm = parse_activity(
        activity("message_personal_2019", text="working on the budget"), command_names=NAMES
    )
    assert dm is not None and dm.kind is EventKind.COMMAND
    assert dm.text == "working on the budget"
    slash = parse_activity(
        activity("message_personal_2019", text="/ik ken iemand voor jou"), command_names=NAMES
    )
    assert slash is not None and slash.kind is EventKind.COMMAND
    for text in (
        "ik ben bezig met de begroting",
        "working hard",
        "helpdesk tickets",
        "help me with this",
    ):
        event = parse_activity(activity("message_personal_2019", text=text), command_names=NAMES)
        assert event is not None and event.kind is EventKind.MESSAGE, text


def test_command_word_needs_the_bot_addressed_in_a_channel() -> None:
    data = activity("message_channel_reply_mention_2025", text="help", entities=[])
    event = parse_activity(data, command_names=NAMES)
    assert event is not None and event.kind is EventKind.MESSAGE
    dm = parse_activity(activity("message_personal_2019", text="help"), command_names=NAMES)
    assert dm is not None and dm.kind is EventKind.COMMAND and dm.text == "help"


def test_bot_added_to_team() -> None:
    event = parse_activity(activity("conversationUpdate_bot_added_to_team_docs_2021"))
    assert event is not None
    assert event.kind is EventKind.BOT_ADDED
    assert event.workspace_id == "teams:b28fdbfd-2b78-4f93-b0f8-8881793f0f8f"
    assert event.conversation.kind is ConversationKind.PUBLIC
    assert event.conversation.name == "2021 Test Channel"
    assert event.event_id == "f:0b9079f4-d4d3-3d8e-b883-798298053c7e"
    assert event.reference is not None
    assert event.reference["bot"]["id"] == "28:608cacfd-1cea-40c9-b678-4b93e69bb72b"


def test_members_added() -> None:
    for name in (
        "conversationUpdate_team_member_added_2019",
        "conversationUpdate_groupchat_member_added_2019",
    ):
        event = parse_activity(activity(name))
        assert event is not None
        assert event.kind is EventKind.MEMBER_JOINED
        assert len(event.mentions) == 1
        assert event.mentions[0].user_id.startswith("29:1")
        assert event.user.user_id == DAVE


def test_ignored_conversation_updates() -> None:
    assert parse_activity(activity("conversationUpdate_team_member_removed_2019")) is None
    assert parse_activity(activity("conversationUpdate_channel_created_2019")) is None


def test_action_submit_message_with_value() -> None:
    event = parse_activity(activity("message_card_submit_value_2019"))
    assert event is not None
    assert event.kind is EventKind.ACTION
    assert event.action is not None
    assert event.action.action_id == ""  # not one of our cards
    assert event.action.values == {"key": "value"}
    assert event.action.message_id == "1:1g3Sc3hSqAvmoAIhMskhBW8kahcBMC2urNd_TZF79abY"

    ours = activity(
        "message_card_submit_value_2019", value={ACTION_KEY: "match.accept", VALUE_KEY: "42"}
    )
    event = parse_activity(ours)
    assert event is not None and event.action is not None
    assert (event.action.action_id, event.action.value, event.action.values) == (
        "match.accept",
        "42",
        {},
    )


def test_action_execute_invoke() -> None:
    data = activity("invoke_adaptiveCard_action_execute_2026")
    data["value"]["action"]["verb"] = "feedback"
    event = parse_activity(data)
    assert event is not None
    assert event.kind is EventKind.ACTION
    assert event.conversation.kind is ConversationKind.DM
    assert event.action is not None
    assert event.action.action_id == "feedback"
    assert event.action.values == {"feedback": "test invokes"}
    assert event.action.message_id == "1767765488332"
    assert event.timezone == "America/Los_Angeles"

    data["value"]["action"]["data"] = {ACTION_KEY: "kudos", VALUE_KEY: "7"}
    event = parse_activity(data)
    assert event is not None and event.action is not None
    assert (event.action.action_id, event.action.value) == ("kudos", "7")


def test_select_and_form_submissions() -> None:
    data = activity("invoke_adaptiveCard_action_execute_2026")
    data["value"]["action"]["data"] = {
        ACTION_KEY: "pick.community",
        SELECT_KEY: "pick.community",
        "pick.community": "c2",
    }
    event = parse_activity(data)
    assert event is not None and event.action is not None
    assert (event.action.action_id, event.action.value, event.action.values) == (
        "pick.community",
        "c2",
        {},
    )

    data["value"]["action"]["data"] = {FORM_KEY: "ask", META_KEY: "c1", "question": "Hoe?"}
    event = parse_activity(data)
    assert event is not None and event.action is not None
    assert event.kind is EventKind.FORM_SUBMIT
    assert event.action.form_id == "ask"
    assert event.action.value == "c1"
    assert event.action.values == {"question": "Hoe?"}


def test_card_invoke_without_name_and_task_submit() -> None:
    event = parse_activity(activity("invoke_card_action_no_name_2019"))
    assert event is not None and event.kind is EventKind.ACTION
    assert event.action is not None and event.action.values == {"key": "value"}
    # its answer is empty: what the clicker is told goes to their personal chat
    assert RESPOND_INLINE_HINT not in event.reply_hints
    event = parse_activity(activity("invoke_task_submit_2019"))
    assert event is not None and event.action is not None
    assert event.action.values == {"usertext": "some text"}
    assert event.reply_hints[RESPOND_INLINE_HINT] is True  # told in the dialog's answer
    assert parse_activity(activity("invoke_task_fetch_2019")) is None


def test_message_update_and_delete() -> None:
    edited = activity("message_channel_reply_mention_2025", type="messageUpdate")
    edited["channelData"]["eventType"] = "editMessage"
    edited["text"] = "<at>ridotest</at> updated text"
    event = parse_activity(edited)
    assert event is not None
    assert event.kind is EventKind.MESSAGE_EDITED
    assert event.message_id == "1759944781430"
    assert event.text == "updated text"
    # A different de-duplication key than the original message.
    assert event.event_id != "1759944781430"

    deleted = activity("message_channel_reply_mention_2025", type="messageDelete", text="")
    deleted["channelData"]["eventType"] = "softDeleteMessage"
    event = parse_activity(deleted)
    assert event is not None
    assert event.kind is EventKind.MESSAGE_DELETED
    assert event.message_id == "1759944781430"
    assert event.event_id == "delete:1759944781430"

    undelete = activity("message_channel_reply_mention_2025", type="messageUpdate")
    undelete["channelData"]["eventType"] = "undeleteMessage"
    assert parse_activity(undelete) is None


def test_messages_from_bots_are_flagged() -> None:
    data = activity("message_personal_2019")
    data["from"] = {"id": "28:other-bot", "name": "Other"}
    event = parse_activity(data)
    assert event is not None and event.is_from_bot


def test_without_tenant_nothing_is_produced() -> None:
    data = activity("message_personal_2019")
    del data["conversation"]["tenantId"]
    del data["channelData"]["tenant"]
    assert parse_activity(data) is None


def test_split_conversation_id() -> None:
    assert split_conversation_id("19:a@thread.skype;messageid=12") == ("19:a@thread.skype", "12")
    assert split_conversation_id("a:xyz") == ("a:xyz", None)


def test_reactions() -> None:
    data = activity(
        "message_channel_reply_mention_2025",
        type="messageReaction",
        id="f:reaction-1",
        replyToId="1:bot-message",
        reactionsAdded=[{"type": "like"}],
    )
    del data["text"]
    event = parse_activity(data)
    assert event is not None
    assert event.kind is EventKind.REACTION_ADDED
    assert event.action is not None
    assert (event.action.value, event.action.message_id) == ("+1", "1:bot-message")
    assert event.event_id == "f:reaction-1"
    removed = {**data, "reactionsAdded": None, "reactionsRemoved": [{"type": "like"}]}
    assert parse_activity(removed) is None
