"""The `wolbot` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from bot import __version__
from bot.app import ADAPTERS, build
from bot.config import Settings, load_settings
from bot.config_env import LOG_LEVELS, db_wait_seconds, log_level, port_problem
from bot.errors import ConfigError, ListenError, StoreUnavailable
from bot.logs import configure_logging
from bot.preflight import AdapterStatus, adapter_statuses, describe
from bot.store.engine import Database, head_revisions, safe_url

log = logging.getLogger("wolbot")
STARTS = ("config", "chat", "serve", "run-due")  # commands that check the adapters too


async def wait_for_database(settings: Settings) -> None:
    """Raise StoreUnavailable with the reason when the database does not answer within
    WOLBOT_DB_WAIT_SECONDS (default 0: one attempt), trying every 2 seconds meanwhile."""
    db = Database(settings.database_url)
    try:
        await db.wait_until_reachable(db_wait_seconds(settings.env))
    finally:
        await db.dispose()


_HELP = argparse.RawDescriptionHelpFormatter
_ENVIRONMENT = """environment (secrets and deployment; see README.md):
  WOLBOT_CONFIG          path to app.yaml (default: ./app.yaml when present)
  WOLBOT_DATABASE_URL    sqlite:///wolbot.db (default) or postgresql://user:pass@host/db
                         (postgres://... works too)
  WOLBOT_SECRET_KEY      root key, at least 16 characters; required with PostgreSQL
  WOLBOT_LOG_LEVEL       DEBUG, INFO, WARNING (default), ERROR
  WOLBOT_LOG_FORMAT      text (default) or json (one JSON object per line on stderr)
  WOLBOT_AUTO_MIGRATE    0: do not migrate the database on start
  WOLBOT_DB_WAIT_SECONDS how long serve waits for an unreachable database at start (default 0)
  SLACK_*, MICROSOFT_APP_*  adapters: `wolbot config check` shows what each still lacks
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wolbot",
        formatter_class=_HELP,
        epilog=_ENVIRONMENT,
        description="wolbot: working out loud in the chat people already use.",
    )
    p.add_argument(
        "--config",
        metavar="PATH",
        help="path to app.yaml (default: $WOLBOT_CONFIG, else ./app.yaml)",
    )
    p.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        metavar="LEVEL",
        help="DEBUG, INFO, WARNING or ERROR (default: $WOLBOT_LOG_LEVEL, else WARNING)",
    )
    p.add_argument("--version", action="version", version=f"wolbot {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "chat",
        help="talk to the bot in this terminal (reads standard input)",
        description="The console adapter on standard input: `@name` says who "
        "speaks, `#channel` where, `/wol ...` is the slash command, `!N` clicks "
        "button N. Data goes to $WOLBOT_DATABASE_URL (default sqlite:///wolbot.db).",
    )
    serve = sub.add_parser(
        "serve",
        help="run the web app for Slack, Teams and the dashboard",
        description="Run the web app: Slack (/slack/events), Teams (/api/messages) and the "
        "dashboard as the environment enables them, plus GET /livez, /readyz, /healthz and "
        "/metrics. Stops gracefully on SIGTERM/SIGINT.",
    )
    serve.add_argument(
        "--host",
        help="address to listen on (default: $WOLBOT_HOST, else 127.0.0.1; 0.0.0.0 in a container)",
    )
    serve.add_argument("--port", help="port (default: $WOLBOT_PORT, else 8080)")
    db = sub.add_parser(
        "db",
        help="database maintenance (migrations)",
        description="upgrade: apply the migrations (what serve does on start "
        "unless WOLBOT_AUTO_MIGRATE=0); status: show where the database "
        "stands. upgrade exits 1 when the database is still behind "
        "afterwards; status exits 0 (3 for both when the database cannot be "
        "reached).",
    )
    db.add_argument("action", choices=["upgrade", "status"], help="upgrade or status")
    due = sub.add_parser(
        "run-due",
        help="run the scheduled jobs that are due once",
        description="Run the scheduled jobs that are due (dialogue rounds, "
        "check-ins, nudges, retention) once, and deliver console output; Slack "
        "and Teams messages stay in the outbox for serve.",
    )
    due.add_argument(
        "--at", help="pretend it is this time (ISO 8601, e.g. 2026-11-24T10:00+01:00; default: now)"
    )
    config = sub.add_parser(
        "config",
        help="check app.yaml and the environment without starting",
        description="check: validate app.yaml and the environment as chat and serve do at "
        "start, list every problem (`key: what is wrong (what is expected)`) and the adapters "
        "the environment enables. Exit 0 when OK, 2 otherwise.",
    )
    config.add_argument("action", choices=["check"], help="check")
    secrets = sub.add_parser(
        "secrets",
        help="keys derived from WOLBOT_SECRET_KEY",
        description="rotate: re-encrypt stored secrets with WOLBOT_SECRET_KEY (the old key in "
        "WOLBOT_SECRET_KEY_PREVIOUS); see docs/operations.md",
    )
    secrets.add_argument("action", choices=["rotate"], help="rotate")
    models = sub.add_parser(
        "models",
        help="prepare the matching model's cache",
        description="prepare: load the configured matching encoder (app.yaml matching.encoder) "
        "once, so the files derived from it (the e5 ONNX graph, its reference statistics) are "
        "built into $WOLBOT_CACHE_DIR (default ~/.cache/wolbot) now instead of at the first "
        "start; the Dockerfile runs it at image build time.",
    )
    models.add_argument("action", choices=["prepare"], help="prepare")
    prompts = sub.add_parser(
        "prompts",
        help="check the question sets for dialogue rounds",
        description="check: validate every question set file "
        "(`file:line: problem`); exit 1 on problems.",
    )
    prompts.add_argument("action", choices=["check"], help="check")
    prompts.add_argument("--dir", help="directory (default: $WOLBOT_PROMPTS_DIR, else prompts/)")
    from bot.insight.export import add_arguments as report_arguments

    report_arguments(
        sub.add_parser(
            "report",
            help="participation aggregates as CSV or JSON",
            description="The participation aggregates (3C levels and outcomes) per period, for "
            "other tools. Groups below insight.min_group are merged.",
        )
    )
    for name in ADAPTERS:
        sub.add_parser(name, help=f"{name} tools (see `wolbot {name} --help`)", add_help=False)
    return p


