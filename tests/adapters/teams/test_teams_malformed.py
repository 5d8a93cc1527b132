"""Malformed platform input refused early (issue 17 item 8), through the real HTTP endpoint:
a Teams activity without `conversation`, `from` or `serviceUrl`
is answered 400, and nothing is stored or sent."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401 (fixture)


async def row_counts(core: Any) -> dict[str, int]:
    """Rows per table, to show a refused request stored nothing."""
    counts: dict[str, int] = {}
    async with core.db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            result = await s.exec(text(f'SELECT COUNT(*) FROM "{table.name}"'))  # type: ignore[call-overload]
            counts[table.name] = result.one()[0]
    return counts


def _without(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    parent.pop(path[-1], None)
    return body


# The issue's own example, then each field removed from a real channel message.
TEAMS_CASES = [
    (
        "issue example",
        {"type": "message", "text": "foo", "channelData": {"tenant": {"id": "1234"}}},
    ),
    ("no conversation", ("conversation",)),
    ("no conversation id", ("conversation", "id")),
    ("no from", ("from",)),
    ("no from id", ("from", "id")),
    ("no serviceUrl", ("serviceUrl",)),
]


@pytest.mark.parametrize("case,change", TEAMS_CASES, ids=[c[0] for c in TEAMS_CASES])
async def test_a_teams_activity_without_its_essentials_is_refused(
    start_app: StartApp,  # noqa: F811
    case: str,
    change: Any,
) -> None:
    app = await start_app()
    before = await row_counts(app.core)
    if isinstance(change, dict):
        body = change
    else:
        body = _without(
            app.connector.rewrite(
                activity(
                    "message_channel_mention_2019",
                    text="<at>My Combined</at> I'm working on the budget",
                )
            ),
            change,
        )
    response = await app.post(body)
    assert response.status == 400, case
    await app.deliver()
    assert app.connector.of("send", "reply", "update") == []
    assert await row_counts(app.core) == before


async def test_a_complete_teams_activity_is_still_taken(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app()
    body = app.connector.rewrite(activity("message_personal_2019", text="wol help"))
    assert (await app.post(body)).status == 201
