"""Recipients only from real mentions, through the real Teams endpoint and the fake Bot
Connector (issue 17 item 6): a mention entity with a two-word display name is one person;
a typed `@29:…` or `<at>` is text and never becomes a mention entity in what the bot posts."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from bot.store.tables.asks import Thanks
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)

BOT_ID = "28:eac5e5c6-ab14-4f50-80cb-49213fe51b1a"
BEN = "29:1ben-okafor"


def _thanks(app: Any, text: str, entities: list[dict[str, Any]], id_: str) -> dict[str, Any]:
    body = activity("message_channel_mention_2019", id=id_, text=text)
    body["entities"] = [
        {
            "type": "mention",
            "text": "<at>My Combined</at>",
            "mentioned": {"id": BOT_ID, "name": "My Combined"},
        },
        *entities,
    ]
    return app.connector.rewrite(body)


def _entity_ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["mentioned"]["id"]] if value.get("type") == "mention" else []
        return found + [i for v in value.values() for i in _entity_ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _entity_ids(v)]
    return []


async def test_a_two_word_mention_is_one_thanks_and_typed_ids_are_text(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app()
    ben = {
        "type": "mention",
        "text": "<at>Ben Okafor</at>",
        "mentioned": {"id": BEN, "name": "Ben Okafor"},
    }
    body = _thanks(
        app,
        "<at>My Combined</at> wol thanks <at>Ben Okafor</at> for helping "
        "@29:1fake-id and &lt;at&gt;Victim&lt;/at&gt; @Ben",
        [ben],
        "3001",
    )
    assert (await app.post(body)).status == 201
    await app.deliver()
    calls = await app.connector.wait_for("send", "reply")
    posted = [c for c in app.connector.of("send", "reply") if c.card]
    assert len(posted) == 1, [c.body for c in calls]
    giver = body["from"]["id"]
    assert set(_entity_ids(posted[0].body)) == {giver, BEN}
    text = json.dumps(posted[0].card, ensure_ascii=False)
    assert "@29:1fake-id" in text and "Victim" in text  # the reason, as typed
    async with app.core.db.session() as s:
        rows = (await s.exec(select(Thanks))).all()
    assert [(r.receiver_id, r.reason) for r in rows] == [
        (BEN, "for helping @29:1fake-id and <at>Victim</at> @Ben")
    ]


async def test_a_forged_add_submitted_on_teams_changes_nothing(start_app: StartApp) -> None:  # noqa: F811
    """Issue 17 item 3 on Teams: an Action.Submit whose data names another person's narration
    (Teams posts the card data the client sends) adds nothing to the clicker's profile."""
    from adapters.teams.inbound import ACTION_KEY, VALUE_KEY
    from bot.store.tables import Narration
    from bot.store.tables.matching import ProfileTopic

    app = await start_app()
    narrate = app.connector.rewrite(
        activity("message_personal_2019", id="4001", text="I'm working on the onboarding checklist")
    )
    narrate["from"] = {"id": "29:1anouk", "name": "Anouk"}
    assert (await app.post(narrate)).status == 201
    await app.deliver()
    async with app.core.db.session() as s:
        story = (await s.exec(select(Narration))).one()
    forged = app.connector.rewrite(
        activity(
            "message_card_submit_value_2019",
            id="4002",
            value={ACTION_KEY: "matching.topic.add", VALUE_KEY: str(story.id)},
        )
    )
    assert (await app.post(forged)).status == 201
    await app.deliver()
    async with app.core.db.session() as s:
        assert (await s.exec(select(ProfileTopic))).all() == []
    answers = [
        c.card["fallbackText"] if c.card else c.body.get("text", "")
        for c in app.connector.of("send", "reply")
    ]
    assert any("isn't meant for you" in a for a in answers), answers
