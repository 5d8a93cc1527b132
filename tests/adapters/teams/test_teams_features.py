"""Administration, privacy and durf te vragen through Teams: recorded activities into
`wolbot serve` (dev mode), answers through the connector to the fake Bot Connector."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.store.tables.admin import AuditEntry
from bot.store.tables.asks import Question
from bot.store.tables.teams import TeamsMember
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
ADMIN = "29:1kbOecyrymSn1FtrbJlQNF_BvhIpb7CLGbmjaTldT8A8tXXphjq4BcA2KfWGwoI-ahbEJ_Og1syGOt68MsLId1Q"
MEMBER = "29:member-not-an-admin"
DURF = "19:durf-te-vragen@thread.tacv2"
SETTINGS = {
    "workspaces": {
        WS: {"admins": [ADMIN], "channels": {DURF: {"kind": "durf-te-vragen", "anonymous": True}}}
    }
}


def said(app, text: str, *, user: str = ADMIN, id_: str) -> dict:
    body = activity("message_personal_2019", id=id_, text=text, locale="en-US")
    body["from"] = {**body["from"], "id": user}
    return app.connector.rewrite(body)


def texts(calls) -> list[str]:
    return [json.dumps(c.body, ensure_ascii=False) for c in calls]


async def test_config_by_an_admin_and_refused_for_a_member(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(**SETTINGS)
    assert (await app.post(said(app, "wol config set nudges.ack_hours 6", id_="c1"))).status == 201
    assert (
        await app.post(said(app, "wol config set nudges.ack_hours 9", user=MEMBER, id_="c2"))
    ).status == 201
    await app.deliver()
    answers = texts(await app.connector.wait_for("send", "reply", count=2))
    assert any("nudges.ack_hours is now 6 (was 4)" in t for t in answers)
    assert any("Only wolbot admins can use" in t for t in answers)
    assert await app.core.config.value(WS, "nudges.ack_hours") == 6
    async with app.core.db.session() as s:
        assert [e.actor_id for e in await s.exec(select(AuditEntry))] == [ADMIN]


async def test_anonymous_question_is_posted_without_the_asker(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(**SETTINGS)
    await app.post(
        said(app, "wol ask anon Hoe gaat het met de reorganisatie?", user=MEMBER, id_="q1")
    )
    await app.deliver()
    async with app.core.db.session() as s:
        question = (await s.exec(select(Question))).one()
    assert question.asker_id is None and question.anon_ref and question.channel_id == DURF
    assert MEMBER not in json.dumps(question.model_dump(mode="json"))


async def test_an_anonymous_question_leaves_no_dated_trace_in_the_member_list(
    start_app: StartApp,  # noqa: F811
) -> None:
    """Issue 17: a known person's row is not touched by their anonymous question; a new
    person's row (needed to relay answers to their personal chat) is dated to the day."""
    app = await start_app(**SETTINGS)
    await app.post(said(app, "wol working on the archive migration", user=MEMBER, id_="n1"))
    async with app.core.db.session() as s:
        before = (await s.get(TeamsMember, (WS, MEMBER))).updated_at
    newcomer = "29:never-wrote-before"
    await app.post(said(app, "wol ask anon Mag ik dit vragen?", user=MEMBER, id_="q1"))
    await app.post(said(app, "wol ask anon Wie beslist hierover?", user=newcomer, id_="q2"))
    await app.deliver()
    async with app.core.db.session() as s:
        assert (await s.get(TeamsMember, (WS, MEMBER))).updated_at == before
        new_row = await s.get(TeamsMember, (WS, newcomer))
        assert len((await s.exec(select(Question))).all()) == 2
    assert new_row is not None
    assert (
        new_row.updated_at.hour,
        new_row.updated_at.minute,
        new_row.updated_at.second,
        new_row.updated_at.microsecond,
    ) == (0, 0, 0, 0)


async def test_privacy_export_is_offered_as_a_file(start_app: StartApp) -> None:  # noqa: F811
    """File consent (issue 20): a FileConsentCard in the personal chat; accepted, the JSON is
    uploaded to the URL Teams gives and the file is shown; declined, the text comes instead."""
    app = await start_app(**SETTINGS)
    await app.post(said(app, "wol working on the archive migration", id_="n1"))
    for n, answer in enumerate(("accept", "decline")):
        await app.post(said(app, "wol privacy export", id_=f"x{n}"))
        await app.deliver()
        offers = [
            c
            for c in app.connector.of("send")
            if any(
                a["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
                for a in c.body.get("attachments") or ()
            )
        ]
        assert len(offers) == n + 1
        offer = offers[-1]
        (consent,) = [a for a in offer.body["attachments"] if a["contentType"].endswith("consent")]
        assert consent["name"].endswith(".json") and consent["content"]["sizeInBytes"] > 0
        assert "the archive migration" not in json.dumps(offer.body)  # not in the chat itself
        upload_url = f"{app.connector.service_url}upload/file-{n}"
        invoke = activity("invoke_task_fetch_2019", id=f"fc{n}")
        invoke.update(
            conversation=said(app, "x", id_="-")["conversation"],
            value={
                "type": "fileUpload",
                "action": answer,
                "context": consent["content"]["acceptContext"],
                "uploadInfo": {
                    "name": consent["name"],
                    "uploadUrl": upload_url,
                    "contentUrl": "https://contoso.sharepoint.com/x.json",
                    "uniqueId": f"u{n}",
                    "fileType": "json",
                },
            },
        )
        invoke["from"] = said(app, "x", id_="-")["from"]
        invoke["name"] = "fileConsent/invoke"
        assert (await app.post(app.connector.rewrite(invoke))).status == 200
    (uploaded,) = app.connector.of("upload")
    assert uploaded.activity_id == "file-0"
    data = json.loads(uploaded.body)
    assert "the archive migration" in json.dumps(data)
    shown = [
        c
        for c in app.connector.of("send")
        if any(
            a["contentType"] == "application/vnd.microsoft.teams.card.file.info"
            for a in c.body.get("attachments") or ()
        )
    ]
    assert len(shown) == 1
    # declined: the same export as text, in quoted parts labelled with the file's name
    parts = [t for t in texts(app.connector.of("send")) if f"{consent['name']} (1/" in t]
    assert parts and "the archive migration" in "\n".join(parts)
    async with app.core.db.session() as s:
        from bot.store.tables.teams import TeamsPendingFile

        assert (await s.exec(select(TeamsPendingFile))).all() == []