def _split_adapter(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """`[global options] ADAPTER rest...` -> (up to ADAPTER, rest): the adapter parses its own
    arguments (so `wolbot slack --help` is the adapter's help)."""
    skip = False
    for i, token in enumerate(argv):
        if skip:
            skip = False
        elif token in ("--config", "--log-level"):
            skip = True
        elif not token.startswith("-"):
            return (argv[: i + 1], argv[i + 1 :]) if token in ADAPTERS else (argv, None)
    return argv, None


def main(argv: Sequence[str] | None = None) -> int:
    head, rest = _split_adapter(list(sys.argv[1:] if argv is None else argv))
    args = _parser().parse_args(head)
    env = os.environ
    configure_logging(log_level(env, args.log_level), env.get("WOLBOT_LOG_FORMAT"))
    if args.command is None:
        _parser().print_help()
        return 0
    if rest is not None:
        module = importlib.import_module(f"{ADAPTERS[args.command]}.cli")
        return int(module.cli(rest))
    if args.command == "prompts":
        return _prompts_check(args.dir)
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        problems.extend(exc.problems)
    statuses = adapter_statuses(env) if args.command in STARTS else []
    problems.extend(p for s in statuses for p in s.problems)
    if args.command == "serve" and args.port is not None:
        problems.extend(filter(None, [port_problem("--port", args.port)]))
    if args.command == "config":
        return _config_check(settings, statuses, problems)
    if problems or settings is None:
        _print_problems(problems)
        return 2
    try:
        return asyncio.run(_run(args, settings))
    except ConfigError as exc:
        _print_problems(exc.problems)
        return 2
    except (StoreUnavailable, OperationalError, ConnectionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(
            f"wolbot: database unavailable ({safe_url(settings.database_url)}): {reason}",
            file=sys.stderr,
        )
        return 3
    except ListenError as exc:
        print(f"wolbot: {exc} ({_listen_hint(exc.setting)})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _listen_hint(setting: str) -> str:
    """Which option or variable to change when `serve` cannot listen."""
    if setting == "port":
        return "choose another port with --port or WOLBOT_PORT"
    return "check --host or WOLBOT_HOST"


def _print_problems(problems: list[str]) -> None:
    lines = "\n".join(f"  {p}" for p in problems)
    print(f"wolbot: invalid configuration, {len(problems)} problem(s):\n{lines}", file=sys.stderr)


def _config_check(
    settings: Settings | None, statuses: list[AdapterStatus], problems: list[str]
) -> int:
    if problems or settings is None:
        _print_problems(problems)
    else:
        where = settings.config_path or "built-in defaults (no app.yaml found)"
        print(f"configuration OK: {where}")
        print(f"database: {safe_url(settings.database_url)}")
    print("adapters:")
    print("\n".join(describe(statuses)))
    return 2 if problems or settings is None else 0


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command in STARTS or args.command == "db":
        await wait_for_database(settings)
    if args.command == "db":
        return await _db(args.action, settings)
    if args.command == "models":
        return await asyncio.to_thread(_models_prepare, settings)
    if args.command == "secrets":
        return await _rotate_secrets(settings)
    if args.command == "chat":
        runner = importlib.import_module("adapters.console.runner")
        return int(await runner.run_chat(build(settings)))
    if args.command == "run-due":
        return await _run_due(settings, args.at)
    if args.command == "report":
        from bot.insight.export import report

        wolbot = build(settings)
        await wolbot.start(deliver=False, schedule=False)
        try:
            return await report(args, wolbot.services)
        finally:
            await wolbot.stop()
    if args.command == "serve":
        web = importlib.import_module("adapters.web")
        host = args.host or settings.env.get("WOLBOT_HOST") or "127.0.0.1"
        port = int(args.port if args.port is not None else settings.env.get("WOLBOT_PORT") or 8080)
        await web.serve(build(settings), host, port)
        return 0
    raise AssertionError(args.command)


def _models_prepare(settings: Settings) -> int:
    from bot.matching.encoder import local_encoder
    from bot.matching.model_cache import cache_dir

    encoder = local_encoder(settings.matching.encoder)
    encoder.load()
    where = cache_dir()
    print(f"{encoder.name}: loaded; cache: {where or 'none (no writable cache directory)'}")
    return 0 if where is not None or settings.matching.encoder != "e5" else 1


def _prompts_check(directory: str | None) -> int:
    from pathlib import Path

    from bot.prompts import PromptError, PromptLibrary

    try:
        lib = PromptLibrary.load(Path(directory) if directory else None)
    except PromptError as exc:
        print("\n".join(exc.problems))
        return 1
    languages = {lang for s in lib.set_ids() for lang in lib.languages(s)}
    print(f"{len(lib.set_ids())} sets, {len(languages)} languages, {len(lib)} questions: OK")
    return 0


async def _db(action: str, settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        if not await db.ping():
            raise StoreUnavailable("cannot connect")
        if action == "upgrade":
            await db.upgrade()
        current, heads = await db.current_revisions(), head_revisions()
        state = "up to date" if current == heads else f"behind (heads: {', '.join(sorted(heads))})"
        print(
            f"{safe_url(settings.database_url)}: {', '.join(sorted(current)) or 'empty'} — {state}"
        )
        return 0 if current == heads or action == "status" else 1
    finally:
        await db.dispose()


async def _rotate_secrets(settings: Settings) -> int:
    from bot.secrets import PREVIOUS_ENV, keyring_for
    from bot.store.secret_rotation import rotate

    keyring = keyring_for(settings)
    db = Database(settings.database_url)
    try:
        if not await db.ping():
            raise StoreUnavailable("cannot connect")
        if not keyring.rotating:
            print(
                f"note: {PREVIOUS_ENV} is not set: only rows the current key (or a legacy "
                "Slack token key) can read are re-encrypted"
            )
        result = await rotate(db, keyring)
    finally:
        await db.dispose()
    for kind, counts in sorted(result.counts.items()):
        print(
            f"{kind}: {counts['rotated']} re-encrypted, {counts['current']} already current, "
            f"{counts['unreadable']} unreadable"
        )
    if not result.counts:
        print("nothing stored under a key")
    if result.unreadable:
        print(
            f"wolbot: {result.unreadable} rows open with no accepted key: keep "
            f"{PREVIOUS_ENV} until they are dealt with",
            file=sys.stderr,
        )
        return 1
    print(f"done: {PREVIOUS_ENV} can be removed once every replica runs with the new key")
    return 0


async def _run_due(settings: Settings, at: str | None) -> int:
    """Run due jobs now (or at `--at`) and deliver console output; Slack and Teams messages are
    left in the outbox for `wolbot serve` to deliver."""
    from datetime import UTC, datetime

    from bot.clock import FakeClock

    clock = None
    if at:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            print(f"wolbot: --at {at!r} is not an ISO 8601 time", file=sys.stderr)
            return 2
        clock = FakeClock(when if when.tzinfo else when.replace(tzinfo=UTC))
    core = build(settings, clock=clock)
    from bot.store.console import ConsoleStore

    port = importlib.import_module("adapters.console.port").ConsolePort(
        timezone=settings.timezone, store=ConsoleStore(core.db, core.clock)
    )
    core.register_port(port)
    await core.start(deliver=False, schedule=False)
    try:
        ran = await core.scheduler.run_due(core.clock.now())
        await core.delivery.drain()
        for job_id, when in ran:
            print(f"ran {job_id} for {when.isoformat()}")
        if not ran:
            print("nothing due")
    finally:
        await core.stop()
    return 0
