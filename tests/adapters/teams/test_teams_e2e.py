"""End to end: the real aiohttp app of `wolbot serve` with the Teams adapter attached, a real
Wolbot on SQLite, botbuilder's CloudAdapter and connector client, and the fake Bot Connector.

Inbound activities are the recorded Teams payloads with their serviceUrl rewritten to the
fake; the bot's answers leave through the outbox and are asserted where Teams would get
them: at the Bot Connector.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters.teams import TEAMS_INBOX
from adapters.teams.render import render_card
from adapters.web import build_web_app
from bot.app import build
from bot.authorisation import ANYONE
from bot.clock import FakeClock
from bot.events import EventKind, InboundEvent
from bot.messages import Actions, Button, OutboundMessage, Select
from bot.ports import Destination
from bot.router import kind
from bot.runtime import Wolbot
from tests.adapters.teams.teams_helpers import activity
from tests.conftest import make_settings
from tests.fakes.bot_connector import FakeBotConnector

DEV_ENV = {"WOLBOT_TEAMS_DEV": "1"}


@dataclass
class TeamsApp:
    core: Wolbot
    server: TestServer
    connector: FakeBotConnector
    session: aiohttp.ClientSession
    seen: list[InboundEvent] = field(default_factory=list)

    async def post(self, body: dict[str, Any], **headers: str) -> aiohttp.ClientResponse:
        response = await self.session.post(
            self.server.make_url("/api/messages"), json=body, headers=headers
        )
        await response.read()
        await self.processed()
        return response

    async def processed(self) -> None:
        """Wait until the inbox has handed every stored message activity to the core."""
        await self.server.app[TEAMS_INBOX].wait_idle()

    async def deliver(self) -> None:
        await self.core.delivery.drain(timeout=20)


StartApp = Callable[..., Awaitable[TeamsApp]]


@pytest.fixture
async def start_app(sqlite_url: str, connector: FakeBotConnector) -> AsyncIterator[StartApp]:
    started: list[TeamsApp] = []
    clock = FakeClock()

    async def start(env: dict[str, str] | None = None, **overrides: Any) -> TeamsApp:
        settings = make_settings(sqlite_url, env=dict(env or DEV_ENV), **overrides)
        core = build(settings, clock=clock)
        await core.start(deliver=False)
        server = TestServer(build_web_app(core, adapters=["teams"]), host="127.0.0.1")
        await server.start_server()
        app = TeamsApp(core, server, connector, aiohttp.ClientSession())
        started.append(app)
        return app

    yield start
    for app in started:
        await app.session.close()
        await app.server.close()
        await app.core.stop()


def record_events(app: TeamsApp, event_kind: EventKind) -> None:
    async def handler(event: InboundEvent, ctx: Any) -> None:
        app.seen.append(event)

    # records only: any clicker may (bot/authorisation.py refuses routes without a rule)
    app.core.router.add(kind(event_kind), handler, name=f"test.{event_kind}", who=ANYONE)


async def test_personal_narration_is_answered(start_app: StartApp) -> None:
    app = await start_app()
    body = app.connector.rewrite(
        activity("message_personal_2019", text="I'm working on the budget for 2027")
    )
    response = await app.post(body)
    assert response.status == 201
    # nothing is posted while the request is answered: replies leave through the outbox
    assert app.connector.of("send", "reply") == []
    await app.deliver()
    (reply,) = await app.connector.wait_for("reply")
    assert reply.conversation_id == body["conversation"]["id"]
    assert reply.activity_id == body["id"]
    assert reply.body["text"] == "📝"
    stored = await app.core.narrations.by_message(
        "teams:" + body["conversation"]["tenantId"], body["conversation"]["id"], body["id"]
    )
    assert stored is not None and stored.topic.startswith("the budget")


async def test_a_message_is_answered_before_it_is_handled(start_app: StartApp) -> None:
    """Store, then acknowledge: the Bot Connector's answer does not wait for handling, and
    the stored activity is handled afterwards (also by the next process, after a crash)."""
    app = await start_app()
    inbox = app.server.app[TEAMS_INBOX]
    await inbox.stop()  # nothing handles: the answer can only come from storing
    body = app.connector.rewrite(
        activity("message_personal_2019", text="I'm working on the store-first drill")
    )
    async with app.session.post(app.server.make_url("/api/messages"), json=body) as response:
        assert response.status == 201
    workspace = "teams:" + body["conversation"]["tenantId"]
    assert (
        await app.core.narrations.by_message(workspace, body["conversation"]["id"], body["id"])
        is None
    )
    inbox.start()
    await app.processed()
    await app.deliver()
    (reply,) = await app.connector.wait_for("reply")
    assert reply.body["text"] == "📝"
    assert (
        await app.core.narrations.by_message(workspace, body["conversation"]["id"], body["id"])
        is not None
    )


async def test_a_similar_narration_in_the_channel_is_answered_in_its_thread(
    start_app: StartApp,
) -> None:
    """The acceptance case: a second person's similar narration gets a suggestion there."""
    app = await start_app()
    alice = app.connector.rewrite(
        activity(
            "message_channel_mention_2019",
            text="I'm working on moving our CI from Jenkins to GitHub Actions",
            entities=[],
        )
    )
    bob = app.connector.rewrite(
        activity(
            "message_channel_mention_2019",
            id="1571537160000",
            text="Ik werk aan het overzetten van onze Jenkins-jobs naar GitHub Actions",
            entities=[],
        )
    )
    bob["from"] = {
        "id": "29:bob",
        "name": "Bob",
        "aadObjectId": "b0b00000-0000-4000-8000-0000000000b0",
    }
    bob["conversation"] = {
        **bob["conversation"],
        "id": "19:097e6717fd7245bdbeba6baa13840db8@thread.skype;messageid=1571537160000",
    }
    assert (await app.post(alice)).status == 201
    await app.deliver()
    assert (await app.post(bob)).status == 201
    await app.deliver()
    suggestions = [c for c in app.connector.of("reply") if c.card is not None]
    assert len(suggestions) == 1
    (suggestion,) = suggestions
    assert suggestion.conversation_id.endswith(";messageid=1571537160000")
    assert suggestion.activity_id == "1571537160000"
    entities = suggestion.card["msteams"]["entities"]
    assert [e["mentioned"]["id"] for e in entities] == [alice["from"]["id"]]
    assert "Vergelijkbaar werk" in suggestion.card["fallbackText"]

    # "Breng ons in contact" is Bob's: the card refreshes per viewer, so only he sees it
    assert suggestion.card["refresh"]["userIds"] == ["29:bob"]
    shared = [
        a["title"]
        for b in suggestion.card["body"]
        if b["type"] == "ActionSet"
        for a in b["actions"]
    ]
    assert "Breng ons in contact" not in shared

    async def view(who: dict[str, Any], id_: str) -> dict[str, Any]:
        body = app.connector.rewrite(activity("invoke_adaptiveCard_action_execute_2026"))
        body.update(
            {
                "id": id_,
                "from": who,
                "conversation": bob["conversation"],
                "channelData": bob["channelData"],
                "replyToId": suggestion.answer_id,
                "locale": "nl-NL",
            }
        )
        body["value"] = {
            "action": {"type": "Action.Execute", "verb": refresh["verb"], "data": refresh["data"]},
            "trigger": "automatic",
        }
        return (await (await app.post(body)).json())["value"]

    refresh = suggestion.card["refresh"]["action"]
    others = await view(alice["from"], "view-alice")
    assert [
        a["title"] for b in others["body"] if b["type"] == "ActionSet" for a in b["actions"]
    ] == shared
    bobs = await view(bob["from"], "view-bob")
    buttons = [a for b in bobs["body"] if b["type"] == "ActionSet" for a in b["actions"]]

    # Bob clicks "Breng ons in contact" (Action.Execute) on that card: both get an
    # introduction in their own 1:1 chat, as Teams bots cannot start group chats.
    connect = next(a for a in buttons if a["title"] == "Breng ons in contact")
    click = app.connector.rewrite(activity("invoke_adaptiveCard_action_execute_2026"))
    click.update(
        {
            "from": bob["from"],
            "conversation": bob["conversation"],
            "channelData": bob["channelData"],
            "replyToId": suggestion.answer_id,
            "locale": "nl-NL",
        }
    )
    click["value"]["action"] = {
        "type": "Action.Execute",
        "verb": connect["verb"],
        "data": connect["data"],
    }
    answer = await app.post(click)
    assert answer.status == 200
    # the card comes back with "connected" where the buttons were, and is updated in place
    card = (await answer.json())["value"]
    assert "In contact gebracht met" in json.dumps(card, ensure_ascii=False)
    assert connect["data"] not in [
        a["data"] for b in card["body"] if b["type"] == "ActionSet" for a in b["actions"]
    ]
    await app.deliver()
    (update,) = app.connector.of("update")
    # everyone's card shows the state; the clicker's also what they were told (only-you)
    assert update.activity_id == click["replyToId"]
    assert card["body"][:-1] == update.card["body"]
    assert "Ik heb een gesprek gestart tussen" in card["body"][-1]["text"]
    created = app.connector.of("create_conversation")
    assert sorted(c.body["members"][0]["id"] for c in created) == sorted(
        [alice["from"]["id"], "29:bob"]
    )
    both = {alice["from"]["id"], "29:bob"}
    intros = [
        c
        for c in app.connector.of("send")
        if c.conversation_id in app.connector.created
        and c.card
        and {e["mentioned"]["id"] for e in c.card["msteams"].get("entities", ())} >= both
        and ("meet" in c.card["fallbackText"] or "maak kennis met" in c.card["fallbackText"])
    ]
    assert sorted(c.conversation_id for c in intros) == sorted(app.connector.created)
    # mentions show names, not Bot Framework ids, even where the feature gave none
    tags = {e["text"] for e in intros[0].card["msteams"]["entities"]}
    assert tags == {"<at>Bob</at>", "<at>Dave Taniguchi</at>"}


