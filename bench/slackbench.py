"""Shared pieces of the Slack benchmarks (bench/slack_ack.py, bench/load.py).

Signed requests as Slack sends them, an open-loop sender (requests leave on schedule whether
or not earlier ones were answered, so a slow server cannot slow the offered load down), the
fake Slack Web API as a process of its own (its CPU is not the server's), starting and
stopping servers, PostgreSQL schemas, and process figures (RSS, CPU time) from /proc.

`python bench/slackbench.py fake-slack --people 200` runs the fake (tests/fakes/slack_api.py)
with that many people known to users.info and prints its API URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.slack_api import signed_headers  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
PEOPLE = 200
CHANNELS = 50
TEAM = "T111"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
LOGS = Path(tempfile.gettempdir()) / "wolbot-bench-logs"  # servers' output, one file each
SERVE = ["-m", "bot", "--log-level", "WARNING", "serve", "--host", "127.0.0.1", "--port"]


def user(n: int) -> str:
    return f"U{n % PEOPLE:05d}"


def channel(n: int) -> str:
    return f"C{n % CHANNELS:05d}"


# --- requests ---------------------------------------------------------------------------------


@dataclass
class Request:
    kind: str
    body: bytes
    content_type: str


class EventFactory:
    """Distinct Events API narration messages (event ids, people, channels, texts)."""

    def __init__(self) -> None:
        self.n = 0
        self.run = uuid.uuid4().hex[:6]

    def narration(self) -> Request:
        self.n += 1
        n = self.n
        ts = f"{1_700_000_000 + n}.{n % 1_000_000:06d}"
        body = {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "A111",
            "type": "event_callback",
            "event_id": f"Ev{self.run}{n:08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
            "event": {
                "type": "message",
                "channel": channel(n),
                "channel_type": "channel",
                "user": user(n),
                "text": f"I'm working on benchmark topic {n % 97} for team {n % 13}",
                "ts": ts,
                "event_ts": ts,
            },
        }
        return Request("narration", json.dumps(body).encode(), JSON)

    def next(self) -> bytes:
        return self.narration().body


# --- sending ----------------------------------------------------------------------------------


@dataclass
class Step:
    """The outcome of one open-loop run: latencies of the answered requests by kind."""

    rate: float
    sent: int = 0
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    duration: float = 0.0

    def pct(self, p: float, kind: str | None = None) -> float:
        return percentile(self.latencies if kind is None else self.by_kind.get(kind, []), p)


def percentile(latencies: list[float], p: float) -> float:
    """The p-th percentile in milliseconds (nearest rank), NaN without data."""
    if not latencies:
        return float("nan")
    data = sorted(latencies)
    return data[min(len(data) - 1, round(p / 100 * (len(data) - 1)))] * 1000


async def post(
    http: aiohttp.ClientSession, url: str, request: Request, timeout: float = 10.0
) -> tuple[str, float]:
    """Send one signed request; ("200", seconds) or the status / error name."""
    started = time.perf_counter()
    headers = signed_headers(request.body, SECRET) | {"Content-Type": request.content_type}
    try:
        async with http.post(
            url, data=request.body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as r:
            await r.read()
            outcome = str(r.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        outcome = type(exc).__name__
    return outcome, time.perf_counter() - started


async def open_loop(
    url: str,
    rate: float,
    seconds: float,
    next_request: Callable[[], Request],
    *,
    on_tick: Callable[[float], None] | None = None,
) -> Step:
    """Offer `rate` requests/s for `seconds`, open loop; `on_tick(elapsed)` about once a
    second (sampling)."""
    step = Step(rate=rate)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(request: Request) -> None:
            outcome, latency = await post(http, url, request)
            step.sent += 1
            step.statuses[outcome] = step.statuses.get(outcome, 0) + 1
            if outcome == "200":
                step.ok += 1
                step.latencies.append(latency)
                step.by_kind.setdefault(request.kind, []).append(latency)
            else:
                step.errors += 1
                step.errors_by_kind[request.kind] = step.errors_by_kind.get(request.kind, 0) + 1

        tasks: set[asyncio.Task[None]] = set()
        start = time.perf_counter()
        next_tick = 1.0
        for i in range(int(rate * seconds)):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(next_request()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if on_tick is not None and due - start >= next_tick:
                on_tick(due - start)
                next_tick += 1.0
        if tasks:
            await asyncio.gather(*tasks)
        step.duration = time.perf_counter() - start
    return step


async def closed_loop(
    url: str, seconds: float, next_request: Callable[[], Request], concurrency: int = 64
) -> tuple[float, float, int]:
    """Sustained answers/s with `concurrency` requests in flight: (rate, p99 ms, errors)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                outcome, latency = await post(http, url, next_request())
                if outcome == "200":
                    latencies.append(latency)
                else:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, percentile(latencies, 99) if latencies else 0.0, errors


