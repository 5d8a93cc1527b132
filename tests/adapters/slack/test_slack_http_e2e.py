"""End to end: signed Slack requests -> the real `wolbot serve` app -> real core on SQLite
-> outbox -> SlackPort -> the fake Slack Web API. Real slack-bolt, real slack_sdk."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qsl

import pytest
from sqlmodel import select

from bot.store.tables import Narration

NARRATION = "I'm working on the Q3 onboarding checklist"


def narration_event(payload, *, text=NARRATION, event_id="Ev100", ts="1700000100.000100", **ev):
    body = payload("events/event_callback_message.json")
    body["event_id"] = event_id
    body["event"].update(text=text, ts=ts, event_ts=ts, **ev)
    body["event"].pop("blocks", None)
    return body


def wol(payload, slack_api, text="help", **fields):
    body = dict(parse_qsl(payload("commands/slash_command.form-urlencoded.txt")))
    body.update(
        command="/wol",
        text=text,
        response_url=slack_api.response_url(fields.pop("hook", "wol")),
        **fields,
    )
    return body


async def narrations(core) -> list[Narration]:
    async with core.db.session() as s:
        return list((await s.exec(select(Narration))).all())


async def test_url_verification(serve_slack, payload):
    _, slack = await serve_slack()
    status, text = await slack.event(payload("events/url_verification.json"))
    assert status == 200
    assert json.loads(text) == {"challenge": "valid_challenge_token"}


async def test_forged_signature_is_refused_and_nothing_processed(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    status, _ = await slack.event(narration_event(payload), signature="v0=" + "0" * 64)
    assert status == 401
    old = int(time.time()) - 6 * 60  # Slack: older than 5 minutes is a replay
    status, _ = await slack.event(narration_event(payload), timestamp=old)
    assert status == 401
    await slack.processed()
    await slack_api.settle()
    assert await narrations(core) == []
    assert slack_api.calls_to("reactions.add") == []


async def test_wrong_secret_is_refused(serve_slack, payload):
    _core, slack = await serve_slack()
    slack.secret = "not-the-secret"
    status, _ = await slack.event(narration_event(payload))
    assert status == 401


async def test_narration_in_channel_gets_a_reaction_and_retry_gets_nothing(
    serve_slack, payload, slack_api
):
    slack_api.add_user("W111", display_name="Wim", locale="en-US")
    core, slack = await serve_slack()
    body = narration_event(payload)
    status, _ = await slack.event(body)
    assert status == 200
    [reaction] = await slack_api.wait_for("reactions.add")
    assert reaction.args == {"channel": "C111", "timestamp": "1700000100.000100", "name": "memo"}
    assert reaction.token == "xoxb-test-token"
    [stored] = await narrations(core)
    assert stored.workspace_id == "slack:T111"
    assert stored.topic == "the Q3 onboarding checklist"
    assert stored.visibility == "public"

    # Slack retries the same event (e.g. after a timeout), twice: nothing more happens.
    for retry in (1, 2):
        status, _ = await slack.event(body, retry_num=retry)
        assert status == 200
    await slack.processed()
    await slack_api.settle(0.5)
    assert len(slack_api.calls_to("reactions.add")) == 1
    assert len(await narrations(core)) == 1
    assert slack_api.calls_to("chat.postMessage") == []


async def test_duplicate_event_id_across_a_restart_and_a_second_replica(
    serve_slack, payload, slack_api, sqlite_url
):
    _core_a, slack_a = await serve_slack()
    body = narration_event(payload, event_id="EvDup")
    await slack_a.event(body)
    await slack_api.wait_for("reactions.add")
    # a second replica on the same database receives the same delivery
    core_b, slack_b = await serve_slack(sqlite_url)
    status, _ = await slack_b.event(body, retry_num=1)
    assert status == 200
    await slack_a.processed()
    await slack_b.processed()
    await slack_api.settle(0.5)
    assert len(slack_api.calls_to("reactions.add")) == 1
    assert len(await narrations(core_b)) == 1


async def test_concurrent_duplicates_have_one_effect(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    body = narration_event(payload, event_id="EvRace")
    results = await asyncio.gather(*(slack.event(body, retry_num=n) for n in range(4)))
    assert all(status == 200 for status, _ in results)
    await slack_api.wait_for("reactions.add")
    await slack.processed()
    await slack_api.settle(0.5)
    assert len(slack_api.calls_to("reactions.add")) == 1
    assert len(await narrations(core)) == 1


async def test_narration_in_dm(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    body = narration_event(
        payload,
        text="working on a reading list for new team leads",
        channel="D0DM1",
        channel_type="im",
    )
    status, _ = await slack.event(body)
    assert status == 200
    [reaction] = await slack_api.wait_for("reactions.add")
    assert reaction.args["channel"] == "D0DM1"
    [stored] = await narrations(core)
    assert stored.visibility == "dm"


async def test_bot_messages_are_ignored(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    for name in (
        "event_callback_message_bot_message.json",
        "event_callback_message_from_bot_user.json",
    ):
        body = payload(f"events/{name}")
        body["event"]["text"] = NARRATION
        status, _ = await slack.event(body)
        assert status == 200
    # and our own messages (bot user from auth.test) never reach the core
    own = narration_event(payload, event_id="EvOwn", user=slack_api.bot_user_id)
    await slack.event(own)
    await slack.processed()
    await slack_api.settle(0.5)
    assert slack_api.calls_to("reactions.add") == []
    assert await narrations(core) == []


async def test_edited_narration_is_updated_and_deleted_one_removed(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    ts = "1665102338.901939"
    await slack.event(narration_event(payload, ts=ts, event_id="EvA", user="U111"))
    await slack_api.wait_for("reactions.add")

    edited = payload("events/event_callback_message_changed.json")
    edited["event_id"] = "EvB"
    edited["authorizations"][0]["team_id"] = "T111"
    edited["event"]["message"]["text"] = "I'm working on the Q4 onboarding checklist"
    edited["event"]["previous_message"]["text"] = NARRATION
    assert (await slack.event(edited))[0] == 200
    await slack.processed()
    [stored] = await narrations(core)
    assert stored.topic == "the Q4 onboarding checklist"

    deleted = payload("events/event_callback_message_deleted.json")
    deleted["event_id"] = "EvC"
    deleted["authorizations"][0]["team_id"] = "T111"
    deleted["event"]["deleted_ts"] = ts
    deleted["event"]["previous_message"]["ts"] = ts
    assert (await slack.event(deleted))[0] == 200
    await slack.processed()
    assert await narrations(core) == []


async def test_wol_help_in_english(serve_slack, payload, slack_api):
    _core, slack = await serve_slack()
    status, text = await slack.command(wol(payload, slack_api, "help"))
    assert status == 200 and text == ""  # acknowledged at once; the answer follows
    [answer] = await slack_api.wait_for("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert "I help colleagues work out loud" in answer.args["text"]
    assert any("/wol help" in json.dumps(b) for b in answer.args["blocks"])


async def test_wol_help_in_dutch(serve_slack, payload, slack_api):
    _core, slack = await serve_slack()
    status, _ = await slack.command(wol(payload, slack_api, "hulp"))
    assert status == 200
    [answer] = await slack_api.wait_for("response_url")
    text = json.dumps(answer.args, ensure_ascii=False)
    assert "/wol hulp" in text
    assert "I help colleagues work out loud" not in answer.args["text"]


async def test_wol_help_in_dutch_from_a_dutch_profile_in_dm(serve_slack, payload, slack_api):
    slack_api.add_user("W111", display_name="Wim", locale="nl-NL")
    _core, slack = await serve_slack()
    body = wol(payload, slack_api, "", channel_id="D111", channel_name="directmessage")
    assert (await slack.command(body))[0] == 200
    [answer] = await slack_api.wait_for("response_url")
    assert "/wol hulp" in json.dumps(answer.args, ensure_ascii=False)


async def test_user_text_is_escaped_when_echoed(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    hostile = "<!channel> <!here> &lt;http://evil.test|bank&gt; <@U0BOSS>"
    body = wol(payload, slack_api, f"working on {hostile}")
    assert (await slack.command(body))[0] == 200
    [answer] = await slack_api.wait_for("response_url")
    sent = json.dumps(answer.args)
    for dangerous in ("<!channel>", "<!here>", "<http://evil.test|", "<@U0BOSS>"):
        assert dangerous not in sent
    # ... while the person's words are still shown, escaped
    quote = answer.args["blocks"][-1]["text"]["text"]
    assert "@channel @here &lt;http://evil.test|bank&gt; @U0BOSS" in quote
    [stored] = await narrations(core)
    assert stored.topic == "@channel @here <http://evil.test|bank> @U0BOSS"


async def test_database_down_answers_non_2xx_so_slack_retries(serve_slack, payload, slack_api):
    core, slack = await serve_slack()
    await slack.event(narration_event(payload, event_id="EvWarm"))  # auth.test done, db warm
    await slack_api.wait_for("reactions.add")
    await slack.processed()
    await core.db.engine.dispose()
    real_session = core.db._sessions

    def broken(*_args):
        raise OSError("database is down")

    core.db._sessions = broken
    core.db.autocommit_engine = broken  # the inbox's own connections (one-statement writes)
    try:
        status, _ = await slack.event(narration_event(payload, event_id="EvDown", ts="1.1"))
        assert status >= 500
    finally:
        core.db._sessions = real_session
        del core.db.autocommit_engine
    # the retry, once the database is back, is processed normally
    status, _ = await slack.event(
        narration_event(payload, event_id="EvDown", ts="1.1"), retry_num=1
    )
    assert status == 200
    await slack_api.wait_for("reactions.add", 2)


@pytest.mark.parametrize("kind", ["app_rate_limited", "view_closed"])
async def test_requests_without_meaning_are_acknowledged(
    serve_slack, payload, slack_api, kind, caplog
):
    _core, slack = await serve_slack()
    if kind == "app_rate_limited":
        status, _ = await slack.event(payload("events/app_rate_limited.docs_example.json"))
        assert "Slack rate-limited events for team T123456" in caplog.text
    else:
        status, _ = await slack.interaction(payload("interactivity/view_closed.json"))
    assert status == 200


@pytest.mark.parametrize(("is_private", "visibility"), [(True, "private"), (False, "public")])
async def test_command_in_a_private_c_channel_is_private(
    serve_slack, payload, slack_api, is_private, visibility
):
    slack_api.channels["C111"] = {"is_private": is_private}
    core, slack = await serve_slack()
    assert (await slack.command(wol(payload, slack_api, "working on a secret plan")))[0] == 200
    [stored] = await narrations(core)
    assert stored.visibility == visibility
    assert slack_api.calls_to("conversations.info")[0].args["channel"] == "C111"
    # a second command in the same channel uses the cached answer
    await slack.command(wol(payload, slack_api, "working on another plan", trigger_id="2.2.2"))
    assert len(slack_api.calls_to("conversations.info")) == 1


async def test_unknown_channel_privacy_counts_as_private(serve_slack, payload, slack_api):
    slack_api.fail("conversations.info", "missing_scope", times=None)
    core, slack = await serve_slack()
    assert (await slack.command(wol(payload, slack_api, "working on a plan")))[0] == 200
    [stored] = await narrations(core)
    assert stored.visibility == "private"
