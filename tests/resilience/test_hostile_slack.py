"""Hostile input on POST /slack/events of the real `wolbot serve` app (Slack adapter on, fake
Slack Web API): unsigned garbage is refused with 401 and has no effect; correctly signed
garbage of every content type gets a clear 4xx (or a 200 for a well-formed request that
means nothing), never a 500 or a stack trace; the inbox worker drops what it cannot
handle without looping; and the server keeps serving a normal narration afterwards."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.store.tables import Narration
from bot.store.tables.inbox import InboxItem
from tests.adapters.slack import conftest as slack_fixtures
from tests.adapters.slack.conftest import DATA, SIGNING_SECRET
from tests.fakes.slack_api import signed_headers
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

# the Slack adapter tests' fixtures: the fake Slack Web API and the real `wolbot serve` app
slack_api = slack_fixtures.slack_api
serve_slack = slack_fixtures.serve_slack

CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "application/xml",
    "",
]
# What a signed request may be answered with: 200 (acknowledged: a well-formed request the
# bot ignores or handles), 400 (not a Slack request), 413 (too big), 415 (wrong type).
ACCEPTABLE = {200, 400, 413, 415}


def recorded(folder: str) -> list[Any]:
    out = []
    for path in sorted((DATA / folder).glob("*.json")):
        out.append(json.loads(path.read_text()))
    return out


EVENTS = recorded("events")
INTERACTIONS = recorded("interactivity")
COMMAND = dict(parse_qsl((DATA / "commands" / "slash_command.form-urlencoded.txt").read_text()))


def _form(fields: Any) -> str:
    if isinstance(fields, dict):
        return urlencode(
            {str(k): v if isinstance(v, str) else as_json(v) for k, v in fields.items()}
        )
    return as_json(fields)


# (body, content type) pairs: every kind of request Slack sends, broken in every way.
json_events = st.sampled_from(EVENTS).flatmap(mutated).map(lambda v: (as_json(v), CONTENT_TYPES[0]))
json_garbage = json_values.map(lambda v: (as_json(v), CONTENT_TYPES[0]))
commands = st.one_of(
    mutated(COMMAND).map(lambda v: (_form(v), CONTENT_TYPES[1])),
    st.dictionaries(
        st.sampled_from(
            ["command", "trigger_id", "text", "team_id", "user_id", "channel_id", "response_url"]
        )
        | nasty_text,
        nasty_text,
        max_size=8,
    ).map(lambda d: (urlencode(d), CONTENT_TYPES[1])),
)
interactions = st.one_of(
    st.sampled_from(INTERACTIONS)
    .flatmap(mutated)
    .map(lambda v: (urlencode({"payload": as_json(v)}), CONTENT_TYPES[1])),
    st.one_of(nasty_text, json_values.map(as_json)).map(
        lambda p: (urlencode({"payload": p}), CONTENT_TYPES[1])
    ),
)
truncated = st.tuples(
    st.sampled_from(
        [as_json(e) for e in EVENTS]
        + [urlencode(COMMAND)]
        + [urlencode({"payload": as_json(i)}) for i in INTERACTIONS]
    ),
    st.floats(min_value=0, max_value=1),
    st.sampled_from(CONTENT_TYPES[:2]),
).map(lambda t: (t[0][: int(len(t[0]) * t[1])], t[2]))
wrong_types = st.tuples(
    st.binary(max_size=300)
    | st.sampled_from(
        [as_json(EVENTS[1]).encode(), urlencode(COMMAND).encode(), b"\xff\xfe{", b"{\x00}"]
    ),
    st.sampled_from(CONTENT_TYPES),
)
nested = st.tuples(
    st.sampled_from([50, 999, 1_500, 30_000]), st.sampled_from(["list", "dict"])
).map(lambda t: (deep(t[0], kind=t[1]), CONTENT_TYPES[0]))
anything = st.one_of(
    json_events, json_garbage, commands, interactions, truncated, wrong_types, nested
)


def narration_event(text: str = "I'm working on the hostile input drill", event_id: str = "EvOK"):
    body = json.loads((DATA / "events" / "event_callback_message.json").read_text())
    body["event_id"] = event_id
    body["event"].update(text=text, ts="1700000100.000100", event_ts="1700000100.000100")
    body["event"].pop("blocks", None)
    return body


async def narrations(core: Any) -> list[Narration]:
    async with core.db.session() as s:
        return list((await s.exec(select(Narration))).all())


async def inbox_rows(core: Any) -> list[InboxItem]:
    async with core.db.session() as s:
        return list((await s.exec(select(InboxItem))).all())


async def post_raw(slack: Any, body: str | bytes, headers: dict[str, str]) -> tuple[int, str]:
    raw = body.encode() if isinstance(body, str) else body
    async with slack.session.post(slack.base + "/slack/events", data=raw, headers=headers) as r:
        return r.status, await r.text()


def assert_clean(status: int, text: str) -> None:
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text and 'File "' not in text, text[:300]


async def still_serves(core: Any, slack: Any, slack_api: Any, event_id: str) -> None:
    """A normal narration after the storm is stored and acknowledged with a reaction."""
    before = len(slack_api.calls_to("reactions.add"))
    status, _ = await slack.event(narration_event(event_id=event_id))
    assert status == 200
    await slack.processed()
    await slack_api.wait_for("reactions.add", count=before + 1)
    assert any(n.text == "I'm working on the hostile input drill" for n in await narrations(core))


async def test_unsigned_garbage_is_refused_and_has_no_effect(serve_slack, slack_api) -> None:
    core, slack = await serve_slack()
    call = caller(asyncio.get_running_loop())
    now = str(int(time.time()))

    @BOUNDED
    @given(
        request=anything,
        headers=st.sampled_from(["none", "forged", "stale", "garbage-ts", "other-secret"]),
    )
    def property_(request: tuple[str, str], headers: str) -> None:
        body, content_type = request
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        sent: dict[str, str] = {"Content-Type": content_type} if content_type else {}
        if headers == "forged":
            sent |= {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "0" * 64}
        elif headers == "stale":
            sent |= signed_headers(
                raw, SIGNING_SECRET, timestamp=int(now) - 600, content_type=content_type
            )
        elif headers == "garbage-ts":
            sent |= {"X-Slack-Request-Timestamp": "1e99; DROP", "X-Slack-Signature": "v0=zz"}
        elif headers == "other-secret":
            sent |= signed_headers(raw, "not-the-secret", content_type=content_type)
        status, text = call(post_raw(slack, raw, sent))
        assert status == 401, (status, text[:200])
        assert_clean(status, text)

    await run_property(property_)
    await slack.processed()
    assert await narrations(core) == []
    assert await inbox_rows(core) == []
    assert [c.method for c in slack_api.calls if c.method != "auth.test"] == []
    await still_serves(core, slack, slack_api, "EvAfterUnsigned")


async def test_signed_garbage_gets_a_clear_answer_and_the_server_keeps_serving(
    serve_slack, slack_api
) -> None:
    core, slack = await serve_slack()
    call = caller(asyncio.get_running_loop())
    answered: dict[int, int] = {}

    @settings(BOUNDED, max_examples=150)
    @given(request=anything)
    def property_(request: tuple[str | bytes, str]) -> None:
        body, content_type = request
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        status, text = call(
            post_raw(slack, raw, signed_headers(raw, SIGNING_SECRET, content_type=content_type))
        )
        assert_clean(status, text)
        assert status in ACCEPTABLE, (status, text[:200])
        answered[status] = answered.get(status, 0) + 1

    await run_property(property_)
    assert answered.get(400), answered  # the garbage was seen as garbage, not just ignored
    # whatever was stored is handled or dropped, not retried for ever
    await slack.processed()
    await still_serves(core, slack, slack_api, "EvAfterSigned")
    for row in await inbox_rows(core):
        assert row.status in ("done", "failed"), (row.status, row.last_error)


async def test_oversized_bodies_are_refused_before_parsing(serve_slack, slack_api) -> None:
    core, slack = await serve_slack()
    big_text = "I'm working on " + "ä" * (1024 * 1024)
    body = as_json(narration_event(text=big_text, event_id="EvBig"))
    # signed and unsigned: 413, with or without a Content-Length the server can trust
    status, text = await post_raw(slack, body, signed_headers(body, SIGNING_SECRET))
    assert status == 413, status
    status, _ = await post_raw(slack, body, {"Content-Type": "application/json"})
    assert status == 413

    async def chunks():
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536].encode()

    headers = signed_headers(body, SIGNING_SECRET)
    async with slack.session.post(
        slack.base + "/slack/events", data=chunks(), headers=headers
    ) as r:
        assert r.status == 413, r.status
    # just under the limit, signed: a clear answer (the narration is too long for the bot)
    fits = as_json(narration_event(text="I'm working on " + "x" * 900_000, event_id="EvFits"))
    status, text = await post_raw(slack, fits, signed_headers(fits, SIGNING_SECRET))
    assert_clean(status, text)
    assert status == 200
    await slack.processed()
    assert all(len(n.text) < 10_000 for n in await narrations(core))
    await still_serves(core, slack, slack_api, "EvAfterBig")


async def test_the_inbox_drops_stored_garbage_once_and_keeps_the_lane_moving(
    serve_slack, slack_api
) -> None:
    """Rows stored by hand (or by a bug) that are not stored events: each is marked failed
    on its first attempt (logged, never retried, so never a loop), and the next event of the
    same conversation is handled normally."""
    core, slack = await serve_slack()
    good = narration_event(event_id="EvAfterGarbage")
    lane = "slack:T111:C111"
    garbage = [
        None,
        {"type": "event_callback", "event": "not an object"},
        {"platform": "slack", "workspace_id": "slack:T111", "event_id": "E1", "kind": "nope"},
        {
            "platform": "slack",
            "workspace_id": "slack:T111",
            "event_id": "E2",
            "kind": "message",
            "user": "W111",
            "conversation": {"id": "C111"},
        },
    ]
    now = core.clock.now()
    async with core.db.session() as s:
        for n, body in enumerate(garbage):
            s.add(
                InboxItem(
                    workspace_id="slack:T111",
                    event_key=f"EvGarbage{n}",
                    lane=lane,
                    platform="slack",
                    event=body,
                    status="pending",
                    attempts=0,
                    not_before=now,
                    received_at=now,
                )
            )
        await s.commit()
    status, _ = await slack.event(good)
    assert status == 200
    await slack.processed()
    await slack_api.wait_for("reactions.add")
    rows = {
        row.event_key: row
        for row in await inbox_rows(core)
        if row.event_key.startswith("EvGarbage")
    }
    assert sorted(rows) == [f"EvGarbage{n}" for n in range(len(garbage))]
    for row in rows.values():
        assert (row.status, row.attempts) == ("failed", 1), (row.event_key, row.last_error)
        assert row.last_error and row.last_error.startswith("MalformedEvent")
    assert [n.text for n in await narrations(core)] == ["I'm working on the hostile input drill"]
