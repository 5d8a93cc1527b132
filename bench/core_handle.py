"""How fast the core handles events, without any chat platform: narrations (stored, matched,
acknowledged) and plain channel messages (de-duplicated, remembered, ignored), and how many
database statements (and of them writes) each costs, counted with SQLAlchemy's
`before_cursor_execute` event on every engine.

    python bench/core_handle.py [--postgres] [--events 200] [--root CHECKOUT]

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
from pathlib import Path
from typing import Any

TOPICS = ["the onboarding checklist for new nurses", "moving our CI to GitHub Actions",
          "the GDPR register of the municipality", "a new intake form for the district teams",
          "the 2027 budget of the finance team"]
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class Statements:
    """Counts the statements every engine sends, and the writes among them."""

    def __init__(self) -> None:
        self.total = 0
        self.writes = 0
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
        if self.log is not None:
            self.log.append(" ".join(statement.split())[:110])


async def measure(url: str, events: int, show: bool) -> dict[str, float]:
    from bot.app import build
    from bot.config import Settings
    from tests.fakes import events as ev
    from tests.fakes.chat import RecordingPort

    counter = Statements()
    counter.install()
    settings = Settings.model_validate({"database_url": url,
                                        "env": {"WOLBOT_SECRET_KEY": "bench-" + "x" * 20}})
    core = build(settings)
    core.register_port(RecordingPort())
    await core.start(deliver=False, schedule=False)
    for i in range(10):  # warm up: model, caches, people
        await core.handle(ev.message(f"I'm working on {TOPICS[i % 5]} {i}", user=f"u{i % 7}"))
    figures: dict[str, float] = {}
    for label, text in (("narration", "I'm working on {topic} part {i}"),
                        ("plain message", "Lunch at twelve today? ({i})")):
        timings = []
        total = writes = 0
        for i in range(events):
            message = ev.message(text.format(topic=TOPICS[i % 5], i=i), user=f"u{i % 7}")
            before = (counter.total, counter.writes)
            if show and i == events - 1:
                counter.log = []
            started = time.perf_counter()
            await core.handle(message)
            timings.append(time.perf_counter() - started)
            total += counter.total - before[0]
            writes += counter.writes - before[1]
            if counter.log is not None:
                print(f"statements of the last {label}:")
                for line in counter.log:
                    print("   ", line)
                counter.log = None
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
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent),
                    help="the checkout whose bot/ is measured (default: this one)")
    ap.add_argument("--show", action="store_true", help="print the statements of one event")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(args.root).resolve()))
    schema = None
    if args.postgres:
        import psycopg

        schema = f"wolbot_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test",
                             autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/core.db"
    try:
        figures = asyncio.run(measure(url, args.events, args.show))
    finally:
        if schema:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test",
                                 autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    import bot

    print(f"core.handle on {'PostgreSQL' if args.postgres else 'SQLite'}, {args.events} events,"
          f" bot from {Path(bot.__file__).parent.parent}:")
    for key, value in figures.items():
        print(f"  {key:>24}: {value:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