# --- processes --------------------------------------------------------------------------------


def write_docs(heading: str, body: str) -> Path:
    """Replace the section under `heading` in docs/benchmarks.md with `body` (which starts
    with the heading), or append it; returns the file's path."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        nxt = text.find("\n## ", start + len(heading))
        text = text[:start] + body + ("" if nxt == -1 else text[nxt:])
    path.write_text(text.rstrip("\n") + "\n")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    proc: asyncio.subprocess.Process
    port: int
    drain: asyncio.Task[None]
    log: Path
    errors: int = 0  # ERROR lines in its log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path: str = "/slack/events") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def start_server(
    cmd: list[str], env: dict[str, str], pattern: str | None, cwd: Path
) -> Server:
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

    LOGS.mkdir(exist_ok=True)
    log_path = LOGS / f"{time.strftime('%H%M%S')}-{proc.pid}.log"
    server = Server(proc, port, asyncio.create_task(asyncio.sleep(0)), log=log_path)
    out = await asyncio.to_thread(log_path.open, "ab")

    async def drain() -> None:  # keep the pipe empty; the output goes to a log file
        assert proc.stdout is not None
        try:
            async for raw in proc.stdout:
                out.write(raw)
                if b" ERROR " in raw:
                    server.errors += 1
        finally:
            out.close()

    server.drain = asyncio.create_task(drain())
    return server


async def stop_server(server: Server) -> None:
    proc = server.proc
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 40)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    server.drain.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await server.drain


class FakeSlack:
    """The fake Slack Web API in its own process, with PEOPLE users."""

    def __init__(self, people: int = PEOPLE) -> None:
        self.people = people
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    async def __aenter__(self) -> FakeSlack:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE), "fake-slack",
            "--people", str(self.people), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        self.url = line.decode().strip()
        if not self.url.startswith("http"):
            raise RuntimeError(f"fake Slack did not start: {line!r}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()

    @property
    def hooks(self) -> str:
        """Base URL for response_url values (the fake answers POST /hooks/{name})."""
        return self.url.removesuffix("api/") + "hooks/"


def base_env(api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_"))}
    env.update(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_API_URL=api_url,
        NO_PROXY="127.0.0.1,localhost",
        WOLBOT_SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        PYTHONUNBUFFERED="1",
    )
    return env


def serve_cmd() -> list[str]:
    return [sys.executable, *SERVE]


def bare_cmd() -> list[str]:
    return [sys.executable, str(ROOT / "bench" / "slack_bare_app.py")]


BARE_PATTERN = r"listening on (\d+)"


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_url() -> str | None:
    """The benchmark server's URL when one answers on 127.0.0.1:5432."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return None
    return os.environ.get("WOLBOT_BENCH_POSTGRES_URL", PG_DEFAULT)


@contextlib.contextmanager
def postgres_schema(base: str):
    """A fresh schema for one run, dropped afterwards; yields (url, schema)."""
    import psycopg

    schema = f"wolbot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}", schema
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def postgres_schema_bytes(base: str, schema: str) -> int:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
            (schema,),
        ).fetchone()
    return int(row[0]) if row else 0


def sqlite_bytes(path: Path) -> int:
    """The database file with its write-ahead log."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


# --- process figures --------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    return os.getloadavg()[0]


# --- the fake Slack, as a process -------------------------------------------------------------


async def _fake_slack(people: int) -> None:
    from tests.fakes.slack_api import FakeSlackApi

    api = FakeSlackApi(bot_user_id="UBOT")
    for n in range(people):
        api.add_user(f"U{n:05d}", locale="nl-NL" if n % 2 else "en-GB")
    await api.start()
    print(api.url, flush=True)
    while True:  # a benchmark sends tens of thousands of calls: keep the record short
        await asyncio.sleep(5)
        del api.calls[:-1000]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    fake = sub.add_parser("fake-slack", help="run the fake Slack Web API, print its URL")
    fake.add_argument("--people", type=int, default=PEOPLE)
    args = ap.parse_args()
    if args.command == "fake-slack":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_fake_slack(args.people))


if __name__ == "__main__":
    main()