async def test_edited_and_deleted_narrations_follow_their_message(start_app: StartApp) -> None:
    app = await start_app()
    post = app.connector.rewrite(
        activity(
            "message_channel_mention_2019",
            text="I'm working on the travel policy",
            entities=[],
        )
    )
    assert (await app.post(post)).status == 201
    ws = "teams:" + post["conversation"]["tenantId"]
    channel = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"
    stored = await app.core.narrations.by_message(ws, channel, post["id"])
    assert stored is not None and stored.topic == "the travel policy"

    edit = {
        **post,
        "type": "messageUpdate",
        "text": "I'm working on the travel and expenses policy",
        "timestamp": "2019-10-20T02:07:00.000Z",
        "channelData": {**post["channelData"], "eventType": "editMessage"},
    }
    assert (await app.post(edit)).status == 201  # not mistaken for a repeat of the post
    stored = await app.core.narrations.by_message(ws, channel, post["id"])
    assert stored is not None and stored.topic == "the travel and expenses policy"

    delete = {
        **post,
        "type": "messageDelete",
        "text": "",
        "channelData": {**post["channelData"], "eventType": "softDeleteMessage"},
    }
    assert (await app.post(delete)).status == 201
    assert await app.core.narrations.by_message(ws, channel, post["id"]) is None


