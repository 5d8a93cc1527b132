"""Administration, privacy and durf te vragen through Slack: signed real payloads into
`wolbot serve`, answers through SlackPort to the fake Web API."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qsl

import pytest

from bot.store.tables.admin import AuditEntry
from tests.adapters.slack.conftest import slack_env

WS = "slack:T111"
SETTINGS = {
    "workspaces": {
        WS: {
            "admins": ["W111"],
            "managers": ["W333"],
            "channels": {"CDURF": {"kind": "durf-te-vragen", "anonymous": True}},
        }
    }
}


def wol(payload, slack_api, text, hook, **fields):
    body = dict(parse_qsl(payload("commands/slash_command.form-urlencoded.txt")))
    body.update(
        command="/wol",
        text=text,
        response_url=slack_api.response_url(hook),
        trigger_id=f"trigger-{hook}",
        **fields,
    )  # each command its own id
    return body


async def answer(slack_api, hook: str) -> str:
    calls = await slack_api.wait_for("response_url", count=1)
    for call in reversed(await slack_api.wait_for("response_url", count=len(calls))):
        if call.path == hook:
            return json.dumps(call.args, ensure_ascii=False)
    raise AssertionError(f"no answer on {hook}")


async def test_config_by_an_admin_and_refused_for_a_member(serve_slack, payload, slack_api):
    core, slack = await serve_slack(**SETTINGS)
    await slack.command(wol(payload, slack_api, "config set nudges.ack_hours 6", "admin"))
    await slack_api.wait_for("response_url", count=1)
    assert "nudges.ack_hours is now 6 (was 4)" in await answer(slack_api, "admin")
    member = wol(
        payload,
        slack_api,
        "config set nudges.ack_hours 9",
        "member",
        user_id="W222",
        user_name="member",
    )
    await slack.command(member)
    await slack_api.wait_for("response_url", count=2)
    assert "Only wolbot admins can use" in await answer(slack_api, "member")
    assert await core.config.value(WS, "nudges.ack_hours") == 6
    async with core.db.session() as s:
        from sqlmodel import select

        assert [e.actor_id for e in await s.exec(select(AuditEntry))] == ["W111"]


async def test_anonymous_question_and_a_managers_acknowledgement(serve_slack, payload, slack_api):
    core, slack = await serve_slack(**SETTINGS)
    ask = wol(
        payload,
        slack_api,
        "ask anon Mag ik vragen hoe de reorganisatie gaat?",
        "ask",
        user_id="W222",
        user_name="asker",
        channel_id="D222",
        channel_name="directmessage",
    )
    await slack.command(ask)
    posts = await slack_api.wait_for("chat.postMessage", count=1)
    question = next(p for p in posts if p.args["channel"] == "CDURF")
    assert "W222" not in json.dumps(question.args) and "asker" not in json.dumps(question.args)
    await core.delivery.drain()
    ts = await core.outbox.result_message_id("ask:slack:T111:1")
    click = payload("interactivity/block_actions.json")
    click["user"] = {"id": "W333", "username": "mona", "name": "mona", "team_id": "T111"}
    click["channel"] = {"id": "CDURF", "name": "durf"}
    click["container"] = {"type": "message", "message_ts": ts, "channel_id": "CDURF"}
    click["message"] = {"ts": ts, "type": "message"}
    click["actions"][0].update(action_id="ask.ack", value="1")
    click["response_url"] = slack_api.response_url("ack")
    status, _ = await slack.interaction(click)
    assert status == 200
    posts = await slack_api.wait_for("chat.postMessage", count=2)
    ack = next(p for p in posts if p.args.get("thread_ts") == ts)
    assert "Great that you ask this!" in json.dumps(ack.args) and "<@W333>" in json.dumps(ack.args)
    # the question card itself now says who acknowledged it (chat.update), for everyone
    (update,) = await slack_api.wait_for("chat.update", count=1)
    assert update.args["ts"] == ts and update.args["channel"] == "CDURF"
    assert "Acknowledged by <@W333>" in json.dumps(update.args)
    # a second click changes nothing
    click["response_url"] = slack_api.response_url("again")
    click["trigger_id"] = "trigger-again"
    click["actions"][0]["action_ts"] = "1700000999.000001"
    assert (await slack.interaction(click))[0] == 200
    await core.delivery.drain()
    assert "You already acknowledged this question." in await answer(slack_api, "again")
    assert len([c for c in slack_api.calls if c.method == "chat.update"]) == 1


async def test_privacy_export_arrives_as_a_file(serve_slack, payload, slack_api):
    _core, slack = await serve_slack(**SETTINGS)
    await slack.command(wol(payload, slack_api, "working on the archive migration", "n"))
    await slack.command(wol(payload, slack_api, "privacy export", "x"))
    await slack_api.wait_for("files.completeUploadExternal")
    [upload] = slack_api.files.values()
    data = json.loads(upload["content"])
    assert data["platform"] == "slack" and data["schema"] == "wolbot-export/1"
    assert "archive migration" in data["narrations"][0]["text"]
    assert b"W111" not in upload["content"]  # no platform ids in the readable export


@pytest.mark.parametrize(
    ("language", "command", "sent", "note"),
    [
        ("en", "stats", "wolbot-stats-", "I've sent you the chart in a direct message."),
        ("nl", "cijfers", "wolbot-stats-", "De grafiek staat in een privébericht voor je klaar."),
        (
            "en",
            "privacy export",
            "wolbot-export-",
            "I'm sending your data to you in a direct message.",
        ),
        ("nl", "privacy exporteer", "wolbot-export-", "Ik stuur je gegevens in een privébericht."),
        (
            "en",
            "dashboard",
            "/dashboard/login/",
            "I've sent you a sign-in link in a direct message.",
        ),
        (
            "nl",
            "dashboard",
            "/dashboard/login/",
            "Ik heb je een inloglink gestuurd in een privébericht.",
        ),
    ],
)
async def test_asked_in_a_channel_the_answer_says_it_was_sent_by_dm(
    serve_slack, payload, slack_api, language, command, sent, note
):
    """In a channel Slack answers only-you there, so what went to the DM with the app (the
    chart, the export, the dashboard's sign-in link) is announced in that answer (Teams,
    whose answer lands beside it in the personal chat, leaves the note out:
    tests/adapters/teams/test_teams_files.py)."""
    env = slack_env(
        slack_api,
        WOLBOT_PUBLIC_URL="https://bot.example.org",
        WOLBOT_SECRET_KEY="test-secret-key-0123456789",
    )
    workspace = {**SETTINGS["workspaces"][WS], "language": language}
    _core, slack = await serve_slack(env=env, workspaces={WS: workspace})
    await slack.command(wol(payload, slack_api, command, "x"))
    deadline = time.monotonic() + 15  # the chart is drawn before the note is queued
    while time.monotonic() < deadline:
        answers = [
            json.dumps(c.args, ensure_ascii=False) for c in slack_api.calls_to("response_url")
        ]
        by_dm = [json.dumps(c.args) for c in slack_api.calls if c.method != "response_url"]
        if any(note in a for a in answers) and any(sent in a for a in by_dm):
            break
        await asyncio.sleep(0.05)
    assert any(note in a for a in answers), answers
    assert any(sent in a for a in by_dm), slack_api.methods


async def test_every_config_subcommand_for_admins_and_members(serve_slack, payload, slack_api):
    import html

    from sqlmodel import func, select

    from bot.store.tables.admin import RoleGrant, SettingOverride
    from tests.core.test_admin import ADMIN_COMMANDS

    same_as_core_test = {
        "workspaces": {
            WS: {
                "admins": ["W111"],
                "language": "en",
                "checkins": {"time": "09:00"},
                "channels": {"C9": {"language": "nl"}},
            }
        }
    }
    core, slack = await serve_slack(**same_as_core_test)
    for n, (command, expected) in enumerate(ADMIN_COMMANDS):
        text = command.replace("@bob", "<@W444|bob>")  # Slack writes people as ids
        await slack.command(wol(payload, slack_api, text, f"a{n}"))
        await slack_api.wait_for("response_url", count=n + 1)
        got = html.unescape(json.loads(await answer(slack_api, f"a{n}"))["text"])
        assert expected.replace("@bob", "<@W444>") in got, (command, got[:300])
    async with core.db.session() as s:
        overrides = (await s.exec(select(func.count()).select_from(SettingOverride))).one()
    for n, (command, _) in enumerate(ADMIN_COMMANDS):
        member = wol(payload, slack_api, command, f"m{n}", user_id="W222", user_name="member")
        await slack.command(member)
        await slack_api.wait_for("response_url", count=len(ADMIN_COMMANDS) + n + 1)
        assert "Only wolbot admins can use" in await answer(slack_api, f"m{n}"), command
    async with core.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(SettingOverride))).one() == overrides
        assert (await s.exec(select(func.count()).select_from(RoleGrant))).one() == 0


async def test_named_question_card_and_a_refused_click(serve_slack, payload, slack_api):
    core, slack = await serve_slack(**SETTINGS)
    body = payload("events/event_callback_message.json")
    body["event_id"] = "EvDurf1"
    body["event"].update(
        channel="CDURF",
        user="W222",
        text="Hoe vraag ik zorgverlof aan?",
        ts="1700000200.000100",
        event_ts="1700000200.000100",
        channel_type="channel",
    )
    body["event"].pop("blocks", None)
    assert (await slack.event(body))[0] == 200
    await slack.processed()
    posts = await slack_api.wait_for("chat.postMessage")
    card = next(p for p in posts if p.args.get("thread_ts") == "1700000200.000100")
    assert "ask.ack" in json.dumps(card.args)
    click = payload("interactivity/block_actions.json")
    click["user"] = {"id": "W222", "username": "not-a-manager", "team_id": "T111"}
    click["channel"] = {"id": "CDURF", "name": "durf"}
    click["container"] = {
        "type": "message",
        "message_ts": "1700000200.000200",
        "channel_id": "CDURF",
    }
    click["actions"][0].update(action_id="ask.ack", value="1")
    click["response_url"] = slack_api.response_url("refused")
    assert (await slack.interaction(click))[0] == 200
    await slack_api.wait_for("response_url")
    # W222 wrote their question in Dutch: the refusal is in Dutch (issue 16)
    assert "Vragen waarderen is voor leidinggevenden" in await answer(slack_api, "refused")
    from sqlmodel import select

    from bot.store.tables.asks import Question

    async with core.db.session() as s:
        question = (await s.exec(select(Question))).one()
    assert question.asker_id == "W222" and question.first_ack_at is None
