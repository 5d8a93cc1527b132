"""Load: mixed Slack traffic at a steady rate for minutes, against `wolbot serve` (SQLite and
PostgreSQL) and a bare slack-bolt app, in one run (issue 10).

Signed narrations (Events API messages), `/wol` slash commands (`help`, `me`) and button
clicks (block_actions, the check-in's Skip) leave on schedule (open loop) at `--rate`
requests/s for `--duration` seconds. The fake Slack Web API runs as its own process and
absorbs everything the bot sends (reactions, replies, response_url posts). Reported per
target: ack latency p50/p99 overall and by kind, errors, the server's memory (RSS, with
its worker process if any) sampled over the run, CPU, the database size at the end, and
how much of the narration backlog the inbox worker had handled by then.

    python bench/load.py                          # 5 minutes per target, prints a table
    python bench/load.py --duration 30 --targets sqlite,bare
    python bench/load.py --write-docs             # also updates docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import slackbench as sb

SECTION = "## Load: 5 minutes of mixed traffic (issue 10)"
MIX = (("narration", 0.90), ("command", 0.05), ("click", 0.05))
WARM_UP = 10.0  # seconds at a tenth of the rate before measuring (model, caches, people)
SERVE_MODES = {"one": {}, "process": {"SLACK_INBOX_WORKER": "process"}}
TARGET_LABELS = {"sqlite": "wolbot serve, SQLite", "postgresql": "wolbot serve, PostgreSQL",
                 "bare": "bare bolt AsyncApp"}  # fmt: skip


class Traffic:
    """The request mix, deterministic: every 20 requests 18 narrations, a command and a
    click, spread over PEOPLE people and CHANNELS channels. Messages dominate a real
    workspace's traffic; commands and clicks are what people do now and then."""

    def __init__(self, hooks: str) -> None:
        self.events = sb.EventFactory()
        self.hooks = hooks
        self.n = 0
        pattern: list[str] = []
        for kind, share in MIX:
            pattern += [kind] * round(share * 20)
        # spread commands and clicks over the 20 (7 is prime to 20: a permutation)
        self.pattern = [pattern[(i * 7) % len(pattern)] for i in range(len(pattern))]

    def next(self) -> sb.Request:
        self.n += 1
        kind = self.pattern[self.n % len(self.pattern)]
        if kind == "command":
            return self.command()
        if kind == "click":
            return self.click()
        return self.events.narration()

    def command(self) -> sb.Request:
        n = self.n
        fields = {
            "token": "x", "team_id": sb.TEAM, "team_domain": "bench",
            "channel_id": sb.channel(n), "channel_name": f"bench-{n % sb.CHANNELS}",
            "user_id": sb.user(n), "user_name": f"person{n % sb.PEOPLE}",
            "command": "/wol", "text": "help" if n % 2 else "me", "api_app_id": "A111",
            "response_url": f"{self.hooks}commands/{sb.TEAM}/{n}/bench",
            "trigger_id": f"{n}.{n}.bench",
        }  # fmt: skip
        return sb.Request("command", urlencode(fields).encode(), sb.FORM)

    def click(self) -> sb.Request:
        n = self.n
        person = sb.user(n)
        payload = {
            "type": "block_actions",
            "user": {"id": person, "username": f"person{n}", "name": f"person{n}",
                     "team_id": sb.TEAM},
            "api_app_id": "A111",
            "token": "x",
            "container": {"type": "message", "message_ts": f"{1_700_000_000 + n}.000100",
                          "channel_id": f"D{person}", "is_ephemeral": False},
            "trigger_id": f"{n}.{n}.bench",
            "team": {"id": sb.TEAM, "domain": "bench"},
            "channel": {"id": f"D{person}", "name": "directmessage"},
            "response_url": f"{self.hooks}actions/{sb.TEAM}/{n}/bench",
            "actions": [{"action_id": "checkin.skip", "block_id": "checkin", "value": person,
                         "type": "button", "action_ts": f"{time.time():.6f}",
                         "text": {"type": "plain_text", "text": "Skip"}}],
        }  # fmt: skip
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return sb.Request("click", body, sb.FORM)


@dataclass
class Sample:
    at: float  # seconds since the measured run started
    rss_mb: float
    cpu_s: float
    backlog: int | None


@dataclass
class Result:
    name: str
    step: sb.Step | None = None
    samples: list[Sample] = field(default_factory=list)
    db_bytes: int | None = None
    narrations: int | None = None  # stored by the end (handled)
    backlog: int | None = None  # inbox rows still waiting at the end
    cpu_per_request_ms: float = 0.0
    load_before: float = 0.0
    load_after: float = 0.0


def tree_rss(pid: int) -> float:
    return sb.rss_mb(pid) + sum(sb.rss_mb(c) for c in sb.children(pid))


def tree_cpu(pid: int) -> float:
    return sb.cpu_seconds(pid) + sum(sb.cpu_seconds(c) for c in sb.children(pid))