async def test_commands_in_english_and_dutch(start_app: StartApp) -> None:
    app = await start_app()
    english = app.connector.rewrite(
        activity("message_personal_2019", id="1001", text="wol help", locale="en-US")
    )
    dutch = app.connector.rewrite(
        activity("message_personal_2019", id="1002", text="/wol hulp", locale="nl-NL")
    )
    for body in (english, dutch):
        assert (await app.post(body)).status == 201
    await app.deliver()
    calls = await app.connector.wait_for("send", "reply", count=2)
    texts = [c.card["fallbackText"] for c in calls if c.card]
    assert len(texts) == 2
    en = app.core.translator("en")
    nl = app.core.translator("nl")
    summary = "Tell colleagues what you are working on"
    assert nl.gettext(summary) != summary  # the Dutch catalogue has it
    assert any(en.gettext(summary) in t for t in texts)
    assert any(nl.gettext(summary) in t for t in texts)


async def test_submit_and_execute_on_the_same_card(start_app: StartApp) -> None:
    app = await start_app()
    record_events(app, EventKind.ACTION)
    card = render_card(
        OutboundMessage.of(
            Actions(elements=(Button(label="Ik help", action_id="offer.help", value="n42"),))
        )
    )
    button = card["body"][0]["actions"][0]
    # Action.Submit: Teams posts a message activity with the button's data as `value`.
    submit = app.connector.rewrite(
        activity("message_card_submit_value_2019", value=dict(button["data"]))
    )
    assert (await app.post(submit)).status == 201
    # Action.Execute: an invoke that must get an invoke response, not a 501.
    execute = app.connector.rewrite(activity("invoke_adaptiveCard_action_execute_2026"))
    execute["value"]["action"] = {
        "type": "Action.Execute",
        "verb": button["verb"],
        "data": button["data"],
    }
    response = await app.session.post(app.server.make_url("/api/messages"), json=execute)
    assert response.status == 200
    answer = await response.json()
    assert answer["statusCode"] == 200
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    assert answer["value"] == app.core.translator("en").gettext("Thanks, got it.")
    assert [(e.action.action_id, e.action.value) for e in app.seen if e.action] == [
        ("offer.help", "n42"),
        ("offer.help", "n42"),
    ]
    assert app.seen[1].action is not None and app.seen[1].action.message_id == "1767765488332"


