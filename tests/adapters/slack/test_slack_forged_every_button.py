"""Every button and form of the product pressed by the wrong person through `wolbot serve`
(signed block_actions and view_submission payloads into the real endpoint): nothing changes
(issue 17 item 3; the same over the core is tests/core/test_authorisation.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.events import EventKind
from bot.store.tables import Narration
from bot.store.tables.asks import Question
from bot.store.tables.matching import Connection, MatchSuggestion
from tests.adapters.slack.conftest import DATA
from tests.adapters.slack.test_slack_features import wol
from tests.core.test_authorisation import _buttons, snapshot
from tests.resilience.test_hostile_injection import message_event

WS = "slack:T111"
SETTINGS = {
    "workspaces": {
        WS: {
            "admins": ["W999"],
            "managers": ["W888"],
            "channels": {"CDURF": {"kind": "durf-te-vragen"}},
        }
    }
}
ANOUK, PIA, ASKER, BRAM, MALLORY = "W111", "W444", "W555", "W222", "W666"


def payload_for(
    kind: EventKind, action_id: str, value: str, values: dict[str, str], n: int
) -> dict[str, Any]:
    user = {"id": MALLORY, "username": "mallory", "name": "mallory", "team_id": "T111"}
    if kind is EventKind.ACTION:
        click = json.loads((DATA / "interactivity" / "block_actions.json").read_text())
        click.update(user=user, trigger_id=f"t-{n}")
        click["actions"][0].update(action_id=action_id, value=value, action_ts=f"1700000200.{n}")
        return click
    state = {
        "values": {
            f"b{i}": {key: {"type": "plain_text_input", "value": v}}
            for i, (key, v) in enumerate(values.items())
        }
    }
    return {
        "type": "view_submission",
        "user": user,
        "team": {"id": "T111"},
        "trigger_id": f"t-{n}",
        "view": {
            "id": f"V{n}",
            "hash": f"h{n}",
            "callback_id": action_id,
            "state": state,
            "private_metadata": json.dumps({"wolbot": 1, "m": value, "c": "C111", "k": "public"}),
        },
    }


async def test_every_button_forged_on_slack_changes_nothing(
    serve_slack, payload, slack_api
) -> None:
    for user in (ANOUK, PIA, ASKER, BRAM, MALLORY):
        slack_api.add_user(user, locale="en-US")
    core, slack = await serve_slack(**SETTINGS)
    await slack.event(
        message_event(
            "I'm working on the onboarding checklist for new nurses",
            user=ANOUK,
            event_id="EvN1",
            ts="1700000001.000100",
        )
    )
    await slack.event(
        message_event(
            "I'm working on the budget for the private ward",
            user=PIA,
            event_id="EvN2",
            ts="1700000002.000100",
            channel="G444",
            channel_type="group",
        )
    )
    await slack.command(
        wol(
            payload,
            slack_api,
            "ask Is there a plan for the rota?",
            "ask",
            user_id=ASKER,
            channel_id="CDURF",
            channel_name="durf",
        )
    )
    await slack.processed()
    await core.delivery.drain()
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    async with core.db.session() as s:
        anouk = (await s.exec(select(Narration).where(Narration.author_id == ANOUK))).one()
        pia = (await s.exec(select(Narration).where(Narration.author_id == PIA))).one()
        question = (await s.exec(select(Question))).one()
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
    before = await snapshot(core)
    calls_before = len(slack_api.calls)
    buttons = _buttons(ids, anouk=ANOUK, forger=MALLORY)
    for n, (kind, action_id, value, values) in enumerate(buttons):
        status, _ = await slack.interaction(payload_for(kind, action_id, value, values, n))
        assert status == 200, action_id
    await slack.processed()
    await core.delivery.drain()
    await slack_api.settle(0.2)
    assert await snapshot(core) == before
    # what went out afterwards is a refusal to the forger: no post, update, reaction, form
    # or conversation for anybody else
    for call in slack_api.calls[calls_before:]:
        sent = json.dumps(call.args, ensure_ascii=False)
        if call.method == "response_url":
            assert "isn't meant for you" in sent or "for managers" in sent or "Only" in sent, sent
            continue
        assert call.method in (
            "chat.postEphemeral",
            "users.info",
            "conversations.info",
            "auth.test",
        ), (call.method, sent[:300])
        if call.method == "chat.postEphemeral":
            assert call.args.get("user") == MALLORY, sent[:300]
    refusals = [c for c in slack_api.calls[calls_before:] if c.method == "chat.postEphemeral"]
    assert len(refusals) == len(buttons) - 1  # every button but the unknown one is answered