async def run_target(
    name: str,
    cmd: list[str],
    env: dict[str, str],
    pattern: str | None,
    cwd: Path,
    args: argparse.Namespace,
    hooks: str,
    counts: Callable[[], tuple[int, int]] | None = None,
    size: Callable[[], int] | None = None,
) -> Result:
    """`counts()` -> (narrations stored, inbox rows waiting); `size()` -> database bytes."""
    result = Result(name, load_before=sb.load_average())
    server = await sb.start_server(cmd, env, pattern, cwd)
    traffic = Traffic(hooks)
    url = server.url()
    try:
        print(f"  {name}: warming up", flush=True)
        await sb.open_loop(url, args.rate / 10, WARM_UP, traffic.next)
        cpu0 = tree_cpu(server.pid)
        started = time.perf_counter()
        pending: set[asyncio.Task[None]] = set()

        async def sample(at: float) -> None:
            backlog = None
            if counts is not None:
                backlog = (await asyncio.to_thread(counts))[1]
            result.samples.append(Sample(at, tree_rss(server.pid), tree_cpu(server.pid), backlog))
            last = result.samples[-1]
            print(f"  {name}: {at:5.0f} s  RSS {last.rss_mb:6.1f} MB  CPU {last.cpu_s:6.1f} s"
                  + ("" if backlog is None else f"  inbox backlog {backlog}")
                  + f"  load {sb.load_average():.1f}", flush=True)  # fmt: skip

        def tick(elapsed: float) -> None:
            if int(elapsed) % args.sample == 0:
                task = asyncio.create_task(sample(elapsed))
                pending.add(task)
                task.add_done_callback(pending.discard)

        await sample(0.0)
        step = await sb.open_loop(url, args.rate, args.duration, traffic.next, on_tick=tick)
        await asyncio.gather(*pending)
        await sample(time.perf_counter() - started)
        result.step = step
        result.cpu_per_request_ms = (tree_cpu(server.pid) - cpu0) / max(step.sent, 1) * 1000
        if counts is not None:
            result.narrations, result.backlog = await asyncio.to_thread(counts)
    finally:
        await sb.stop_server(server)
    if size is not None:
        result.db_bytes = await asyncio.to_thread(size)
    result.load_after = sb.load_average()
    s = result.step
    if s is not None:
        print(f"  {name}: p50 {s.pct(50):.1f} ms  p99 {s.pct(99):.1f} ms  "
              f"errors {s.errors} of {s.sent}  {s.statuses}", flush=True)  # fmt: skip
    return result


