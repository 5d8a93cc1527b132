"""Hostile input on POST /api/messages of the real `wolbot serve` app with the Teams adapter
(development mode: no Bot Framework authentication; the fake Bot Connector receives the
answers): malformed activities, fields of the wrong type, huge and deeply nested bodies,
wrong content types. Never a 500 or a stack trace, a clear 4xx for what is not an
activity, and a normal narration is still answered afterwards. With authentication on,
garbage without a valid token is 401 and has no effect."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from adapters.web import build_web_app
from bot.app import build
from bot.clock import FakeClock
from bot.store.tables import Narration
from tests.adapters.teams import conftest as teams_fixtures
from tests.adapters.teams.teams_helpers import DATA, activity
from tests.conftest import make_settings
from tests.resilience.hostile_support import (
    BOUNDED,
    as_json,
    caller,
    deep,
    json_values,
    mutated,
    nasty_text,
    run_property,
)

connector = teams_fixtures.connector  # the fake Bot Connector (tests/fakes/bot_connector.py)

ACTIVITIES = [json.loads(p.read_text()) for p in sorted((DATA / "activities").glob("*.json"))]
# 2xx: an activity handled or ignored; 400 not an activity; 401 unauthenticated;
# 413 too big; 415 not JSON.
ACCEPTABLE = {200, 201, 202, 400, 401, 413, 415}
NARRATION = "I'm working on the Teams hostile input drill"


class Served:
    def __init__(self, core: Any, server: TestServer, session: aiohttp.ClientSession) -> None:
        self.core, self.server, self.session = core, server, session

    async def post(self, raw: bytes, content_type: str, **headers: str) -> tuple[int, str]:
        sent = {"Content-Type": content_type, **headers} if content_type else headers
        async with self.session.post(
            self.server.make_url("/api/messages"), data=raw, headers=sent
        ) as r:
            return r.status, await r.text()


async def serve(tmp: Path, env: dict[str, str]) -> Served:
    core = build(make_settings(f"sqlite:///{tmp / 'teams.db'}", env=env), clock=FakeClock())
    await core.db.upgrade()
    await core.start(deliver=True)
    server = TestServer(build_web_app(core, adapters=["teams"]), host="127.0.0.1")
    await server.start_server()
    return Served(core, server, aiohttp.ClientSession())


async def stop(app: Served) -> None:
    await app.session.close()
    await app.server.close()
    await app.core.stop()


def bodies(connector: Any) -> st.SearchStrategy[tuple[bytes, str]]:
    """(raw body, content type): mutated recorded activities, JSON of any shape, nesting,
    truncation, bytes that are not UTF-8, and content types that are not JSON."""
    json_type = "application/json"
    activities = st.sampled_from(ACTIVITIES).map(connector.rewrite)
    return st.one_of(
        activities.flatmap(mutated).map(lambda v: (as_json(v).encode(), json_type)),
        json_values.map(lambda v: (as_json(v).encode(), json_type)),
        st.tuples(activities.map(as_json), st.floats(0, 1)).map(
            lambda t: (t[0][: int(len(t[0]) * t[1])].encode(), json_type)
        ),
        st.sampled_from([50, 999, 1_500, 30_000]).map(lambda n: (deep(n).encode(), json_type)),
        st.sampled_from([40, 5_000]).map(lambda n: (deep(n, kind="dict").encode(), json_type)),
        st.tuples(
            st.binary(max_size=200),
            st.sampled_from(
                [
                    json_type,
                    "text/plain",
                    "application/x-www-form-urlencoded",
                    "application/json; charset=utf-16",
                    "",
                ]
            ),
        ),
        st.tuples(activities, nasty_text).map(
            lambda t: (as_json({**t[0], "text": t[1]}).encode(), json_type)
        ),
    )


async def narrations(core: Any) -> list[Narration]:
    async with core.db.session() as s:
        return list((await s.exec(select(Narration))).all())


def assert_clean(status: int, text: str) -> None:
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text and 'File "' not in text, text[:300]


async def still_answers(app: Served, connector: Any) -> None:
    before = len(connector.of("reply"))
    body = connector.rewrite(activity("message_personal_2019", text=NARRATION, id="after-storm"))
    status, text = await app.post(as_json(body).encode(), "application/json")
    assert status in (200, 201), (status, text)
    await connector.wait_for("reply", count=before + 1, timeout=20)
    assert NARRATION in [n.text for n in await narrations(app.core)]


async def test_malformed_activities_get_a_clear_answer_and_the_bot_keeps_answering(
    tmp_path, connector
) -> None:
    app = await serve(tmp_path, {"WOLBOT_TEAMS_DEV": "1"})
    call = caller(asyncio.get_running_loop())
    answered: dict[int, int] = {}
    try:

        @settings(BOUNDED, max_examples=150)
        @given(request=bodies(connector))
        def property_(request: tuple[bytes, str]) -> None:
            raw, content_type = request
            status, text = call(app.post(raw, content_type))
            assert_clean(status, text)
            assert status in ACCEPTABLE, (status, text[:200])
            answered[status] = answered.get(status, 0) + 1

        await run_property(property_)
        assert answered.get(400) and answered.get(415), answered
        await still_answers(app, connector)
    finally:
        await stop(app)


async def test_huge_bodies_are_refused(tmp_path, connector) -> None:
    app = await serve(tmp_path, {"WOLBOT_TEAMS_DEV": "1"})
    try:
        body = connector.rewrite(activity("message_personal_2019", text="x" * (3 * 1024 * 1024)))
        status, text = await app.post(as_json(body).encode(), "application/json")
        assert status == 413, status
        assert_clean(status, text)
        one_mb = connector.rewrite(
            activity("message_personal_2019", text="I'm working on " + "y" * 1_000_000)
        )
        status, text = await app.post(as_json(one_mb).encode(), "application/json")
        assert_clean(status, text)
        assert status in (200, 201), status  # the bot explains that it is too long
        await still_answers(app, connector)
        assert all(len(n.text) < 10_000 for n in await narrations(app.core))
    finally:
        await stop(app)


async def test_unauthenticated_garbage_is_refused_with_authentication_on(
    tmp_path, connector
) -> None:
    app = await serve(
        tmp_path,
        {
            "MICROSOFT_APP_ID": "11111111-2222-3333-4444-555555555555",
            "MICROSOFT_APP_PASSWORD": "not-used",
        },
    )
    call = caller(asyncio.get_running_loop())
    try:

        @settings(BOUNDED, max_examples=60)
        @given(
            request=bodies(connector),
            auth=st.sampled_from(
                ["", "Bearer ", "Bearer abc.def.ghi", "Basic eA==", "Bearer " + "A" * 5000]
            ),
        )
        def property_(request: tuple[bytes, str], auth: str) -> None:
            raw, content_type = request
            headers = {"Authorization": auth} if auth else {}
            status, text = call(app.post(raw, content_type, **headers))
            assert_clean(status, text)
            assert status in (400, 401, 413, 415), (status, text[:200])

        await run_property(property_)
        assert await narrations(app.core) == []
        assert connector.calls == []
    finally:
        await stop(app)
