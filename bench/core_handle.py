"""How fast the core handles events, without any chat platform: narrations (stored, matched,
acknowledged) and plain channel messages (de-duplicated, remembered, ignored), and how many
database statements (and of them writes) each costs, counted with SQLAlchemy's
`before_cursor_execute` event on every engine.

    python bench/core_handle.py [--postgres] [--events 200] [--root CHECKOUT] [--inbox]
                                [--one-by-one] [--show]

"CPU ms" is the process's CPU time per event (all threads, the encoder's included): on a
shared, loaded machine it varies far less than the rates, which follow the load.

`--inbox` measures the path a Slack event takes: the events are stored in the inbox first
(as the acknowledgement does), then the inbox worker hands them to the core; handled/s is
the worker's rate and the statements are those of handling (the store's are given apart).
The events are stored together, before the worker starts (a backlog: the worker's passes
each claim several); `--one-by-one` stores the next event only once the last is handled
(events that arrive slower than they are handled: a pass per event). The statements of
handling include the bench's own wait for the end (`Inbox.wait_idle`'s count, a few per
hundred events).

`--root` measures another checkout (e.g. a worktree of an older commit) with the same
bench code, so before and after can be compared in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

TOPICS = [
    "the onboarding checklist for new nurses",
    "moving our CI to GitHub Actions",
    "the GDPR register of the municipality",
    "a new intake form for the district teams",
    "the 2027 budget of the finance team",
]
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class Statements:
    """Counts the statements every engine sends, and the writes among them; the inbox's
    INSERTs (storing events, the acknowledgement's part) also apart."""

    def __init__(self) -> None:
        self.total = 0
        self.writes = 0
        self.stores = 0
        self.log: list[str] | None = None

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.total += 1
        first = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if first in WRITES:
            self.writes += 1
            if statement.split(None, 3)[2].strip('"') in ("inbox", "slack_inbox"):
                self.stores += 1
        if self.log is not None:
            self.log.append(" ".join(statement.split())[:110])


SLACK_BODY = "tests/adapters/slack/data/events/event_callback_message.json"


def slack_body(root: Path, n: int, text: str, user: str, channel: str) -> dict[str, Any]:
    import json

    body: dict[str, Any] = json.loads((root / SLACK_BODY).read_text())
    body["event_id"] = f"EvBench{n}-{uuid.uuid4().hex[:6]}"
    ts = f"{1700000000 + n}.{n:06d}"
    body["event"].update(text=text, ts=ts, event_ts=ts, user=user, channel=channel)
    body["event"].pop("blocks", None)
    return body


async def through_inbox(
    core: Any,
    root: Path,
    label: str,
    text: str,
    events: int,
    counter: Statements,
    show: bool,
    one_by_one: bool = False,
) -> dict[str, float]:
    """Store `events` Slack events in the inbox, then let its worker handle them all (or
    `one_by_one`: store each once the one before is handled)."""
    from adapters.slack.inbound import to_inbound

    handled = asyncio.Event()

    concurrency = 4 if core.db.dialect == "postgresql" else 1
    bodies = [
        slack_body(root, i, text.format(topic=TOPICS[i % 5], i=i), f"W{i % 7}", f"C{i % 4}")
        for i in range(events)
    ]
    try:  # one inbox for every platform (after issue 19)
        from bot.delivery.inbox import Inbox, event_key

        async def handle(event: Any) -> Any:
            try:
                return await core.handle(event, claimed=True)
            finally:
                handled.set()

        inbox = Inbox(
            core.db,
            handle,
            platform="slack",
            key=event_key(core.keyring),
            clock=core.clock,
            concurrency=concurrency,
        )

        async def put(body: dict[str, Any]) -> Any:
            return await inbox.put(to_inbound(body, bot_user_id="UBOT"))
    except ImportError:  # before: the Slack adapter's own inbox of request bodies
        from adapters.slack.inbox import SlackInbox

        async def handle_body(event: Any, body: Any) -> Any:
            try:
                return await core.handle(event)
            finally:
                handled.set()

        inbox = SlackInbox(core.db, handle_body, clock=core.clock, concurrency=concurrency)

        async def put(body: dict[str, Any]) -> Any:
            return await inbox.put(to_inbound(body, bot_user_id="UBOT"), body, "UBOT")

    if one_by_one:
        before = (counter.total, counter.writes, counter.stores)
        if show:
            counter.log = []
        started, cpu = time.perf_counter(), time.process_time()
        inbox.start()
        for body in bodies:
            handled.clear()
            await put(body)
            await handled.wait()
        await inbox.wait_idle(timeout=600)
        await inbox.stop()  # the last event's `done`
        handled_s, cpu = time.perf_counter() - started, time.process_time() - cpu
        stored = (counter.stores - before[2],) * 2
        before = (before[0] + stored[0], before[1] + stored[0])
        stored_s = handled_s
    else:
        before = (counter.total, counter.writes)
        started = time.perf_counter()
        await asyncio.gather(*(put(body) for body in bodies))
        stored_s = time.perf_counter() - started
        stored = (counter.total - before[0], counter.writes - before[1])
        before = (counter.total, counter.writes)
        if show:
            counter.log = []
        started, cpu = time.perf_counter(), time.process_time()
        inbox.start()
        await inbox.wait_idle(timeout=600)
        handled_s, cpu = time.perf_counter() - started, time.process_time() - cpu
        await inbox.stop()
    if counter.log is not None:
        print(f"statements of handling {events} {label}s from the inbox, by kind:")
        for line, n in Counter(" ".join(x.split()[:3]) for x in counter.log).most_common():
            print(f"    {n / events:6.2f} per event  {line}")
        counter.log = None
    return {
        f"{label} stored per s": events / stored_s,
        f"{label} statements to store": stored[0] / events,
        f"{label} writes to store": stored[1] / events,
        f"{label} handled per s": events / handled_s,
        f"{label} CPU ms": cpu / events * 1000,
        f"{label} statements": (counter.total - before[0]) / events,
        f"{label} writes": (counter.writes - before[1]) / events,
    }


async def measure(
    url: str,
    events: int,
    show: bool,
    inbox: bool = False,
    root: Path | None = None,
    one_by_one: bool = False,
) -> dict[str, float]:
    from bot.app import build
    from bot.config import Settings
    from tests.fakes import events as ev
    from tests.fakes.chat import RecordingPort

    counter = Statements()
    counter.install()
    settings = Settings.model_validate(
        {"database_url": url, "env": {"WOLBOT_SECRET_KEY": "bench-" + "x" * 20}}
    )
    core = build(settings)
    core.register_port(RecordingPort())
    await core.start(deliver=False, schedule=False)
    for i in range(10):  # warm up: model, caches, people
        await core.handle(ev.message(f"I'm working on {TOPICS[i % 5]} {i}", user=f"u{i % 7}"))
    figures: dict[str, float] = {}
    for label, text in (
        ("narration", "I'm working on {topic} part {i}"),
        ("plain message", "Lunch at twelve today? ({i})"),
    ):
        if inbox and root is not None:
            figures |= await through_inbox(
                core, root, label, text, events, counter, show, one_by_one
            )
            continue
        timings = []
        total = writes = 0
        cpu = time.process_time()
        for i in range(events):
            message = ev.message(text.format(topic=TOPICS[i % 5], i=i), user=f"u{i % 7}")
            before = (counter.total, counter.writes)
            if show and i == 0:
                counter.log = []
            started = time.perf_counter()
            await core.handle(message)
            timings.append(time.perf_counter() - started)
            total += counter.total - before[0]
            writes += counter.writes - before[1]
            if counter.log is not None and i == events - 1:
                print(f"statements of {events} {label}s, by kind:")
                for line, n in Counter(" ".join(x.split()[:3]) for x in counter.log).most_common():
                    print(f"    {n / events:6.2f} per event  {line}")
                counter.log = None
        figures[f"{label} CPU ms"] = (time.process_time() - cpu) / events * 1000
        timings.sort()
        figures[f"{label} p50 ms"] = statistics.median(timings) * 1000
        figures[f"{label} p95 ms"] = timings[int(len(timings) * 0.95)] * 1000
        figures[f"{label} per s"] = len(timings) / sum(timings)
        figures[f"{label} statements"] = total / events
        figures[f"{label} writes"] = writes / events
    await core.stop()
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument(
        "--root",
        default=str(Path(__file__).resolve().parent.parent),
        help="the checkout whose bot/ is measured (default: this one)",
    )
    ap.add_argument("--show", action="store_true", help="print the statements of one event")
    ap.add_argument(
        "--inbox",
        action="store_true",
        help="store the events in the inbox first, then let its worker handle them",
    )
    ap.add_argument(
        "--one-by-one",
        action="store_true",
        help="with --inbox: store each event once the one before is handled",
    )
    args = ap.parse_args()
    sys.path.insert(0, str(Path(args.root).resolve()))
    schema = None
    if args.postgres:
        import psycopg

        schema = f"wolbot_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/core.db"
    try:
        figures = asyncio.run(
            measure(
                url, args.events, args.show, args.inbox, Path(args.root).resolve(), args.one_by_one
            )
        )
    finally:
        if schema:
            import psycopg

            with psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/test", autocommit=True
            ) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    import bot

    path = "inbox → core.handle" if args.inbox else "core.handle"
    if args.inbox and args.one_by_one:
        path += ", one by one"
    print(
        f"{path} on {'PostgreSQL' if args.postgres else 'SQLite'}, {args.events} events,"
        f" bot from {Path(bot.__file__).parent.parent}:"
    )
    for key, value in figures.items():
        print(f"  {key:>34}: {value:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
