"""Slack acknowledgement latency and throughput: `wolbot serve` vs a bare bolt AsyncApp.

Starts the local fake Slack Web API (tests/fakes/slack_api.py) in this process, then, one
at a time as subprocesses: `wolbot serve` on SQLite, `wolbot serve` on PostgreSQL (when a
server answers on 127.0.0.1:5432) and bench/slack_bare_app.py. Against each it drives
signed Events API narration messages (distinct event ids, people and channels) at fixed
rates (open loop: requests leave on schedule whether or not earlier ones were answered)
and reports ack latency p50/p99 as Slack would see it, then the sustained events/s with 64
requests in flight. wolbot's numbers include everything before the ack: signature check,
authorization, de-duplication claim, conversation reference, person lookup (cached),
narration row and the queued reaction.

    python bench/slack_ack.py                     # prints a table
    python bench/slack_ack.py --write-docs        # also updates docs/benchmarks.md
    python bench/slack_ack.py --rates 50,200 --seconds 3 --no-postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import socket
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.slack_api import FakeSlackApi, signed_headers  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
PEOPLE = 200
CHANNELS = 50
SECTION = "## Slack: acknowledgement latency and throughput (issue 3)"
LOAD = os.getloadavg()


@dataclass
class Step:
    rate: float
    sent: int = 0
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    duration: float = 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, round(p / 100 * (len(data) - 1)))] * 1000


@dataclass
class Target:
    name: str
    steps: list[Step] = field(default_factory=list)
    sustained: float = 0.0
    sustained_p99: float = 0.0
    handled_rate: float | None = None  # events/s the inbox worker handled (wolbot only)
    backlog: int = 0


class EventFactory:
    def __init__(self) -> None:
        self.n = 0
        self.run = uuid.uuid4().hex[:6]

    def next(self) -> bytes:
        self.n += 1
        n = self.n
        user = f"U{n % PEOPLE:05d}"
        channel = f"C{n % CHANNELS:05d}"
        ts = f"{1_700_000_000 + n}.{n % 1_000_000:06d}"
        body = {
            "token": "x",
            "team_id": "T111",
            "api_app_id": "A111",
            "type": "event_callback",
            "event_id": f"Ev{self.run}{n:08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T111", "user_id": "UBOT", "is_bot": True}],
            "event": {
                "type": "message",
                "channel": channel,
                "channel_type": "channel",
                "user": user,
                "text": f"I'm working on benchmark topic {n % 97} for team {n % 13}",
                "ts": ts,
                "event_ts": ts,
            },
        }
        return json.dumps(body).encode()


async def post(http: aiohttp.ClientSession, url: str, body: bytes) -> tuple[bool, float]:
    started = time.perf_counter()
    try:
        async with http.post(url, data=body, headers=signed_headers(body, SECRET)) as r:
            await r.read()
            ok = r.status == 200
    except aiohttp.ClientError:
        ok = False
    return ok, time.perf_counter() - started


async def open_loop(url: str, rate: float, seconds: float, events: EventFactory) -> Step:
    step = Step(rate=rate)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks: list[asyncio.Task[tuple[bool, float]]] = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(http, url, events.next())))
        for ok, latency in await asyncio.gather(*tasks):
            step.sent += 1
            if ok:
                step.ok += 1
                step.latencies.append(latency)
            else:
                step.errors += 1
        step.duration = time.perf_counter() - start
    return step


async def closed_loop(url: str, seconds: float, events: EventFactory, concurrency: int = 64):
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                ok, latency = await post(http, url, events.next())
                if ok:
                    latencies.append(latency)
                else:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    p99 = sorted(latencies)[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else 0.0
    return len(latencies) / elapsed, p99, errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_server(cmd: list[str], env: dict[str, str], pattern: str | None, cwd: Path):
    """Start a server; `pattern` finds its port in its output, else it gets `--port N` and
    is ready when /healthz answers."""
    port = 0 if pattern else free_port()
    argv = cmd if pattern else [*cmd, str(port)]
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert proc.stdout is not None
    log: list[str] = []
    if pattern:
        while True:
            raw = await asyncio.wait_for(proc.stdout.readline(), 120)
            if not raw:
                raise RuntimeError("server exited:\n" + "".join(log))
            line = raw.decode(errors="replace")
            log.append(line)
            m = re.search(pattern, line)
            if m:
                port = int(m.group(1))
                break
    else:
        deadline = time.monotonic() + 120
        async with aiohttp.ClientSession() as http:
            while True:
                if proc.returncode is not None or time.monotonic() > deadline:
                    out = await proc.stdout.read()
                    raise RuntimeError("server did not start:\n" + out.decode(errors="replace"))
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)

    async def drain() -> None:
        assert proc.stdout is not None
        async for _ in proc.stdout:
            pass

    return proc, port, asyncio.create_task(drain())


async def stop_server(proc: asyncio.subprocess.Process, drain: asyncio.Task[None]) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    drain.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await drain


def base_env(api: FakeSlackApi) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_"))}
    env.update(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_API_URL=api.url,
        NO_PROXY="127.0.0.1,localhost",
        WOLBOT_SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        PYTHONUNBUFFERED="1",
    )
    return env


async def drain_rate(backlog: Callable[[], int], timeout: float = 20.0) -> tuple[float, int]:
    """How fast the inbox worker empties the backlog left by the load (events/s)."""
    first = await asyncio.to_thread(backlog)
    if first == 0:
        return float("nan"), 0
    start = time.perf_counter()
    left = first
    while left and time.perf_counter() - start < timeout:
        await asyncio.sleep(0.5)
        left = await asyncio.to_thread(backlog)
    return (first - left) / (time.perf_counter() - start), first


async def measure(name: str, cmd, env, pattern, cwd, args, api, backlog=None) -> Target:
    proc, port, drain = await start_server(cmd, env, pattern, cwd)
    target = Target(name)
    url = f"http://127.0.0.1:{port}/slack/events"
    events = EventFactory()
    try:
        await open_loop(url, 20, 1.0, events)  # warm up: auth.test, people, connections
        for rate in args.rates:
            step = await open_loop(url, rate, args.seconds, events)
            target.steps.append(step)
            print(
                f"  {name:<28} {rate:>5.0f}/s  p50 {step.pct(50):7.1f} ms  "
                f"p99 {step.pct(99):7.1f} ms  errors {step.errors}",
                flush=True,
            )
        target.sustained, target.sustained_p99, errors = await closed_loop(
            url, args.seconds, events
        )
        print(f"  {name:<28} sustained {target.sustained:7.0f} events/s "
              f"(p99 {target.sustained_p99:.0f} ms, errors {errors})", flush=True)  # fmt: skip
        if backlog is not None:
            target.handled_rate, target.backlog = await drain_rate(backlog)
            print(f"  {name:<28} inbox worker handled {target.handled_rate:.0f} events/s "
                  f"(backlog {target.backlog})", flush=True)  # fmt: skip
    finally:
        await stop_server(proc, drain)
    api.reset()
    return target


def postgres_url() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return None
    return os.environ.get("WOLBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def run(args: argparse.Namespace) -> list[Target]:
    results: list[Target] = []
    serve = [sys.executable, "-m", "bot", "--log-level", "WARNING", "serve",
             "--host", "127.0.0.1", "--port"]  # fmt: skip
    web_only = {"SLACK_INBOX_WORKER": "0"}
    async with FakeSlackApi(bot_user_id="UBOT") as api:
        for n in range(PEOPLE):
            api.add_user(f"U{n:05d}", locale="nl-NL" if n % 2 else "en-GB")
        with tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            for extra, label in ((web_only, "web replica"), ({}, "one process")):
                db_file = cwd / f"bench-{len(results)}.db"
                env = base_env(api) | {"WOLBOT_DATABASE_URL": f"sqlite:///{db_file}"} | extra

                def sqlite_backlog(db_file: Path = db_file) -> int:
                    with sqlite3.connect(db_file, timeout=30) as conn:
                        return int(conn.execute("SELECT count(*) FROM slack_inbox").fetchone()[0])

                backlog = None if extra else sqlite_backlog
                name = f"wolbot serve, SQLite, {label}"
                results.append(await measure(name, serve, env, None, cwd, args, api, backlog))
            pg = None if args.no_postgres else postgres_url()
            if pg:
                import psycopg

                for extra, label in ((web_only, "web replica"), ({}, "one process")):
                    schema = f"wolbot_bench_{uuid.uuid4().hex[:8]}"
                    with psycopg.connect(pg, autocommit=True) as conn:
                        conn.execute(f'CREATE SCHEMA "{schema}"')
                    try:
                        url = f"{pg}?options=-csearch_path%3D{schema}"
                        env = base_env(api) | {"WOLBOT_DATABASE_URL": url} | extra

                        def pg_backlog(schema: str = schema) -> int:
                            with psycopg.connect(pg, autocommit=True) as conn:
                                row = conn.execute(f'SELECT count(*) FROM "{schema}".slack_inbox')
                                return int(row.fetchone()[0])

                        backlog = None if extra else pg_backlog
                        name = f"wolbot serve, PostgreSQL, {label}"
                        results.append(
                            await measure(name, serve, env, None, cwd, args, api, backlog)
                        )
                    finally:
                        with psycopg.connect(pg, autocommit=True) as conn:
                            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            bare = [sys.executable, str(ROOT / "bench" / "slack_bare_app.py")]
            pattern = r"listening on (\d+)"
            results.append(
                await measure("bare bolt AsyncApp", bare, base_env(api), pattern, cwd, args, api)
            )
    return results


def report(results: list[Target], args: argparse.Namespace) -> str:
    bare = next((t for t in results if t.name.startswith("bare")), None)
    lines = [
        SECTION,
        "",
        f"`python bench/slack_ack.py` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPU(s) shared with other work, client and servers on one machine; "
        f"{args.seconds:g} s per rate, open loop; sustained = 64 requests in flight; "
        f"load average {LOAD[0]:.1f} before, {os.getloadavg()[0]:.1f} after. "
        "*web replica*: `SLACK_INBOX_WORKER=0`, the process only verifies, stores and "
        "acknowledges (handling is left to replicas with the worker on); *one process*: "
        "acknowledging and handling share the process. handled/s: how fast the inbox worker "
        "then worked off the backlog (the core's own cost per event: person, settings, "
        "narration, matching, queued reaction).",
        "",
        "| target | "
        + " | ".join(f"{r:g}/s p50 / p99 (ms)" for r in args.rates)
        + " | sustained acks/s | vs bare | handled/s |",
        "|---|" + "---|" * len(args.rates) + "---|---|---|",
    ]
    for t in results:
        cells = [
            f"{s.pct(50):.1f} / {s.pct(99):.1f}" + (f" ({s.errors} err)" if s.errors else "")
            for s in t.steps
        ]
        ratio = f"{t.sustained / bare.sustained:.0%}" if bare and bare.sustained else "—"
        handled = "—" if t.handled_rate is None else f"{t.handled_rate:.0f}"
        lines.append(
            f"| {t.name} | " + " | ".join(cells) + f" | {t.sustained:.0f} | {ratio} | {handled} |"
        )
    target_rate = 200.0
    lines += [
        "",
        "How to read this: the acknowledgement is the time Slack waits. A *web replica* does "
        "only what must happen before it (signature, authorization, one batched INSERT into "
        "the inbox), so its numbers are the adapter's; in *one process* the same CPU also "
        "runs the handling of the backlog (handled/s — the core's cost per narration, "
        "dominated by the person lookup, settings, database writes and the matching "
        "encoder), which is what pushes its latency up. The bare app acknowledges without "
        "storing anything, so an acknowledged event can be lost there; wolbot's cannot. On a "
        "machine with a load average well above its CPU count every figure here, the bare "
        "app's included, is noisy: compare rows measured in the same run, and rerun on quiet "
        "hardware for absolute numbers.",
    ]
    lines.append("")
    for t in results:
        if t.name.startswith("bare"):
            continue
        step = next((s for s in t.steps if s.rate == target_rate), None)
        if step is not None:
            verdict = "meets" if step.pct(99) < 100 else "misses"
            lines.append(
                f"- {t.name}: p99 at 200/s {step.pct(99):.1f} ms ({verdict} the 100 ms target)"
                + (
                    f"; throughput {t.sustained / bare.sustained:.0%} of the bare app "
                    f"({'meets' if t.sustained >= 0.5 * bare.sustained else 'misses'} the 50% "
                    "target)."
                    if bare and bare.sustained
                    else "."
                )
            )
    lines.append("")
    return "\n".join(lines)


def write_docs(section: str) -> Path:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if nxt == -1 else text[nxt:])
    path.write_text(text.rstrip("\n") + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--rates", default="50,100,200,400", help="events/s steps (default 50,100,200,400)"
    )
    ap.add_argument("--seconds", type=float, default=5.0, help="seconds per step (default 5)")
    ap.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL run")
    ap.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    results = asyncio.run(run(args))
    section = report(results, args)
    print()
    print(section)
    if args.write_docs:
        print(f"written to {write_docs(section)}")


if __name__ == "__main__":
    main()
