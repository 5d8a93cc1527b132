"""Every button and form of the product pressed by the wrong person through the real Teams
endpoint (Action.Submit data and card forms, as Teams posts them): nothing changes (issue 17
item 3; the same over the core is tests/core/test_authorisation.py)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from adapters.teams.inbound import ACTION_KEY, FORM_KEY, META_KEY, VALUE_KEY
from bot.events import EventKind
from bot.store.tables import Narration
from bot.store.tables.asks import Question
from bot.store.tables.matching import Connection, MatchSuggestion
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import DEV_ENV, StartApp, start_app  # noqa: F401
from tests.core.test_authorisation import _buttons, snapshot

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
CHANNEL = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"
ANOUK, PIA, ASKER, BRAM, MALLORY = "29:1anouk", "29:1pia", "29:1asker", "29:1bram", "29:1mal"
SETTINGS = {
    "workspaces": {
        WS: {
            "admins": ["29:1admin"],
            "managers": ["29:1mgr"],
            "channels": {CHANNEL: {"kind": "durf-te-vragen"}},
        }
    }
}


def person(body: dict[str, Any], user: str, id_: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body["from"] = {"id": user, "name": user}
    body["id"] = id_
    return body


async def test_every_button_forged_on_teams_changes_nothing(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(env=DEV_ENV, **SETTINGS)
    rewrite = app.connector.rewrite
    public = rewrite(
        activity(
            "message_channel_mention_2019",
            text="<at>My Combined</at> I'm working on the onboarding checklist",
        )
    )
    public["conversation"] = {**public["conversation"], "id": f"{CHANNEL};messageid=5001"}
    await app.post(person(public, ANOUK, "5001"))
    private = rewrite(
        activity("message_personal_2019", text="I'm working on the budget for the private ward")
    )
    await app.post(person(private, PIA, "5002"))
    ask = rewrite(activity("message_personal_2019", text="wol ask Is there a plan for the rota?"))
    await app.post(person(ask, ASKER, "5003"))
    await app.deliver()
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    async with app.core.db.session() as s:
        anouk = (await s.exec(select(Narration).where(Narration.author_id == ANOUK))).one()
        pia = (await s.exec(select(Narration).where(Narration.author_id == PIA))).one()
        question = (await s.exec(select(Question).where(Question.asker_id == ASKER))).one()
        suggestion = MatchSuggestion(
            workspace_id=WS,
            narration_id=anouk.id or 0,
            narrator_id=ANOUK,
            person_id=BRAM,
            reason="similar",
            item_ref="n:1",
            score=0.9,
            created_at=now,
        )
        connection = Connection(
            workspace_id=WS,
            narration_id=anouk.id,
            narrator_id=ANOUK,
            person_id=BRAM,
            suggested_by="bot",
            created_at=now,
        )
        s.add(suggestion)
        s.add(connection)
        await s.commit()
        await s.refresh(suggestion)
        await s.refresh(connection)
    ids = {
        "anouk_narration": str(anouk.id),
        "pia_narration": str(pia.id),
        "question": str(question.id),
        "suggestion": str(suggestion.id),
        "connection": str(connection.id),
    }
    assert pia.visibility != "public"
    before = await snapshot(app.core)
    calls_before = len(app.connector.calls)
    buttons = _buttons(ids, anouk=ANOUK, forger=MALLORY)
    for n, (kind, action_id, value, values) in enumerate(buttons):
        if kind is EventKind.ACTION:
            data = {ACTION_KEY: action_id, VALUE_KEY: value}
        else:
            data = {FORM_KEY: action_id, META_KEY: value, **values}
        submit = rewrite(activity("message_card_submit_value_2019", value=data))
        response = await app.post(person(submit, MALLORY, f"f:{6000 + n}"))
        assert response.status == 201, action_id
    await app.deliver()
    after_rows = await snapshot(app.core)
    assert {k: v for k, v in after_rows.items() if v != before[k]} == {}
    # what went out is a refusal in the forger's own chat, nothing for anybody else
    after = [c for c in app.connector.calls[calls_before:] if c.op in ("send", "reply", "update")]
    assert len(after) == len(buttons) - 1  # every button but the unknown one is answered
    for call in after:
        text = str(call.card or call.body)
        assert "isn't meant for you" in text or "for managers" in text or "Only" in text, text[:300]
