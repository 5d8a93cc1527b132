"""Shortcuts, modals (with field errors), App Home and the channel-join introduction,
end to end through `wolbot serve`, the core and the fake Slack Web API."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.store.tables import Narration


async def narrations(core) -> list[Narration]:
    async with core.db.session() as s:
        return list((await s.exec(select(Narration))).all())


def submission(payload, view: dict, text: str, trigger: str) -> dict:
    """A view_submission for the modal the bot opened (as Slack would send it back)."""
    body = payload("interactivity/view_submission.json")
    body["trigger_id"] = trigger
    body["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
        state={"values": {"text": {"text": {"type": "plain_text_input", "value": text}}}},
    )
    return body


async def test_global_shortcut_modal_with_field_error_then_narration(
    serve_slack, payload, slack_api
):
    core, slack = await serve_slack()
    shortcut = payload("interactivity/shortcut_global.json")
    shortcut["callback_id"] = "wol_narrate"
    status, _ = await slack.interaction(shortcut)
    assert status == 200
    [opened] = await slack_api.wait_for("views.open")
    assert opened.args["trigger_id"] == "111.111.xxxxxx"
    view = opened.args["view"]
    assert view["callback_id"] == "wol_narrate"
    assert view["title"]["text"] == "Narrate my work"
    assert view["blocks"][-1]["element"]["action_id"] == "text"

    # one word is not enough: the error is shown in the modal, nothing is recorded
    status, text = await slack.interaction(submission(payload, view, "reports", "t.1"))
    assert status == 200
    assert json.loads(text) == {
        "response_action": "errors",
        "errors": {"text": "Tell me in a few words what you are working on."},
    }
    assert await narrations(core) == []

    # too long: the core's own limit, shown in the modal too
    long_text = "word " * 1000
    status, text = await slack.interaction(submission(payload, view, long_text, "t.2"))
    assert json.loads(text)["errors"]["text"].startswith("That is 4999 characters")

    status, text = await slack.interaction(
        submission(payload, view, "I'm working on the travel policy FAQ", "t.3")
    )
    assert (status, text) == (200, "")  # the modal closes
    [stored] = await narrations(core)
    assert stored.topic == "the travel policy FAQ"
    assert stored.source == "shortcut"
    assert stored.visibility == "dm"  # no channel: private to the person
    # the confirmation goes to the person only (their DM with the app)
    [confirm] = await slack_api.wait_for("chat.postMessage")
    assert confirm.args["channel"] == "W111"
    assert "the travel policy FAQ" in confirm.args["text"]


async def test_modal_in_dutch_for_a_dutch_profile(serve_slack, payload, slack_api):
    slack_api.add_user("W111", locale="nl-NL")
    _core, slack = await serve_slack()
    shortcut = payload("interactivity/shortcut_global.json")
    shortcut["callback_id"] = "wol_narrate"
    await slack.interaction(shortcut)
    [opened] = await slack_api.wait_for("views.open")
    view = opened.args["view"]
    assert view["title"]["text"] == "Hardop werken"
    assert view["submit"]["text"] == "Delen"
    _, text = await slack.interaction(submission(payload, view, "rapport", "t.nl"))
    assert json.loads(text)["errors"]["text"] == (
        "Vertel in een paar woorden waar je mee bezig bent."
    )


async def test_message_shortcut_shares_a_message_that_then_follows_it(
    serve_slack, payload, slack_api
):
    core, slack = await serve_slack()
    shortcut = payload("interactivity/shortcut_message.json")
    shortcut["callback_id"] = "wol_share_message"
    shortcut["message"]["text"] = "Drafting the &lt;new&gt; onboarding guide for <@W222>"
    assert (await slack.interaction(shortcut))[0] == 200
    [opened] = await slack_api.wait_for("views.open")
    view = opened.args["view"]
    assert view["title"]["text"] == "Share your work"
    field = view["blocks"][-1]["element"]
    assert field["initial_value"] == "Drafting the <new> onboarding guide for @W222"
    status, text = await slack.interaction(
        submission(payload, view, field["initial_value"], "t.share")
    )
    assert (status, text) == (200, "")
    [stored] = await narrations(core)
    assert stored.channel_id == "C111"
    assert stored.message_id == "1583636382.000300"  # W111 wrote it: linked to the message
    assert stored.visibility == "public"
    # deleting the message removes the narration
    deleted = payload("events/event_callback_message_deleted.json")
    deleted["authorizations"][0]["team_id"] = "T111"
    deleted["event"]["deleted_ts"] = "1583636382.000300"
    deleted["event"]["previous_message"].update(ts="1583636382.000300", user="W111")
    assert (await slack.event(deleted))[0] == 200
    await slack.processed()
    assert await narrations(core) == []


async def test_app_home_publish(serve_slack, payload, slack_api):
    slack_api.add_user("W111", display_name="Wim")
    _core, slack = await serve_slack()
    narration = payload("events/event_callback_message.json")
    narration["event"].update(
        text="I'm working on the intranet search", channel_type="im", channel="D111"
    )
    await slack.event(narration)
    await slack_api.wait_for("reactions.add")

    opened = payload("events/event_callback_app_home_opened_messages_tab.json")
    opened.update(event_id="EvHome", enterprise_id=None, authorizations=[])
    opened["event"]["tab"] = "home"
    assert (await slack.event(opened))[0] == 200
    [published] = await slack_api.wait_for("views.publish")
    assert published.args["user_id"] == "W111"
    view = published.args["view"]
    assert view["type"] == "home"
    text = json.dumps(view)
    assert "What you shared recently" in text
    assert "the intranet search" in text
    assert "direct message" in text
    assert "wol_open_narrate" in text and "wol_home_language" in text
    assert "only admins see this" not in text


async def test_app_home_shows_configuration_to_admins(serve_slack, payload, slack_api):
    slack_api.add_user("W111", is_admin=True)
    _core, slack = await serve_slack()
    opened = payload("events/event_callback_app_home_opened_messages_tab.json")
    opened["event"]["tab"] = "home"
    await slack.event(opened)
    [published] = await slack_api.wait_for("views.publish")
    text = json.dumps(published.args["view"])
    assert "Configuration (only admins see this)" in text
    assert "Narrations in this workspace: 0" in text


async def test_app_home_language_choice_republishes_in_dutch(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    click = payload("interactivity/block_actions.json")
    click.pop("channel")
    click["container"] = {"type": "view", "view_id": "V1"}
    click["view"] = {
        "id": "V1",
        "type": "home",
        "callback_id": "",
        "private_metadata": "",
        "state": {"values": {}},
    }
    click["actions"] = [
        {
            "type": "static_select",
            "action_id": "wol_home_language",
            "block_id": "b",
            "selected_option": {"value": "nl"},
            "action_ts": "1.2",
        }
    ]
    assert (await slack.interaction(click))[0] == 200
    [published] = await slack_api.wait_for("views.publish")
    text = json.dumps(published.args["view"], ensure_ascii=False)
    assert "Ik praat met je in het Nederlands." in text
    assert await core.personal.language("slack:T111", "W111") == "nl"


async def test_bot_added_to_channel_introduces_itself_once(serve_slack, payload, slack_api):
    _core, slack = await serve_slack()
    joined = payload("events/event_callback_member_joined_channel.json")
    joined["event"]["user"] = slack_api.bot_user_id
    assert (await slack.event(joined))[0] == 200
    [intro] = await slack_api.wait_for("chat.postMessage")
    assert intro.args["channel"] == "C111"
    assert "Hi, I'm wolbot" in intro.args["text"]
    assert "*/wol help*" in intro.args["text"] or "/wol help" in json.dumps(intro.args)
    # removed and invited again later (a new event): no second introduction
    joined["event_id"] = "Ev222"
    assert (await slack.event(joined))[0] == 200
    await slack_api.settle(0.5)
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_bot_added_introduces_itself_in_the_channels_language(
    serve_slack, payload, slack_api
):
    _core, slack = await serve_slack(workspaces={"slack:T_INSTALLED": {"language": "nl"}})
    joined = payload("events/event_callback_member_joined_channel.json")
    joined["event"]["user"] = slack_api.bot_user_id
    await slack.event(joined)
    [intro] = await slack_api.wait_for("chat.postMessage")
    assert intro.args["text"].startswith("Hoi, ik ben wolbot.")
    assert "/wol hulp" in intro.args["text"]


async def test_someone_else_joining_is_not_introduced(serve_slack, payload, slack_api):
    _core, slack = await serve_slack()
    assert (await slack.event(payload("events/event_callback_member_joined_channel.json")))[
        0
    ] == 200
    await slack_api.settle(0.4)
    assert slack_api.calls_to("chat.postMessage") == []


async def test_app_home_lists_connections(serve_slack, payload, slack_api):
    from datetime import UTC, datetime

    from bot.store.tables.matching import Connection

    core, slack = await serve_slack()
    async with core.db.session() as s:
        s.add(
            Connection(
                workspace_id="slack:T111",
                narrator_id="W111",
                person_id="U222",
                suggested_by="bot",
                created_at=datetime(2026, 11, 2, tzinfo=UTC),
            )
        )
        s.add(
            Connection(
                workspace_id="slack:T111", narrator_id="U333", person_id="U444", suggested_by="bot"
            )
        )
        await s.commit()
    opened = payload("events/event_callback_app_home_opened_messages_tab.json")
    opened["event"]["tab"] = "home"
    await slack.event(opened)
    [published] = await slack_api.wait_for("views.publish")
    text = json.dumps(published.args["view"])
    assert "Introduced to <@U222> on 2026-11-02" in text
    assert "U444" not in text  # other people's connections are not shown