async def test_people_picker_choice_becomes_a_user_id(start_app: StartApp) -> None:
    app = await start_app()
    record_events(app, EventKind.ACTION)
    card = render_card(
        OutboundMessage.of(
            Actions(elements=(Select(action_id="intro.who", placeholder="Who?", people=True),))
        )
    )
    ok_button = card["body"][1]["actions"][0]
    # Anna wrote to the bot before: known by her AAD object id. Bob is only in the team roster.
    anna = app.connector.rewrite(activity("message_channel_reply_mention_2025", text="hi"))
    assert (await app.post(anna)).status == 201
    team = anna["channelData"]["team"]["id"]
    app.connector.add_member(
        team, {"id": "29:bob", "objectId": "0b0b0b0b-0000-4000-8000-000000000b0b"}
    )
    picks = {
        anna["from"]["aadObjectId"]: anna["from"]["id"],
        "0b0b0b0b-0000-4000-8000-000000000b0b": "29:bob",
        "dddddddd-0000-4000-8000-00000000dddd": "dddddddd-0000-4000-8000-00000000dddd",
    }
    for n, aad in enumerate(picks):
        execute = app.connector.rewrite(activity("invoke_adaptiveCard_action_execute_2026"))
        execute["id"] = f"f:pick-{n}"
        # a card in Anna's team channel (the recorded invoke is from another tenant)
        execute["conversation"] = anna["conversation"]
        execute["channelData"] = anna["channelData"]
        execute["value"]["action"] = {
            "type": "Action.Execute",
            "verb": ok_button["verb"],
            "data": {**ok_button["data"], "intro.who": aad},
        }
        assert (await app.post(execute)).status == 200
    assert [e.action.value for e in app.seen if e.action] == list(picks.values())


async def test_other_invokes_are_answered_200(start_app: StartApp) -> None:
    app = await start_app()
    for name in (
        "invoke_task_fetch_2019",
        "invoke_task_submit_2019",
        "invoke_card_action_no_name_2019",
    ):
        response = await app.post(app.connector.rewrite(activity(name)))
        assert response.status == 200, name


async def test_bot_installed_in_a_team_introduces_itself_once(start_app: StartApp) -> None:
    app = await start_app()
    body = app.connector.rewrite(activity("conversationUpdate_bot_added_to_team_docs_2021"))
    assert (await app.post(body)).status == 201
    # Teams installs again (or retries with a new id): still one introduction
    again = {**body, "id": "f:another-delivery"}
    assert (await app.post(again)).status == 201
    await app.deliver()
    (post,) = await app.connector.wait_for("send")
    assert post.conversation_id == "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"
    assert post.body["from"]["id"] == "28:608cacfd-1cea-40c9-b678-4b93e69bb72b"
    assert post.card is not None
    assert post.card["fallbackText"].startswith("Hi, I'm wolbot. I help this channel work out loud")
    assert "/wol help" in post.card["fallbackText"]
    assert len(app.connector.of("send", "reply")) == 1