async def run(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    extra = SERVE_MODES[args.mode]
    async with sb.FakeSlack() as api:
        with tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            for target in args.targets:
                if target == "sqlite":
                    db_file = cwd / "load.db"
                    env = sb.base_env(api.url) | {"WOLBOT_DATABASE_URL": f"sqlite:///{db_file}"}

                    def sqlite_counts(db_file: Path = db_file) -> tuple[int, int]:
                        with sqlite3.connect(db_file, timeout=30) as conn:
                            narrations = conn.execute("SELECT count(*) FROM narration")
                            n = int(narrations.fetchone()[0])
                            inbox = conn.execute(
                                "SELECT count(*) FROM inbox WHERE status IN ('pending', 'sending')"
                            )
                            return n, int(inbox.fetchone()[0])

                    results.append(await run_target(
                        TARGET_LABELS[target], sb.serve_cmd(), env | extra, None, cwd, args,
                        api.hooks, sqlite_counts, lambda db_file=db_file: sb.sqlite_bytes(db_file),
                    ))  # fmt: skip
                elif target == "postgresql":
                    pg = sb.postgres_url()
                    if pg is None:
                        print("  PostgreSQL: no server on 127.0.0.1:5432, skipped")
                        continue
                    import psycopg

                    with sb.postgres_schema(pg) as (url, schema):
                        env = sb.base_env(api.url) | {"WOLBOT_DATABASE_URL": url}

                        def pg_counts(schema: str = schema, pg: str = pg) -> tuple[int, int]:
                            with psycopg.connect(pg, autocommit=True) as conn:
                                n = conn.execute(f'SELECT count(*) FROM "{schema}".narration')
                                i = conn.execute(
                                    f'SELECT count(*) FROM "{schema}".inbox'
                                    " WHERE status IN ('pending', 'sending')"
                                )
                                return int(n.fetchone()[0]), int(i.fetchone()[0])

                        def pg_size(schema: str = schema, pg: str = pg) -> int:
                            return sb.postgres_schema_bytes(pg, schema)

                        results.append(await run_target(
                            TARGET_LABELS[target], sb.serve_cmd(), env | extra, None, cwd,
                            args, api.hooks, pg_counts, pg_size,
                        ))  # fmt: skip
                else:
                    results.append(await run_target(
                        TARGET_LABELS[target], sb.bare_cmd(), sb.base_env(api.url),
                        sb.BARE_PATTERN, cwd, args, api.hooks,
                    ))  # fmt: skip
    return results


def memory_summary(samples: list[Sample]) -> tuple[str, str]:
    """('start → after warm-up → end, max', growth after warm-up) in MB. Warm-up: the
    first minute (or the first fifth of a shorter run)."""
    if not samples:
        return "—", "—"
    end_at = samples[-1].at
    warm = min(60.0, end_at / 5)
    after = [s for s in samples if s.at >= warm] or samples
    first, last = after[0], samples[-1]
    peak = max(s.rss_mb for s in samples)
    line = (f"{samples[0].rss_mb:.0f} → {first.rss_mb:.0f} (at {first.at:.0f} s) → "
            f"{last.rss_mb:.0f}, max {peak:.0f}")  # fmt: skip
    per_min = (last.rss_mb - first.rss_mb) / max((last.at - first.at) / 60, 1e-9)
    return line, f"{last.rss_mb - first.rss_mb:+.1f} MB ({per_min:+.2f} MB/min)"


def report(results: list[Result], args: argparse.Namespace) -> str:
    mix = ", ".join(f"{share:.0%} {kind}s" for kind, share in MIX)
    lines = [
        SECTION,
        "",
        f"`python bench/load.py` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPU(s) shared with other sessions' work; the load generator, the "
        "fake Slack Web API (its own process) and the server on one machine. "
        f"{args.rate:g} requests/s for {args.duration:g} s per target, open loop, after "
        f"{WARM_UP:g} s of warm-up at a tenth of the rate. Mix: {mix} (narrations are "
        "signed Events API messages; commands `/wol help` and `/wol me`; clicks the "
        "check-in's Skip button). wolbot serve ran "
        + (
            "as one process (`SLACK_INBOX_WORKER` unset)"
            if args.mode == "one"
            else "with its inbox worker process (`SLACK_INBOX_WORKER=process`)"
        )
        + "; RSS sampled every "
        f"{args.sample} s (with the worker process when there is one).",
        "",
        "| target | requests | errors | p50 / p99 ack (ms) | narration p50 / p99 | "
        "command p50 / p99 | click p50 / p99 | CPU per request (ms) | load avg before / after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r.step
        if s is None:
            continue

        def kind(k: str, s: sb.Step = s) -> str:
            return f"{s.pct(50, k):.1f} / {s.pct(99, k):.1f}"

        errors = f"{s.errors}" + (
            " (" + ", ".join(f"{k}: {v}" for k, v in s.statuses.items() if k != "200") + ")"
            if s.errors else ""
        )  # fmt: skip
        lines.append(
            f"| {r.name} | {s.sent} | {errors} | {s.pct(50):.1f} / {s.pct(99):.1f} | "
            f"{kind('narration')} | {kind('command')} | {kind('click')} | "
            f"{r.cpu_per_request_ms:.1f} | {r.load_before:.1f} / {r.load_after:.1f} |"
        )
    lines += [
        "",
        "| target | RSS MB: start → after warm-up → end, max | growth after warm-up | "
        "database at the end | narrations handled by the end | inbox backlog at the end |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        line, growth = memory_summary(r.samples)
        size = "—" if r.db_bytes is None else f"{r.db_bytes / 1e6:.1f} MB"
        handled = "—" if r.narrations is None else f"{r.narrations}"
        backlog = "—" if r.backlog is None else f"{r.backlog}"
        lines.append(f"| {r.name} | {line} | {growth} | {size} | {handled} | {backlog} |")
    lines += ["", "RSS over time (MB, every sample):", ""]
    for r in results:
        points = ", ".join(f"{s.at:.0f}s {s.rss_mb:.0f}" for s in r.samples)
        lines.append(f"- {r.name}: {points}")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=float, default=300.0, help="seconds per target (300)")
    ap.add_argument("--rate", type=float, default=200.0, help="requests/s (200)")
    ap.add_argument("--targets", default="sqlite,postgresql,bare",
                    help="any of sqlite,postgresql,bare (default all three)")  # fmt: skip
    ap.add_argument("--mode", choices=sorted(SERVE_MODES), default="one",
                    help="serve as one process (default) or with its worker process")  # fmt: skip
    ap.add_argument("--sample", type=int, default=10, help="seconds between RSS samples (10)")
    ap.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--notes", default="", help="file with text appended to the docs section")
    args = ap.parse_args()
    args.targets = [t for t in args.targets.split(",") if t]
    if unknown := set(args.targets) - set(TARGET_LABELS):
        ap.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    results = asyncio.run(run(args))
    section = report(results, args)
    print()
    print(section)
    if args.write_docs:
        notes = Path(args.notes).read_text() if args.notes else ""
        body = section + ("\n" + notes.strip() + "\n" if notes.strip() else "")
        print(f"written to {sb.write_docs(SECTION, body)}")


if __name__ == "__main__":
    main()
