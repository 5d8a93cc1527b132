"""Narrations in Teams channels are acknowledged without a message for everyone
(`narrations.ack`, default `none` where reactions would be messages); the personal chat
still gets its short answer (issue 20)."""

from __future__ import annotations

import asyncio

from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
CHANNEL = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"


def channel_narration(
    app, text: str = "<at>My Combined</at> Ik ben bezig met de nieuwe intranetpagina"
) -> dict:
    return app.connector.rewrite(activity("message_channel_mention_2019", text=text))


async def stored(app, body: dict) -> bool:
    found = await app.core.narrations.by_message(WS, CHANNEL, body["id"])
    return found is not None


async def test_a_channel_narration_adds_no_message_by_default(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app()
    body = channel_narration(app)
    assert (await app.post(body)).status == 201
    await app.deliver()
    await asyncio.sleep(0.05)
    assert await stored(app, body)
    assert app.connector.of("send", "reply", "create_conversation") == []


async def test_a_group_chat_narration_adds_no_message_by_default(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app()
    body = channel_narration(app, "I'm working on the archive migration")
    body["conversation"] = {
        "id": "19:groupchat-1@thread.v2",
        "conversationType": "groupChat",
        "isGroup": True,
        "tenantId": TENANT,
    }
    assert (await app.post(body)).status == 201
    await app.deliver()
    assert await app.core.narrations.by_message(WS, "19:groupchat-1@thread.v2", body["id"])
    assert app.connector.of("send", "reply", "create_conversation") == []


async def test_the_personal_chat_gets_its_short_answer(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app()
    body = app.connector.rewrite(
        activity("message_personal_2019", text="I'm working on the budget for 2027")
    )
    assert (await app.post(body)).status == 201
    await app.deliver()
    (reply,) = await app.connector.wait_for("reply")
    assert reply.conversation_id == body["conversation"]["id"] and reply.body["text"] == "📝"


async def test_reply_for_one_channel_answers_in_the_thread(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(workspaces={WS: {"channels": {CHANNEL: {"narration_ack": "reply"}}}})
    assert (await app.post(channel_narration(app))).status == 201
    await app.deliver()
    (reply,) = await app.connector.wait_for("reply")
    # a reply in the post's own thread: "<channel>;messageid=<post>", replyToId the post
    assert reply.conversation_id == f"{CHANNEL};messageid=1571537152320"
    assert reply.activity_id == "1571537152320" and reply.body["text"] == "📝"


async def test_dm_sends_the_author_a_note_in_their_language(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(workspaces={WS: {"narration_ack": "dm"}})
    dutch = channel_narration(app)
    english = channel_narration(app, "I'm working on the travel policy update")
    english.update(id="1571537160000")
    english["from"] = {"id": "29:erin", "name": "Erin"}
    english["conversation"] = {
        **english["conversation"],
        "id": f"{CHANNEL};messageid=1571537160000",
    }
    for body in (dutch, english):
        assert (await app.post(body)).status == 201
    await app.deliver()
    sends = await app.connector.wait_for("send", count=2)
    assert app.connector.of("reply") == []  # nothing in the channel
    assert {c.conversation_id for c in sends} == set(app.connector.created)
    notes = sorted(c.card["fallbackText"] for c in sends)
    assert notes == [
        "Genoteerd, fijn dat je hardop werkt:\n> de nieuwe intranetpagina",
        "Noted, thanks for working out loud:\n> the travel policy update",
    ]


async def test_an_admin_changes_it_and_bad_values_are_refused(start_app: StartApp) -> None:  # noqa: F811
    admin = activity("message_personal_2019")["from"]["id"]
    app = await start_app(workspaces={WS: {"admins": [admin]}})

    def said(text: str, id_: str, locale: str) -> dict:
        return app.connector.rewrite(
            activity("message_personal_2019", text=text, id=id_, locale=locale)
        )

    for text, id_, locale in (
        ("wol taal nl", "c0", "nl-NL"),
        ("wol config set narrations.ack hard", "c1", "nl-NL"),
        ("wol language en", "c1b", "en-US"),
        ("wol config set narrations.ack reply", "c2", "en-US"),
    ):
        assert (await app.post(said(text, id_, locale))).status == 201
    await app.deliver()
    calls = await app.connector.wait_for("send", "reply", count=4)
    answers = [c.card["fallbackText"] for c in calls if c.card]
    assert any(
        "narrations.ack is een van: reply, none, dm. hard kan ik niet gebruiken." in a
        for a in answers
    ), answers
    assert await app.core.config.value(WS, "narrations.ack", CHANNEL) == "reply"
    body = channel_narration(app)
    assert (await app.post(body)).status == 201
    await app.deliver()
    (reply,) = [c for c in app.connector.of("reply") if c.activity_id == body["id"]]
    assert reply.body["text"] == "📝"
