"""How long a `GET /metrics` scrape takes with a large database (issue 18).

Fills a fresh PostgreSQL schema (or a SQLite file) with 100,000 narrations and a backlog
of 10,000 pending outbox rows (plus 1,000 sent), starts the real web app of `wolbot serve`
on a local port and times `GET /metrics` (which counts both backlogs in the database at
each scrape), printing the median and p95.

    .venv/bin/python bench/metrics_scrape.py [--sqlite] [--narrations 100000] [--backlog 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.web import build_web_app
from bot.app import build
from bot.config import Settings
from bot.store.engine import Database

PG = "postgresql://postgres@127.0.0.1:5432/test"


async def fill(db: Database, narrations: int, backlog: int) -> None:
    now = "2026-12-01 10:00:00"
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO workspace (id, platform, created_at) "
                "VALUES ('slack:T1', 'slack', :now)"
            ),
            {"now": now},
        )
        rows = [{"i": i, "now": now} for i in range(narrations)]
        await conn.execute(
            text(
                "INSERT INTO narration (workspace_id, author_id, text, topic, channel_id, "
                "message_id, visibility, language, source, created_at, updated_at) VALUES "
                "('slack:T1', 'U' || :i, 'I am working on item ' || :i, 'item ' || :i, 'C1', "
                "'m' || :i, 'public', 'en', 'channel', :now, :now)"
            ),
            rows,
        )
        out = [
            {"i": i, "now": now, "status": "pending" if i < backlog else "sent"}
            for i in range(backlog + 1000)
        ]
        await conn.execute(
            text(
                "INSERT INTO outboxitem (workspace_id, platform, idempotency_key, op, destination, "
                "payload, rate_key, status, attempts, not_before, created_at) VALUES "
                "('slack:T1', 'slack', 'k' || :i, 'send', '{}', '{}', 'slack:T1:C' || (:i % 50), "
                ":status, 0, :now, :now)"
            ),
            out,
        )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    ap.add_argument("--narrations", type=int, default=100_000)
    ap.add_argument("--backlog", type=int, default=10_000)
    ap.add_argument("--scrapes", type=int, default=50)
    args = ap.parse_args()
    schema = None
    if args.sqlite:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    else:
        import psycopg

        schema = f"bench_metrics_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG}?options=-csearch_path%3D{schema}"
    try:
        db = Database(url)
        await db.upgrade()
        started = time.perf_counter()
        await fill(db, args.narrations, args.backlog)
        print(
            f"filled {args.narrations} narrations, {args.backlog} pending outbox rows "
            f"in {time.perf_counter() - started:.1f} s"
        )
        settings = Settings.model_validate(
            {"database_url": url, "auto_migrate": False, "env": {"WOLBOT_SECRET_KEY": "x" * 32}}
        )
        core = build(settings, db=db)
        runner = web.AppRunner(build_web_app(core, adapters=[]), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        times = []
        async with aiohttp.ClientSession() as http:
            for _ in range(args.scrapes + 3):
                t0 = time.perf_counter()
                async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
                    body = await r.text()
                times.append((time.perf_counter() - t0) * 1000)
        times = times[3:]  # warm-up
        assert f'wolbot_outbox_backlog{{status="pending"}} {float(args.backlog)}' in body
        p95 = statistics.quantiles(times, n=20)[18]
        print(
            f"{'SQLite' if args.sqlite else 'PostgreSQL'}: GET /metrics over {args.scrapes} "
            f"scrapes: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
            f"{len(body)} bytes"
        )
        query = next(
            line
            for line in body.splitlines()
            if line.startswith("wolbot_metrics_backlog_query_seconds ")
        )
        print(
            f"of which the backlog queries (last scrape): "
            f"{float(query.split()[1]) * 1000:.1f} ms; load average {os.getloadavg()[0]:.1f}"
        )
        await runner.cleanup()
        await db.dispose()
    finally:
        if schema:
            import psycopg

            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    asyncio.run(main())