async def test_installed_in_a_personal_chat_introduces_itself_in_dutch(
    start_app: StartApp,
) -> None:
    app = await start_app()
    body = app.connector.rewrite(activity("conversationUpdate_bot_added_to_team_docs_2021"))
    body["conversation"] = {
        "conversationType": "personal",
        "tenantId": body["conversation"]["tenantId"],
        "id": "a:1personal-chat",
    }
    body["locale"] = "nl-NL"
    del body["channelData"]["team"]
    assert (await app.post(body)).status == 201
    await app.deliver()
    (post,) = await app.connector.wait_for("send")
    assert post.conversation_id == "a:1personal-chat"
    assert post.card is not None
    assert post.card["fallbackText"].startswith("Hoi, ik ben wolbot.")
    assert "/wol hulp" in post.card["fallbackText"]


async def test_proactive_send_after_a_restart(start_app: StartApp) -> None:
    first = await start_app()
    body = first.connector.rewrite(activity("message_channel_reply_mention_2025", text="hi"))
    assert (await first.post(body)).status == 201
    await first.core.stop()

    second = await start_app()  # a new process: only the database remembers the reference
    workspace = "teams:" + body["conversation"]["tenantId"]
    channel = "19:6848757105754c8981c67612732d9aa7@thread.tacv2"
    await second.core.outbox.send(
        "teams",
        Destination(workspace, channel),
        OutboundMessage.text("This week's question: what did you learn?"),
        key="proactive-1",
    )
    await second.deliver()
    (post,) = await second.connector.wait_for("send")
    assert post.conversation_id == channel
    assert post.body["serviceUrl"] == second.connector.service_url


async def test_a_429_from_the_connector_is_retried(start_app: StartApp) -> None:
    app = await start_app()
    app.connector.fail("reply", status=429, retry_after=0.05)
    body = app.connector.rewrite(
        activity("message_personal_2019", text="I'm working on the supplier contracts")
    )
    assert (await app.post(body)).status == 201
    await app.deliver()
    replies = lambda: [c.status for c in app.connector.calls if c.op == "reply"]  # noqa: E731
    assert replies() == [429]
    app.core.clock.advance(seconds=1)  # type: ignore[attr-defined]
    await app.deliver()
    await app.connector.wait_for("reply")
    assert replies() == [429, 201]


async def test_database_down_asks_for_a_retry(start_app: StartApp) -> None:
    app = await start_app()
    warm = app.connector.rewrite(activity("message_personal_2019", text="I'm working on Y"))
    assert (await app.post(warm)).status == 201  # the database is warm, the inbox idle
    await app.core.db.engine.dispose()
    real_session = app.core.db._sessions

    def broken(*_args: Any) -> Any:
        raise OSError("database is down")

    body = app.connector.rewrite(activity("message_personal_2019", text="I'm working on X"))
    body["id"] = "1:down-then-up"
    app.core.db._sessions = broken  # type: ignore[method-assign, assignment]
    app.core.db.autocommit_engine = broken  # type: ignore[method-assign]  # the inbox's INSERT
    try:
        response = await app.session.post(app.server.make_url("/api/messages"), json=body)
        assert response.status == 503  # not stored: the Bot Connector retries
        # an invoke, handled before its answer, is refused the same way
        invoke = app.connector.rewrite(activity("invoke_adaptiveCard_action_execute_2026"))
        response = await app.session.post(app.server.make_url("/api/messages"), json=invoke)
        assert response.status == 503
    finally:
        app.core.db._sessions = real_session  # type: ignore[method-assign]
        del app.core.db.autocommit_engine
    assert (await app.post(body)).status == 201  # the retry, once the database is back
    await app.deliver()
    assert len([r for r in app.connector.of("reply") if r.activity_id == body["id"]]) == 1


async def test_duplicate_delivery_is_handled_once(start_app: StartApp) -> None:
    app = await start_app()
    body = app.connector.rewrite(
        activity("message_personal_2019", text="I'm working on the office move")
    )
    assert (await app.post(body)).status == 201
    assert (await app.post(body)).status == 201  # the Bot Connector retried
    await app.deliver()
    assert len(app.connector.of("reply")) == 1


async def test_bad_requests(start_app: StartApp) -> None:
    app = await start_app()
    url = app.server.make_url("/api/messages")
    response = await app.session.post(url, data="x", headers={"Content-Type": "text/plain"})
    assert response.status == 415
    response = await app.session.post(url, data="{", headers={"Content-Type": "application/json"})
    assert response.status == 400
    response = await app.session.post(url, json={"text": "no type"})
    assert response.status == 400
