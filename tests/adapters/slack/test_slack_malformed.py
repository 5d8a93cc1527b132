"""Malformed platform input refused early (issue 17 item 8), through the real HTTP endpoint:
a signed Slack payload (command, event, click) without its team or user
is answered 400, and nothing is stored or sent."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from tests.adapters.slack.conftest import DATA as SLACK_DATA


async def row_counts(core: Any) -> dict[str, int]:
    """Rows per table, to show a refused request stored nothing."""
    counts: dict[str, int] = {}
    async with core.db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            result = await s.exec(text(f'SELECT COUNT(*) FROM "{table.name}"'))  # type: ignore[call-overload]
            counts[table.name] = result.one()[0]
    return counts


def _slack_command(**changes: str) -> dict[str, str]:
    body = dict(
        parse_qsl((SLACK_DATA / "commands" / "slash_command.form-urlencoded.txt").read_text())
    )
    body.update(command="/wol", text="help", trigger_id="trigger-m")
    body.update(changes)
    return {k: v for k, v in body.items() if v != "<drop>"}


def _slack_event(**changes: Any) -> dict[str, Any]:
    body = json.loads((SLACK_DATA / "events" / "event_callback_message.json").read_text())
    body["event"].update(text="I'm working on the budget", user="W111")
    for key, value in changes.items():
        target = body["event"] if key.startswith("event.") else body
        name = key.removeprefix("event.")
        if value == "<drop>":
            target.pop(name, None)
        else:
            target[name] = value
    body.pop("authorizations", None)
    return body


def _slack_click(**changes: Any) -> dict[str, Any]:
    payload = json.loads((SLACK_DATA / "interactivity" / "block_actions.json").read_text())
    payload["actions"][0].update(action_id="matching.done", value="1")
    for key, value in changes.items():
        if value == "<drop>":
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


SLACK_CASES = [
    ("command without team", "command", {"team_id": "<drop>", "enterprise_id": "<drop>"}),
    ("command without user", "command", {"user_id": "<drop>"}),
    (
        "event without team",
        "event",
        {"team_id": "<drop>", "event.team": "<drop>", "enterprise_id": "<drop>"},
    ),
    ("message without user", "event", {"event.user": "<drop>"}),
    ("click without user", "click", {"user": "<drop>"}),
    ("click without team", "click", {"team": "<drop>", "user": {"id": "W111"}}),
]


@pytest.mark.parametrize("case,kind,changes", SLACK_CASES, ids=[c[0] for c in SLACK_CASES])
async def test_a_signed_slack_payload_without_team_or_user_is_refused(
    serve_slack, slack_api, case: str, kind: str, changes: dict[str, Any]
) -> None:
    core, slack = await serve_slack()
    before = await row_counts(core)
    if kind == "command":
        status, _ = await slack.command(_slack_command(**changes))
    elif kind == "event":
        status, _ = await slack.event(_slack_event(**changes))
    else:
        status, _ = await slack.interaction(_slack_click(**changes))
    assert status == 400, case
    await slack.processed()
    await core.delivery.drain()
    await slack_api.settle(0.2)
    assert slack_api.calls == []
    assert await row_counts(core) == before


async def test_complete_slack_payloads_are_still_taken(serve_slack, slack_api) -> None:
    slack_api.add_user("W111", locale="en-US")
    _, slack = await serve_slack()
    assert (await slack.command(_slack_command()))[0] == 200
    assert (await slack.event(_slack_event()))[0] == 200
