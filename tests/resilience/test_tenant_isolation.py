"""Cross-tenant isolation: what happens in workspace A can never be read or changed from
workspace B, even by the same user id (Enterprise Grid's W… ids and a person in two
Teams tenants share one) and even with button values, command arguments or thread ids
that name A's rows.

Through the core on SQLite and PostgreSQL: narrations and matching suggestions, buttons
carrying A's ids (suggestion, narration, connection, question), durf-te-vragen commands
naming A's question number, the privacy export and erasure, /wol config, roles, rounds
and the insight report. Then end to end: a Slack app installed (OAuth) in two
workspaces, with requests signed for one, and the Teams endpoint with two tenants."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from sqlmodel import func, select

from bot.features.privacy import CONFIRM as FORGET_CONFIRM
from bot.store.tables import Narration
from bot.store.tables.asks import Acknowledgement, Question
from bot.store.tables.matching import Connection, MatchSuggestion
from tests.adapters.slack import conftest as slack_fixtures
from tests.adapters.slack.conftest import DATA, SIGNING_SECRET
from tests.adapters.teams import conftest as teams_fixtures
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

slack_api = slack_fixtures.slack_api
serve_slack = slack_fixtures.serve_slack
connector = teams_fixtures.connector

A, B = "test:TA", "test:TB"
WORK = "I'm working on moving our CI from Jenkins to GitHub Actions"
SIMILAR = "I'm working on replacing our Jenkins build server with GitHub Actions"
SECRET = "Zuidema"  # only in workspace A's texts
A_WORK = f"I'm working on moving the {SECRET} CI from Jenkins to GitHub Actions"
SETTINGS = {
    "workspaces": {
        A: {
            "admins": ["alice"],
            "managers": ["alice"],
            "channels": {
                "CDURF": {"kind": "durf-te-vragen", "anonymous": True},
                "CDIA": {"kind": "dialogue"},
            },
        },
        B: {
            "admins": ["mallory"],
            "managers": ["mallory"],
            "channels": {
                "CDURF": {"kind": "durf-te-vragen", "anonymous": True},
                "CDIA": {"kind": "dialogue"},
            },
        },
    }
}


async def say(core: Any, port: RecordingPort, event: Any) -> list[Any]:
    before = len(port.records)
    await core.handle(event)
    await core.delivery.drain()
    return port.records[before:]


def in_b(records: list[Any]) -> str:
    """Everything the bot showed in workspace B, as text."""
    return "\n".join(r.text for r in records if r.dest is None or r.dest.workspace_id == B)


async def count(core: Any, model: Any, workspace: str) -> int:
    async with core.db.session() as s:
        query = select(func.count()).select_from(model).where(model.workspace_id == workspace)
        return int((await s.exec(query)).one())


async def test_nothing_of_workspace_a_is_read_or_written_from_workspace_b(
    make_core, port: RecordingPort
) -> None:
    core = make_core(port, **SETTINGS)
    await core.start(deliver=False)

    # --- A: a narration, a suggestion, a connection, an anonymous question, a round -----
    await say(core, port, ev.message(A_WORK, user="alice", workspace_id=A))
    await say(core, port, ev.message(SIMILAR, user="bob", workspace_id=A, message_id="m-a-bob"))
    async with core.db.session() as s:
        [suggestion] = (await s.exec(select(MatchSuggestion))).all()
        narration_a = (await s.exec(select(Narration).where(Narration.author_id == "alice"))).one()
    assert suggestion.workspace_id == A  # the control: matching works within A
    await say(
        core, port, ev.click("matching.connect", str(suggestion.id), user="bob", workspace_id=A)
    )
    async with core.db.session() as s:
        [connection] = (await s.exec(select(Connection))).all()
    await say(
        core,
        port,
        ev.command(
            f"ask anon How safe is {SECRET}?",
            user="alice",
            channel="D-alice",
            kind=ev.ConversationKind.DM,
            workspace_id=A,
        ),
    )
    async with core.db.session() as s:
        [question] = (await s.exec(select(Question))).all()
    await say(
        core, port, ev.command("round now #CDIA", user="alice", channel="CDIA", workspace_id=A)
    )
    await say(core, port, ev.command("config set language nl", user="alice", workspace_id=A))
    await say(core, port, ev.command("config roles grant @bob admin", user="alice", workspace_id=A))
    snapshot_a = {
        m.__name__: await count(core, m, A)
        for m in (Narration, MatchSuggestion, Connection, Question, Acknowledgement)
    }
    async with core.db.session() as s:
        outcome_a = (await s.get(MatchSuggestion, suggestion.id)).outcome
        helped_a = (await s.get(Connection, connection.id)).helped
    assert outcome_a == "connected"

    # --- B: the same people (same ids), the same work, and every id of A ------------------
    seen_b: list[Any] = []
    seen_b += await say(
        core, port, ev.message(SIMILAR, user="alice", workspace_id=B, message_id="m-b-alice")
    )
    seen_b += await say(core, port, ev.message(WORK, user="bob", workspace_id=B))
    async with core.db.session() as s:
        b_suggestions = (
            await s.exec(select(MatchSuggestion).where(MatchSuggestion.workspace_id == B))
        ).all()
    # B's two narrations match each other, never A's
    assert {(r.narrator_id, r.person_id) for r in b_suggestions} <= {("bob", "alice")}
    assert all(r.narration_id != narration_a.id for r in b_suggestions)
    for action_id, value in [
        ("matching.connect", suggestion.id),
        ("matching.dismiss", suggestion.id),
        ("matching.done", narration_a.id),
        ("matching.someone", narration_a.id),
        (f"matching.pick.{narration_a.id}", "mallory"),
        ("matching.followup.yes", connection.id),
        ("ask.ack", question.id),
        ("ask.answered", question.id),
    ]:
        for user in ("bob", "mallory"):  # bob: the narrator in A; mallory: B's admin
            seen_b += await say(
                core, port, ev.click(action_id, str(value), user=user, workspace_id=B)
            )
    for text in (
        f"ask reply {question.id} it is fine",
        f"ask answered {question.id}",
        f"ask hide {question.id}",
        "round status",
        "round close #CDIA",
        "privacy export",
        "stats",
        "config show",
        "config history",
        "config roles list",
    ):
        seen_b += await say(core, port, ev.command(text, user="mallory", workspace_id=B))
    seen_b += await say(core, port, ev.command("privacy export", user="alice", workspace_id=B))
    seen_b += await say(
        core, port, ev.command("config set language en", user="bob", workspace_id=B)
    )  # bob is an admin in A only
    seen_b += await say(core, port, ev.command("privacy forget", user="alice", workspace_id=B))
    confirm = [
        b
        for r in seen_b
        if r.message
        for blk in r.message.blocks
        if blk.type == "actions"
        for b in blk.elements
        if b.action_id == FORGET_CONFIRM
    ]
    for button in confirm[:1]:
        seen_b += await say(
            core, port, ev.click(button.action_id, button.value or "", user="alice", workspace_id=B)
        )

    # nothing of A was shown in B …
    shown = in_b(seen_b)
    assert SECRET not in shown, shown
    assert all(r.dest is None or r.dest.workspace_id == B for r in seen_b)
    export_parts = [r.text for r in seen_b if "wolbot-export-" in r.text]
    assert export_parts and all(SECRET not in p for p in export_parts)
    assert "Only wolbot admins" in shown  # bob's /wol config in B is refused
    # … and nothing of A changed
    assert {
        m.__name__: await count(core, m, A)
        for m in (Narration, MatchSuggestion, Connection, Question, Acknowledgement)
    } == snapshot_a
    async with core.db.session() as s:
        assert (await s.get(MatchSuggestion, suggestion.id)).outcome == outcome_a
        assert (await s.get(Connection, connection.id)).helped == helped_a
        stored = await s.get(Question, question.id)
        assert stored is not None and not stored.hidden and stored.answered_at is None
        assert stored.first_ack_at is None
    assert confirm, "alice's erasure in B was confirmed"
    async with core.db.session() as s:  # … it erased her narration in B, not the one in A
        authors = {(n.workspace_id, n.author_id) for n in (await s.exec(select(Narration))).all()}
    assert ("test:TA", "alice") in authors and (B, "alice") not in authors
    assert await core.config.value(A, "language") == "nl"
    assert await core.config.value(B, "language") == "en"  # the built-in default, unchanged
    assert "admin" in await core.roles.granted(A, "bob")
    assert "admin" not in await core.roles.granted(B, "bob")


# --- Slack: one app installed (OAuth) in two workspaces -----------------------------------------

TA, TB = "TAAAA0001", "TBBBB0002"
TOKENS = {TA: "xoxb-team-a-token", TB: "xoxb-team-b-token"}


def _slack_event(
    team: str, text: str, *, event_id: str, ts: str, user: str = "W111", channel: str = "C111"
) -> dict:
    body = json.loads((DATA / "events" / "event_callback_message.json").read_text())
    body.pop("enterprise_id", None)
    body.update(
        team_id=team,
        event_id=event_id,
        authorizations=[{"team_id": team, "user_id": "UBOT", "is_bot": True}],
    )
    body["event"].update(text=text, user=user, team=team, ts=ts, event_ts=ts, channel=channel)
    body["event"].pop("blocks", None)
    return body


def _slack_command(slack_api: Any, team: str, text: str, hook: str, user: str = "W111") -> dict:
    body = dict(parse_qsl((DATA / "commands" / "slash_command.form-urlencoded.txt").read_text()))
    body.pop("enterprise_id", None)
    body.pop("enterprise_name", None)
    body.update(
        command="/wol",
        text=text,
        team_id=team,
        user_id=user,
        channel_id="C111",
        response_url=slack_api.response_url(hook),
        trigger_id=f"trigger-{hook}",
    )
    return body


async def test_a_slack_request_for_one_workspace_never_reaches_the_other(
    serve_slack, slack_api
) -> None:
    from tests.adapters.slack.test_slack_oauth import install

    template = json.loads(
        (DATA / "web_api" / "bolt_mock_oauth_v2_access_response.json").read_text()
    )
    for n, team in enumerate((TA, TB)):
        grant = {k: v for k, v in template.items() if k not in ("ok", "enterprise")}
        slack_api.oauth_codes[f"code-{n}"] = grant | {
            "access_token": TOKENS[team],
            "team": {"id": team, "name": team},
        }
    slack_api.add_user("W111", locale="en-US")
    slack_api.add_user("W222", locale="en-US")
    core, slack = await serve_slack(
        env={
            "SLACK_CLIENT_ID": "111.222",
            "SLACK_CLIENT_SECRET": "client-secret",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api.url,
        }
    )
    for n in range(2):
        assert (await install(slack, f"code-{n}"))[0] == 200

    # the same person (W111) and the same event id in both workspaces: both are handled
    await slack.event(_slack_event(TA, A_WORK, event_id="EvSame", ts="1700000001.000100"))
    await slack.event(
        _slack_event(TA, SIMILAR, event_id="EvA2", ts="1700000002.000100", user="W222")
    )
    await slack.event(_slack_event(TB, SIMILAR, event_id="EvSame", ts="1700000003.000100"))
    await slack.processed()
    await core.delivery.drain()
    async with core.db.session() as s:
        stored = {(n.workspace_id, n.author_id) for n in (await s.exec(select(Narration))).all()}
        [suggestion] = (await s.exec(select(MatchSuggestion))).all()
    assert stored == {(f"slack:{TA}", "W111"), (f"slack:{TA}", "W222"), (f"slack:{TB}", "W111")}
    assert suggestion.workspace_id == f"slack:{TA}"  # the control: A's two narrations match

    # in B: a button naming A's suggestion, App Home, the privacy export, /wol config
    click = json.loads((DATA / "interactivity" / "block_actions.json").read_text())
    click.update(team={"id": TB, "domain": "b"}, response_url=slack_api.response_url("forged"))
    click["user"] = {"id": "W222", "username": "w", "name": "w", "team_id": TB}
    click["container"] = {
        "type": "message",
        "message_ts": "1700000003.000100",
        "channel_id": "C111",
    }
    click["actions"][0].update(action_id="matching.connect", value=str(suggestion.id))
    assert (await slack.interaction(click))[0] == 200
    home = json.loads(
        (DATA / "events" / "event_callback_app_home_opened_messages_tab.json").read_text()
    )
    home.update(
        team_id=TB,
        event_id="EvHomeB",
        enterprise_id=None,
        authorizations=[{"team_id": TB, "user_id": "UBOT", "is_bot": True}],
    )
    home["event"].update(tab="home", user="W111")
    await slack.event(home)
    await slack.command(_slack_command(slack_api, TB, "privacy export", "export"))
    await slack.command(_slack_command(slack_api, TB, "config show", "config"))
    await slack.processed()
    await core.delivery.drain()
    await slack_api.wait_for("views.publish")
    await slack_api.wait_for("files.completeUploadExternal")
    await slack_api.settle(0.3)

    async with core.db.session() as s:
        assert (await s.get(MatchSuggestion, suggestion.id)).outcome is None
        assert list((await s.exec(select(Connection))).all()) == []
    assert slack_api.calls_to("conversations.open") == []
    for call in slack_api.calls:
        sent = json.dumps(call.args, ensure_ascii=False)
        if call.token == TOKENS[TB] or "forged" in call.path or "export" in call.path:
            assert SECRET not in sent, (call.method, sent[:300])
    uploads = [bytes(f["content"] or b"").decode() for f in slack_api.files.values()]
    assert uploads and all(SECRET not in u and '"W111"' in u for u in uploads)
    [published] = slack_api.calls_to("views.publish")
    assert published.token == TOKENS[TB] and "replacing our Jenkins" in json.dumps(published.args)
    gone = [c for c in slack_api.calls_to("response_url") if c.path.endswith("forged")]
    assert gone and "no longer available" in json.dumps(gone[0].args)


# --- Teams: two tenants on one bot -------------------------------------------------------------

TENANT_B = "0b0b0b0b-0000-4000-8000-00000000000b"


def _teams_message(
    connector: Any, text: str, msg_id: str, user: str, tenant: str | None = None
) -> dict:
    from tests.adapters.teams.teams_helpers import activity

    body = connector.rewrite(
        activity("message_channel_mention_2019", id=msg_id, text=text, entities=[])
    )
    body["from"] = {"id": f"29:{user}", "name": user.title()}
    body["conversation"] = {
        **body["conversation"],
        "id": f"19:097e6717fd7245bdbeba6baa13840db8@thread.skype;messageid={msg_id}",
    }
    if tenant:
        body["conversation"]["tenantId"] = tenant
        body["channelData"] = {**body["channelData"], "tenant": {"id": tenant}}
    return body


async def test_a_teams_tenant_never_sees_or_changes_another_tenants_data(
    tmp_path, connector
) -> None:
    from adapters.teams import TEAMS_INBOX
    from tests.adapters.teams.teams_helpers import activity
    from tests.resilience.test_hostile_teams import serve, stop

    app = await serve(tmp_path, {"WOLBOT_TEAMS_DEV": "1"})

    async def post(body: dict) -> int:
        status, _ = await app.post(json.dumps(body).encode(), "application/json")
        await app.server.app[TEAMS_INBOX].wait_idle()  # stored, answered, then handled
        await app.core.delivery.drain()
        return status

    try:
        assert await post(_teams_message(connector, A_WORK, "1000", "alice")) == 201
        assert await post(_teams_message(connector, SIMILAR, "2000", "bob")) == 201
        [suggestion] = [c for c in connector.of("reply") if c.card is not None]  # control
        # "Connect me" is the narrator's own (a per-viewer card): bob's version of the card
        view = connector.rewrite(activity("invoke_adaptiveCard_action_execute_2026"))
        bob_a = _teams_message(connector, SIMILAR, "2000", "bob")
        view.update(
            {
                "id": "view-bob",
                "from": bob_a["from"],
                "conversation": bob_a["conversation"],
                "channelData": bob_a["channelData"],
                "replyToId": suggestion.answer_id,
            }
        )
        refresh = suggestion.card["refresh"]["action"]
        view["value"] = {
            "action": {"type": "Action.Execute", "verb": refresh["verb"], "data": refresh["data"]},
            "trigger": "automatic",
        }
        status, answer = await app.post(json.dumps(view).encode(), "application/json")
        assert status == 200
        bobs = json.loads(answer)["value"]
        buttons = [a for b in bobs["body"] if b["type"] == "ActionSet" for a in b["actions"]]
        connect = next(a for a in buttons if "matching.connect" in json.dumps(a["data"]))
        before = len(connector.calls)
        # tenant B: the same people and channel ids, the same work, A's button
        assert await post(_teams_message(connector, SIMILAR, "3000", "alice", TENANT_B)) == 201
        click = connector.rewrite(activity("invoke_adaptiveCard_action_execute_2026"))
        bob_b = _teams_message(connector, SIMILAR, "2000", "bob", TENANT_B)
        click.update(
            {
                "from": bob_b["from"],
                "conversation": bob_b["conversation"],
                "channelData": bob_b["channelData"],
                "replyToId": "1:suggestion",
            }
        )
        click["value"]["action"] = {
            "type": "Action.Execute",
            "verb": connect["verb"],
            "data": connect["data"],
        }
        status, answer = await app.post(json.dumps(click).encode(), "application/json")
        await app.server.app[TEAMS_INBOX].wait_idle()
        await app.core.delivery.drain()
        assert status == 200
        # the clicker is told in place, under the card (Universal Actions), nothing is sent
        assert "no longer available" in answer and SECRET not in answer
        in_b = connector.calls[before:]
        assert all(SECRET not in json.dumps(c.body) for c in in_b)
        # no introduction: no conversation is opened in B for A's button
        assert not [c for c in in_b if c.op == "create_conversation"]
        assert not [
            c for c in in_b if c.card is not None and "matching.connect" in json.dumps(c.card)
        ]  # nothing of A is suggested in B
        async with app.core.db.session() as s:
            rows = (await s.exec(select(Narration))).all()
            assert {r.workspace_id for r in rows} == {
                "teams:72f988bf-86f1-41af-91ab-2d7cd011db47",
                f"teams:{TENANT_B}",
            }
            assert (await s.get(MatchSuggestion, 1)).outcome is None
            assert list((await s.exec(select(Connection))).all()) == []
    finally:
        await stop(app)
