"""The `wolbot` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from bot import __version__
from bot.app import ADAPTERS, build
from bot.config import Settings, load_settings
from bot.errors import ConfigError, StoreUnavailable
from bot.logs import configure as configure_logging
from bot.store.engine import Database, head_revisions, safe_url

log = logging.getLogger("wolbot")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wolbot", description="wolbot: working out loud in chat.")
    p.add_argument("--config", help="path to app.yaml (default: $WOLBOT_CONFIG or ./app.yaml)")
    p.add_argument(
        "--log-level",
        default=os.environ.get("WOLBOT_LOG_LEVEL", "WARNING"),
        help="DEBUG, INFO, WARNING (default) or ERROR",
    )
    p.add_argument("--version", action="version", version=f"wolbot {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("chat", help="talk to the bot in this terminal (reads standard input)")
    serve = sub.add_parser("serve", help="run the web app for Slack and Teams")
    serve.add_argument("--host", default=os.environ.get("WOLBOT_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("WOLBOT_PORT", "8080")))
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "status"])
    due = sub.add_parser("run-due", help="run the scheduled jobs that are due (rounds, "
                         "check-ins, retention) once, and deliver what they send")
    due.add_argument("--at", help="pretend it is this time (ISO 8601, e.g. 2026-11-24T10:00+01:00)")
    config = sub.add_parser("config", help="configuration")
    config.add_argument("action", choices=["check"])
    secrets = sub.add_parser("secrets", help="keys derived from WOLBOT_SECRET_KEY")
    secrets.add_argument("action", choices=["rotate"],
                         help="re-encrypt stored secrets with WOLBOT_SECRET_KEY (the old key in "
                              "WOLBOT_SECRET_KEY_PREVIOUS); see docs/operations.md")
    prompts = sub.add_parser("prompts", help="question sets for dialogue rounds")
    prompts.add_argument("action", choices=["check"])
    prompts.add_argument("--dir", help="directory (default: $WOLBOT_PROMPTS_DIR or prompts/)")
    from bot.insight.export import add_arguments as report_arguments

    report_arguments(sub.add_parser("report", help="participation aggregates as CSV or JSON"))
    for name in ADAPTERS:
        adapter = sub.add_parser(
            name, help=f"{name} tools (see `wolbot {name} --help`)", add_help=False
        )
        adapter.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.log_level)
    if args.command is None:
        _parser().print_help()
        return 0
    if args.command in ADAPTERS:
        module = importlib.import_module(f"{ADAPTERS[args.command]}.cli")
        return int(module.cli(list(args.rest)))
    if args.command == "prompts":
        return _prompts_check(args.dir)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"wolbot: invalid configuration\n{exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args, settings))
    except StoreUnavailable as exc:
        print(
            f"wolbot: database unavailable ({safe_url(settings.database_url)}): {exc}",
            file=sys.stderr,
        )
        return 3
    except KeyboardInterrupt:
        return 130


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "config":
        where = settings.config_path or "built-in defaults (no app.yaml found)"
        print(f"configuration OK: {where}")
        print(f"database: {safe_url(settings.database_url)}")
        return 0
    if args.command == "db":
        return await _db(args.action, settings)
    if args.command == "secrets":
        return await _rotate_secrets(settings)
    if args.command == "chat":
        runner = importlib.import_module("adapters.console.runner")
        return int(await runner.run_chat(build(settings)))
    if args.command == "run-due":
        return await _run_due(settings, args.at)
    if args.command == "report":
        from bot.insight.export import report

        return await report(args, settings)
    if args.command == "serve":
        web = importlib.import_module("adapters.web")
        await web.serve(build(settings), args.host, args.port)
        return 0
    raise AssertionError(args.command)


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
            print(f"note: {PREVIOUS_ENV} is not set: only rows the current key (or a legacy "
                  "Slack token key) can read are re-encrypted")
        result = await rotate(db, keyring)
    finally:
        await db.dispose()
    for kind, counts in sorted(result.counts.items()):
        print(f"{kind}: {counts['rotated']} re-encrypted, {counts['current']} already current, "
              f"{counts['unreadable']} unreadable")
    if not result.counts:
        print("nothing stored under a key")
    if result.unreadable:
        print(f"wolbot: {result.unreadable} rows open with no accepted key: keep "
              f"{PREVIOUS_ENV} until they are dealt with", file=sys.stderr)
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
        timezone=settings.timezone, store=ConsoleStore(core.db))
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
