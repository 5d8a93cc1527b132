"""What a click tells only the clicker stays in the click's answer (issue 20 item 1): in
Teams the answer to a Universal Action is the card shown to the clicker alone, as Slack's
only-you message is. A member's click, a manager's second click and the asker's "Mark
answered" add no message to the clicker's personal chat (no chat is even created for it),
and no "✅" reply lands in the channel: the card itself says the question was answered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, TeamsApp, start_app  # noqa: F401
from tests.adapters.teams.test_teams_universal_actions import (
    ASKER,
    MANAGER,
    MANAGER_AAD,
    MEMBER,
    QUESTION_ID,
    WS,
    asked,
    buttons,
    in_durf,
    invoke,
    texts,
)

DURF = "19:durf-te-vragen@thread.tacv2"


def settings(language: str) -> dict[str, Any]:
    return {
        "workspaces": {
            WS: {
                "managers": [MANAGER_AAD],
                "language": language,
                "channels": {DURF: {"kind": "durf-te-vragen"}},
            }
        }
    }


async def said_in_thread(app: TeamsApp, text: str, *, user: str, name: str, id_: str) -> None:
    """Someone writes in the question's thread first, so wolbot knows their language."""
    body = in_durf(
        activity(
            "message_channel_reply_mention_2025",
            id=id_,
            text=text,
            entities=[],
            replyToId=QUESTION_ID,
        )
    )
    body["conversation"]["id"] = f"{DURF};messageid={QUESTION_ID}"
    body["from"] = {"id": user, "name": name}
    assert (await app.post(app.connector.rewrite(body))).status == 201
    await app.deliver()


async def click(
    app: TeamsApp,
    verb: str,
    *,
    user: str,
    name: str,
    card_id: str,
    id_: str,
    aad: str | None = None,
) -> dict[str, Any]:
    before = len(app.connector.calls)
    response = await app.post(
        invoke(app, verb, "1", user=user, name=name, aad=aad, card_id=card_id, id_=id_)
    )
    assert response.status == 200
    answer = await response.json()
    await app.deliver()
    app.after = app.connector.calls[before:]  # type: ignore[attr-defined]
    return answer


def sent(app: TeamsApp) -> list[str]:
    """The messages a click added (updates of the shared card aside)."""
    return [
        c.op
        for c in app.after
        if c.op in ("send", "reply", "create_conversation")  # type: ignore[attr-defined]
        and 200 <= c.status < 300
    ]


@pytest.mark.parametrize(
    ("language", "reason", "already", "answered"),
    [
        (
            "en",
            "Acknowledging questions is for managers",
            "You already acknowledged this question.",
            "The asker marked this question answered.",
        ),
        (
            "nl",
            "Vragen waarderen is voor leidinggevenden",
            "Je hebt deze vraag al gewaardeerd.",
            "De vraagsteller heeft deze vraag als beantwoord gemarkeerd.",
        ),
    ],
)
async def test_the_click_answers_the_clicker_and_nothing_else_is_sent(
    start_app: StartApp,  # noqa: F811
    language: str,
    reason: str,
    already: str,
    answered: str,
) -> None:
    app = await start_app(**settings(language))
    _card, card_id = await asked(app)

    # a member's click: the card back with the reason, in the card only
    refused = await click(app, "ask.ack", user=MEMBER, name="Mo", card_id=card_id, id_="m1")
    assert reason in texts(refused["value"]) and buttons(refused["value"]) == []
    assert sent(app) == []

    # the manager acknowledges (the public thanks in the thread is the point of it) ...
    done = await click(
        app, "ask.ack", user=MANAGER, name="Mia Manager", aad=MANAGER_AAD, card_id=card_id, id_="c1"
    )
    assert "<at>Mia Manager</at>" in texts(done["value"])
    assert sent(app) == ["reply"]
    # ... and a second click changes nothing: the card as it is, saying so, and no message
    again = await click(
        app, "ask.ack", user=MANAGER, name="Mia Manager", aad=MANAGER_AAD, card_id=card_id, id_="c2"
    )
    assert already in texts(again["value"])
    assert sent(app) == [] and [c.op for c in app.after] == []  # type: ignore[attr-defined]

    # the asker marks it answered: the card says so for everyone; no ✅ reply, no DM
    marked = await click(app, "ask.answered", user=ASKER, name="Sam", card_id=card_id, id_="a1")
    assert answered in texts(marked["value"])
    (update,) = [c for c in app.after if c.op == "update"]  # type: ignore[attr-defined]
    assert answered in texts(update.card)
    assert sent(app) == [], json.dumps([c.body for c in app.after], ensure_ascii=False)[:800]  # type: ignore[attr-defined]
