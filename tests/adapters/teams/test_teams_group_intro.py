"""Introductions in one Teams group chat (issue 20 item 6): the real app and botbuilder
against the fake Bot Connector and a fake Microsoft Graph, both on 127.0.0.1.

Where the tenant granted the Graph permissions, "Connect me" creates one group chat with both
people (`POST /chats`), adds the app to it (`POST /chats/{id}/installedApps`) and posts the
bilingual introduction there once. Where Graph refuses or its token endpoint fails, the two
personal chats get it, as before, and `/wol config show` tells admins why, in their language.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from adapters.teams.graph import INSTALL_AND_CONSENT, GraphSettings
from adapters.teams.group_chats import GroupChats
from adapters.teams.members import Members, Seen
from adapters.teams.package import teams_app_id
from adapters.teams.port import GROUP_PREFIX, TeamsPort
from adapters.teams.sdk import TeamsAuthConfig, make_adapter
from bot.clock import SystemClock
from bot.messages import OutboundMessage
from bot.ports import DeliveryError, Destination
from bot.store.delivery_log import References
from bot.store.limits import Limits
from bot.store.tables import OutboxItem
from bot.store.tables.teams import TeamsGroupChat
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, TeamsApp, start_app  # noqa: F401
from tests.fakes.graph import FakeGraph

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
CHANNEL_BOT = "eac5e5c6-ab14-4f50-80cb-49213fe51b1a"  # the recorded channel activity's bot
ALICE_AAD = "6b703ce3-6d14-4fe6-b90c-dc5f03657ae4"
BOB = {"id": "29:bob", "name": "Bob", "aadObjectId": "b0b00000-0000-4000-8000-0000000000b0"}
CAROL = {"id": "29:carol", "name": "Carol", "aadObjectId": "c0c00000-0000-4000-8000-0000000000c0"}
DAAN = {"id": "29:daan", "name": "Daan", "aadObjectId": "d0d00000-0000-4000-8000-0000000000d0"}
ADMIN = "29:1kbOecyrymSn1FtrbJlQNF_BvhIpb7CLGbmjaTldT8A8tXXphjq4BcA2KfWGwoI-ahbEJ_Og1syGOt68MsLId1Q"
SETTINGS = {"workspaces": {WS: {"admins": [ADMIN]}}}


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with FakeGraph() as fake:
        fake.publish(teams_app_id(None, CHANNEL_BOT))
        yield fake


def graph_env(graph: FakeGraph) -> dict[str, str]:
    return {
        "WOLBOT_TEAMS_DEV": "1",
        "WOLBOT_TEAMS_GRAPH_URL": graph.graph_url,
        "WOLBOT_TEAMS_GRAPH_TOKEN_URL": graph.token_url,
    }


async def connect(
    app: TeamsApp, *, thread: str = "1571537160000", bob: dict[str, str] = BOB
) -> dict[str, Any]:
    """Alice narrates in English, Bob (Dutch) likewise in the channel, and Bob clicks
    "Breng ons in contact" on the suggestion wolbot posts under his narration."""
    root = str(int(thread) - 1000)
    alice = app.connector.rewrite(
        activity(
            "message_channel_mention_2019",
            id=root,
            text="I'm working on moving our CI from Jenkins to GitHub Actions",
            entities=[],
        )
    )
    alice["conversation"] = {
        **alice["conversation"],
        "id": f"19:097e6717fd7245bdbeba6baa13840db8@thread.skype;messageid={root}",
    }
    person = bob
    bob = app.connector.rewrite(
        activity(
            "message_channel_mention_2019",
            id=thread,
            locale="nl-NL",
            text="Ik werk aan het overzetten van onze Jenkins-jobs naar GitHub Actions",
            entities=[],
        )
    )
    bob["from"] = person
    bob["conversation"] = {
        **bob["conversation"],
        "id": f"19:097e6717fd7245bdbeba6baa13840db8@thread.skype;messageid={thread}",
    }
    assert (await app.post(alice)).status == 201
    await app.deliver()
    assert (await app.post(bob)).status == 201
    await app.deliver()
    (suggestion,) = [
        c for c in app.connector.of("reply") if c.card is not None and c.activity_id == thread
    ]
    view = app.connector.rewrite(activity("invoke_adaptiveCard_action_execute_2026"))
    view.update(
        {
            "id": f"view-{thread}",
            "from": person,
            "conversation": bob["conversation"],
            "channelData": bob["channelData"],
            "replyToId": suggestion.answer_id,
            "locale": "nl-NL",
            "recipient": alice["recipient"],
        }
    )
    refresh = suggestion.card["refresh"]["action"]
    view["value"] = {
        "action": {"type": "Action.Execute", "verb": refresh["verb"], "data": refresh["data"]},
        "trigger": "automatic",
    }
    card = (await (await app.post(view)).json())["value"]
    connect = next(
        a
        for b in card["body"]
        if b["type"] == "ActionSet"
        for a in b["actions"]
        if a["title"] == "Breng ons in contact"
    )
    click = app.connector.rewrite(activity("invoke_adaptiveCard_action_execute_2026"))
    click.update(
        {
            "id": f"click-{thread}",
            "from": person,
            "conversation": bob["conversation"],
            "channelData": bob["channelData"],
            "replyToId": suggestion.answer_id,
            "locale": "nl-NL",
            "recipient": alice["recipient"],
        }
    )
    click["value"]["action"] = {
        "type": "Action.Execute",
        "verb": connect["verb"],
        "data": connect["data"],
    }
    assert (await app.post(click)).status == 200
    await app.deliver()
    return alice["from"]


def introductions(app: TeamsApp) -> list[Any]:
    return [
        c
        for c in app.connector.of("send")
        if c.card
        and ("meet" in c.card["fallbackText"] or "maak kennis met" in c.card["fallbackText"])
    ]


async def config_show(app: TeamsApp, lang: str, id_: str) -> str:
    body = activity(
        "message_personal_2019",
        id=id_,
        locale="nl-NL" if lang == "nl" else "en-US",
        text="wol instellingen toon" if lang == "nl" else "wol config show",
    )
    before = len(app.connector.of("send", "reply"))
    assert (await app.post(app.connector.rewrite(body))).status == 201
    await app.deliver()
    calls = await app.connector.wait_for("send", "reply", count=before + 1)
    return json.dumps(calls[-1].body, ensure_ascii=False)


async def test_one_group_chat_with_both_and_the_bot_bilingual_once(
    start_app: StartApp,  # noqa: F811
    graph: FakeGraph,
) -> None:
    app = await start_app(graph_env(graph), **SETTINGS)
    alice = await connect(app)

    (token,) = graph.of("token")
    assert token.tenant == TENANT
    assert token.body["grant_type"] == "client_credentials"
    assert token.body["scope"] == "https://graph.microsoft.com/.default"
    (created,) = graph.of("create_chat")
    assert created.body["chatType"] == "group"
    binds = sorted(m["user@odata.bind"] for m in created.body["members"])
    assert binds == sorted(
        f"{graph.graph_url}/users('{aad}')" for aad in (ALICE_AAD, BOB["aadObjectId"])
    )
    chat_id = next(iter(graph.chats))
    (install,) = graph.of("install")
    assert install.chat_id == chat_id
    catalog_id = graph.catalog[teams_app_id(None, CHANNEL_BOT)]["id"]
    assert install.body["teamsApp@odata.bind"].endswith(f"/appCatalogs/teamsApps/{catalog_id}")
    consented = install.body["consentedPermissionSet"]["resourceSpecificPermissions"]
    assert {p["permissionValue"] for p in consented} == {
        "ChatMessage.Read.Chat",
        "ChannelMessage.Read.Group",
    }

    # the introduction: once, in the group chat, in both people's languages
    (intro,) = introductions(app)
    assert intro.conversation_id == chat_id
    # no personal chat for Alice; Bob's holds only wolbot's private "I've started a conversation"
    assert [c for c in app.connector.created if alice["id"] in c] == []
    text = intro.card["fallbackText"]
    assert "meet" in text and "maak kennis met" in text
    assert "Say hello and compare notes" in text and "Zeg even hallo" in text
    assert intro.body["conversation"]["conversationType"] == "groupChat"
    mentioned = {e["mentioned"]["id"] for e in intro.card["msteams"]["entities"]}
    assert mentioned == {alice["id"], BOB["id"]}

    # the admin sees that introductions get one conversation, in English and in Dutch
    assert "Introductions:" in await config_show(app, "en", "show-en")
    shown = await config_show(app, "nl", "show-nl")
    assert "Kennismakingen:" in shown and "één gesprek met allebei" in shown


class PortWorld:
    """Two people the adapter knows (Entra ID object ids) and ports over one database, as
    processes would be: each `port()` is a fresh process with no memory but the database."""

    def __init__(self, db: Any, connector: Any, graph: FakeGraph) -> None:
        self.db, self.connector, self.graph = db, connector, graph
        self.references, self.members = References(db), Members(db)
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
        self.ports: list[TeamsPort] = []

    async def setup(self) -> None:
        await self.db.upgrade()
        for user, aad in (
            ("29:anna", "aaaa0000-0000-4000-8000-00000000000a"),
            ("29:bob", BOB["aadObjectId"]),
        ):
            seen = activity("message_channel_mention_2019", text="hi")
            seen["from"] = {"id": user, "name": user[3:], "aadObjectId": aad}
            found = Seen.from_activity(self.connector.rewrite(seen))
            assert found is not None
            await self.members.seen(found)
        ref = {
            "serviceUrl": self.connector.service_url,
            "channelId": "msteams",
            "conversation": {
                "id": "19:097e6717fd7245bdbeba6baa13840db8@thread.skype",
                "conversationType": "channel",
                "tenantId": TENANT,
            },
            "bot": {"id": f"28:{CHANNEL_BOT}"},
        }
        await self.references.save(WS, ref["conversation"]["id"], "teams", ref, self.now)

    def port(self) -> TeamsPort:
        chats = GroupChats(
            self.db, GraphSettings.from_env(graph_env(self.graph)), now=lambda: self.now
        )
        port = TeamsPort(
            make_adapter(TeamsAuthConfig()),
            app_id="",
            references=References(self.db),
            members=Members(self.db),
            limits=Limits(self.db, SystemClock()),
            group_chats=chats,
        )
        self.ports.append(port)
        return port

    async def close(self) -> None:
        for port in self.ports:
            await port.aclose()


@pytest.fixture
async def world(teams_db: Any, connector: Any, graph: FakeGraph) -> AsyncIterator[PortWorld]:
    found = PortWorld(teams_db, connector, graph)
    await found.setup()
    yield found
    await found.close()


async def test_the_same_people_get_the_same_chat_after_a_restart(world: PortWorld) -> None:
    """A crash between creating the chat and posting in it: the next attempt (another
    process, fresh memory) finds the stored chat instead of creating a second one."""
    chat = await world.port().open_dm(WS, ("29:anna", "29:bob"))
    assert chat.startswith("19:fake-group-")
    again = world.port()  # the restart: nothing posted yet
    assert await again.open_dm(WS, ("29:bob", "29:anna")) == chat
    assert len(world.graph.of("create_chat")) == 1 and len(world.graph.of("install")) == 1
    world.connector.fail("send", status=502)  # the first post fails: the outbox tries again
    with pytest.raises(DeliveryError):
        await again.send(Destination(WS, chat), OutboundMessage.text("hello both"))
    await again.send(
        Destination(WS, await again.open_dm(WS, ("29:anna", "29:bob"))),
        OutboundMessage.text("hello both"),
    )
    assert [c.conversation_id for c in world.connector.of("send")] == [chat]
    assert len(world.graph.of("create_chat")) == 1
    async with world.db.session() as s:
        (row,) = (await s.exec(select(TeamsGroupChat))).all()
    assert row.chat_id == chat and row.installed and "29:anna" not in row.members_key


async def test_a_chat_that_refuses_the_bot_falls_back_to_personal_chats(
    world: PortWorld,
) -> None:
    port = world.port()
    chat = await port.open_dm(WS, ("29:anna", "29:bob"))
    world.connector.fail("send", status=403)  # e.g. the bot not yet on the chat's roster
    sent = await port.send(Destination(WS, chat), OutboundMessage.text("hello both"))
    assert sent.channel_id.startswith(GROUP_PREFIX)
    delivered = world.connector.of("send")
    assert sorted(c.conversation_id for c in delivered) == sorted(world.connector.created)
    assert len(delivered) == 2


async def test_refused_installation_names_its_permission_and_reuses_the_chat(
    world: PortWorld,
) -> None:
    world.graph.fail("install", status=403)
    port = world.port()
    address = await port.open_dm(WS, ("29:anna", "29:bob"))
    assert address.startswith(GROUP_PREFIX)  # the 1:1 fallback for this introduction
    state = await port.group_conversations(WS)
    assert not state.shared and state.cause == "permission"
    assert state.permission == INSTALL_AND_CONSENT and state.status == 403
    assert state.retry_at == world.now + timedelta(hours=24)
    world.now += timedelta(hours=1)  # within the day: Graph is not asked
    assert (await world.port().open_dm(WS, ("29:anna", "29:bob"))).startswith(GROUP_PREFIX)
    assert len([c for c in world.graph.calls if c.op == "install"]) == 1
    world.now += timedelta(hours=24)  # consented meanwhile: the stored chat gets the app
    chat = await port.open_dm(WS, ("29:anna", "29:bob"))  # the same process as the first
    assert chat.startswith("19:fake-group-")
    assert len(world.graph.of("create_chat")) == 1 and len(world.graph.of("install")) == 1
    assert (await port.group_conversations(WS)).shared
    # after a failed attempt the app is looked up again (a new package may ask for more)
    assert len(world.graph.of("catalog")) == 2


async def test_the_bot_added_to_its_own_chat_posts_no_welcome(
    start_app: StartApp,  # noqa: F811
    graph: FakeGraph,
) -> None:
    app = await start_app(graph_env(graph), **SETTINGS)
    await connect(app)
    chat_id = next(iter(graph.chats))
    before = len(app.connector.of("send"))
    added = app.connector.rewrite(activity("conversationUpdate_bot_added_to_team_docs_2021"))
    added["conversation"] = {
        "conversationType": "groupChat",
        "tenantId": TENANT,
        "id": chat_id,
        "isGroup": True,
    }
    added["recipient"] = {"id": f"28:{CHANNEL_BOT}", "name": "wolbot"}
    added["membersAdded"] = [{"id": f"28:{CHANNEL_BOT}"}]
    added["channelData"] = {"tenant": {"id": TENANT}}
    assert (await app.post(added)).status == 201
    await app.deliver()
    assert len(app.connector.of("send")) == before


async def test_graph_refuses_then_each_gets_it_and_admins_see_why(
    start_app: StartApp,  # noqa: F811
    graph: FakeGraph,
) -> None:
    graph.fail("create_chat", status=403, times=None)
    app = await start_app(graph_env(graph), **SETTINGS)
    alice = await connect(app)

    # the fallback: each person's personal chat, both languages in each
    intros = introductions(app)
    assert sorted(c.conversation_id for c in intros) == sorted(app.connector.created)
    assert len(intros) == 2
    assert {c.body["members"][0]["id"] for c in app.connector.of("create_conversation")} == {
        alice["id"],
        BOB["id"],
    }
    assert all(
        "meet" in c.card["fallbackText"] and "maak kennis met" in c.card["fallbackText"]
        for c in intros
    )

    english = await config_show(app, "en", "show-en")
    assert "Introductions:" in english and "Chat.Create" in english
    assert "lacks the permission" in english and "Tried again after" in english
    dutch = await config_show(app, "nl", "show-nl")
    assert "Kennismakingen:" in dutch and "Chat.Create" in dutch
    assert "mist" in dutch and "Opnieuw geprobeerd na" in dutch
    assert "lacks" not in dutch

    # while the fallback holds, Graph is not asked again for the next introduction ...
    await connect(app, thread="1571537170000", bob=CAROL)
    assert len([c for c in graph.calls if c.op == "create_chat"]) == 1
    # ... and after a day it is: now granted, the next introduction gets its group chat
    graph._failures.clear()
    app.core.clock.advance(hours=25)  # type: ignore[attr-defined]
    await connect(app, thread="1571537180000", bob=DAAN)
    assert len(graph.of("create_chat")) == 1
    assert introductions(app)[-1].conversation_id == next(iter(graph.chats))
    assert "één gesprek met allebei" in await config_show(app, "nl", "show-nl-2")


async def test_token_endpoint_failure_falls_back_logged_and_nothing_lost(
    start_app: StartApp,  # noqa: F811
    graph: FakeGraph,
    caplog: pytest.LogCaptureFixture,
) -> None:
    graph.fail("token", status=401, times=None)
    app = await start_app(graph_env(graph), **SETTINGS)
    with caplog.at_level(logging.WARNING, logger="adapters.teams.group_chats"):
        await connect(app)
    assert any("token endpoint answered 401" in r.getMessage() for r in caplog.records)
    assert "Invalid client secret" not in json.dumps(
        [c.body for c in app.connector.calls], ensure_ascii=False
    )
    assert graph.of("create_chat") == []
    intros = introductions(app)
    assert sorted(c.conversation_id for c in intros) == sorted(app.connector.created)
    assert len(intros) == 2
    async with app.core.db.session() as s:
        rows = (await s.exec(select(OutboxItem))).all()
    assert [r.status for r in rows if r.status == "failed"] == []  # nothing lost
    english = await config_show(app, "en", "show-en")
    assert "the sign-in service refused the app's credentials here (HTTP 401" in english
    dutch = await config_show(app, "nl", "show-nl")
    assert "de aanmelddienst de inloggegevens van de app hier weigerde (HTTP 401" in dutch


async def test_a_refused_creation_is_claimed_again_after_the_recheck(world: PortWorld) -> None:
    world.graph.fail("create_chat", status=403)
    assert (await world.port().open_dm(WS, ("29:anna", "29:bob"))).startswith(GROUP_PREFIX)
    state = await world.port().group_conversations(WS)
    assert state.permission == "Chat.Create" and state.since == world.now
    world.now += timedelta(hours=25)
    chat = await world.port().open_dm(WS, ("29:anna", "29:bob"))
    assert chat.startswith("19:fake-group-") and len(world.graph.of("create_chat")) == 1


async def test_two_processes_never_create_two_chats(world: PortWorld) -> None:
    import asyncio

    results = await asyncio.gather(
        world.port().open_dm(WS, ("29:anna", "29:bob")),
        world.port().open_dm(WS, ("29:bob", "29:anna")),
        return_exceptions=True,
    )
    assert len(world.graph.of("create_chat")) == 1
    chats = [r for r in results if isinstance(r, str)]
    waits = [r for r in results if isinstance(r, DeliveryError)]
    assert chats and all(c == chats[0] for c in chats)
    assert all(w.retry_after and not w.permanent for w in waits)
    assert len(chats) + len(waits) == 2


def test_config_check_names_the_graph_permissions() -> None:
    from adapters import teams

    env = {
        "MICROSOFT_APP_ID": "11111111-2222-3333-4444-555555555555",
        "MICROSOFT_APP_PASSWORD": "secret",
    }
    shown = teams.status(env)
    assert shown.problems == ()
    for permission in ("Chat.Create", "AppCatalog.Read.All", INSTALL_AND_CONSENT):
        assert permission in shown.summary
    off = teams.status({**env, "WOLBOT_TEAMS_GROUP_CHATS": "0"})
    assert "personal chats" in off.summary
    wrong = teams.status({**env, "WOLBOT_TEAMS_GRAPH_RECHECK_HOURS": "soon"})
    assert any(p.startswith("WOLBOT_TEAMS_GRAPH_RECHECK_HOURS") for p in wrong.problems)


async def test_a_failing_graph_is_tried_again_soon(world: PortWorld) -> None:
    world.graph.fail("create_chat", status=503)
    assert (await world.port().open_dm(WS, ("29:anna", "29:bob"))).startswith(GROUP_PREFIX)
    state = await world.port().group_conversations(WS)
    assert (state.cause, state.status, state.permission) == ("failure", 503, None)
    assert state.retry_at == world.now + timedelta(minutes=15)


async def test_an_object_id_unknown_to_the_adapter_is_asked_of_the_connector(
    world: PortWorld,
) -> None:
    seen = activity("message_channel_mention_2019", text="hi")
    seen["from"] = {"id": "29:cara", "name": "Cara"}  # her activity carried no object id
    found = Seen.from_activity(world.connector.rewrite(seen))
    assert found is not None
    await world.members.seen(found)
    world.connector.add_member(
        found.conversation_id,
        {"id": "29:cara", "name": "Cara", "aadObjectId": "cccc0000-0000-4000-8000-00000000000c"},
    )
    chat = await world.port().open_dm(WS, ("29:anna", "29:cara"))
    assert chat.startswith("19:fake-group-")
    (created,) = world.graph.of("create_chat")
    assert any(
        "cccc0000-0000-4000-8000-00000000000c" in m["user@odata.bind"]
        for m in created.body["members"]
    )
