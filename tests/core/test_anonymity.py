"""Anonymity by construction (issue 17, item 1): a person whose only activity is anonymous
questions (asking, replying, marking answered, the relays of answers to them, a refusal at
the daily limit) leaves nothing in the database or the log that names them, and nothing
else that was written in the minute they acted.

Every table is dumped (SQLite and PostgreSQL) and every log line is captured at DEBUG. The
search is for the id and what it is easily turned into: the display name, the e-mail, the
DM conversation, unkeyed hashes and encodings.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.events import ConversationKind
from bot.logs import quiet_payload_loggers
from bot.ports import PersonInfo
from bot.store.tables import metadata
from tests.fakes import events as ev

WS = ev.WORKSPACE
ASKER = "quirijn.vdveen"
DM = f"D-{ASKER}"
SETTINGS = {
    "workspaces": {
        WS: {
            "admins": ["alice"],
            "managers": ["mona"],
            "timezone": "Europe/Amsterdam",
            "channels": {"DURF": {"kind": "durf-te-vragen", "anonymous": True, "language": "nl"}},
        }
    }
}
START = datetime(2026, 1, 9, 14, 7, 20, tzinfo=UTC)  # a Friday afternoon, mid-hour


def needles() -> list[str]:
    """The asker's id and what it is easily turned into."""
    found = [ASKER, "Quirijn van der Veen", "quirijn@example.org", DM]
    for value in (ASKER, f"{WS}:{ASKER}", f"{WS}\x1f{ASKER}", f"test:{ASKER}"):
        raw = value.encode()
        found += [hashlib.new(h, raw).hexdigest() for h in ("md5", "sha1", "sha256", "blake2b")]
        found += [
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
            raw.hex(),
        ]
    return found


async def dump(core) -> dict[tuple[str, str], list]:
    """Every row of every table: (table, row as JSON) -> the row's datetimes."""
    rows: dict[tuple[str, str], list] = {}
    async with core.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in (await conn.execute(text(f'SELECT * FROM "{table.name}"'))).mappings():
                data = dict(row)
                times = [
                    v.replace(tzinfo=v.tzinfo or UTC)
                    for v in data.values()
                    if isinstance(v, datetime)
                ]
                rows[(table.name, json.dumps(data, default=str, sort_keys=True))] = times
    return rows


async def test_an_anonymous_asker_leaves_no_trace_in_tables_or_log(
    make_core, port, clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    quiet_payload_loggers()  # as `wolbot --log-level DEBUG` sets it up (bot/logs.py)
    port.people[ASKER] = PersonInfo(
        ASKER,
        "Quirijn van der Veen",
        email="quirijn@example.org",
        timezone="Europe/Amsterdam",
        locale="nl-NL",
    )
    clock.set(START - timedelta(minutes=10))
    core = make_core(port, **SETTINGS)
    await core.start(deliver=False, schedule=False)

    async def run(event) -> None:
        await core.handle(event)
        await core.delivery.drain()

    # other people's activity beforehand: they are in the tables, the asker is not
    await run(ev.message("I'm working on the new rota", user="bert", channel="C1"))
    await run(ev.dm("the intranet migration", user="mona"))
    before = await dump(core)
    acted: list[datetime] = []

    def act_at(minutes: int) -> None:
        clock.set(START + timedelta(minutes=minutes))
        acted.append(clock.now())

    act_at(0)
    await run(
        ev.command(
            "ask anon Hoe meld ik een fout zonder iemand te beschuldigen?",
            user=ASKER,
            channel=DM,
            kind=ConversationKind.DM,
        )
    )
    card = next(r for r in port.sent() if r.dest.channel_id == "DURF")
    assert "Anonieme vraag (#1)" in card.text
    clock.set(START + timedelta(minutes=3))  # an answer, relayed to the asker
    await run(
        ev.message(
            "Via het VIM-formulier, dat is anoniem.",
            user="bert",
            channel="DURF",
            thread_id=card.message_id,
            message_id="a1",
        )
    )
    relay = port.sent()[-1]
    assert relay.dest.channel_id == DM and "VIM-formulier" in relay.text
    act_at(6)
    await run(ev.command("ask reply 1 Dank je!", user=ASKER, channel=DM, kind=ConversationKind.DM))
    act_at(9)
    button = relay.message.blocks[-1].elements[0]
    await run(ev.click(button.action_id, button.value, user=ASKER, channel=DM))
    assert port.sent("react")[-1].emoji == "white_check_mark"
    act_at(12)
    await run(ev.command("ask answered 1", user=ASKER, channel=DM, kind=ConversationKind.DM))
    act_at(15)
    for i in range(3):  # two more, then one over the daily limit (refused)
        await run(
            ev.command(f"ask anon vraag {i}?", user=ASKER, channel=DM, kind=ConversationKind.DM)
        )
    assert "limiet" in port.sent()[-1].text or "limit" in port.sent()[-1].text
    clock.set(START + timedelta(minutes=20))
    await run(ev.click("ask.ack", "1", user="mona", channel="DURF"))

    after = await dump(core)
    lowered = [n.lower() for n in needles()]
    named = [f"{table}: {row}" for (table, row) in after if any(n in row.lower() for n in lowered)]
    assert not named, "\n".join(named)
    logged = [
        r.getMessage() for r in caplog.records if any(n in r.getMessage().lower() for n in lowered)
    ]
    assert not logged, "\n".join(logged)
    # rows that appeared or changed, with a time in a minute the asker acted in: only the
    # questions themselves and what was posted in the public channel (the card, a ✅)
    minutes = {t.replace(second=0, microsecond=0) for t in acted}
    timed = [
        f"{table}: {row}"
        for (table, row), times in after.items()
        if (table, row) not in before
        and any(t.replace(second=0, microsecond=0) in minutes for t in times)
        and table != "ask_question"
        and not (table == "outboxitem" and '"channel_id": "DURF"' in row)
    ]
    assert not timed, "\n".join(timed)
    assert sum(1 for table, _ in after if table == "ask_question") == 3
