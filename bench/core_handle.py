"""How fast the core handles events, without any chat platform: narrations (stored, matched,
acknowledged) and plain channel messages (de-duplicated, remembered, ignored).

    python bench/core_handle.py [--postgres] [--events 200]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build
from bot.config import Settings
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

TOPICS = ["the onboarding checklist for new nurses", "moving our CI to GitHub Actions",
          "the GDPR register of the municipality", "a new intake form for the district teams",
          "the 2027 budget of the finance team"]


async def measure(url: str, events: int) -> dict[str, float]:
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
        for i in range(events):
            started = time.perf_counter()
            await core.handle(ev.message(text.format(topic=TOPICS[i % 5], i=i),
                                         user=f"u{i % 7}"))
            timings.append(time.perf_counter() - started)
        timings.sort()
        figures[f"{label} p50 ms"] = statistics.median(timings) * 1000
        figures[f"{label} p95 ms"] = timings[int(len(timings) * 0.95)] * 1000
        figures[f"{label} per s"] = len(timings) / sum(timings)
    await core.stop()
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--events", type=int, default=200)
    args = ap.parse_args()
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
        figures = asyncio.run(measure(url, args.events))
    finally:
        if schema:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test",
                                 autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(f"core.handle on {'PostgreSQL' if args.postgres else 'SQLite'}, {args.events} events:")
    for key, value in figures.items():
        print(f"  {key:>22}: {value:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
