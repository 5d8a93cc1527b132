"""`wolbot dashboard …`: tools for the web dashboard.

    wolbot dashboard link --workspace console:local --user me [--platform console] [--language nl]

prints a single-use sign-in link (10 minutes) for someone who is an admin or manager, e.g.
for an operator on the server. The role is checked when the link is opened.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.app import build
from bot.config import load_settings
from bot.errors import ConfigError
from bot.insight import access


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wolbot dashboard", description="Web dashboard tools.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    link = sub.add_parser(
        "link",
        help="print a single-use sign-in link",
        description="Print a single-use sign-in link to the web dashboard "
        "(valid 10 minutes) for an admin or manager; the role is checked when "
        "the link is opened. The link starts with $WOLBOT_PUBLIC_URL.",
    )
    link.add_argument("--workspace", required=True, help='e.g. "slack:T0123" or "console:local"')
    link.add_argument("--user", required=True, help="the person's user id on the platform")
    link.add_argument("--platform", help="default: the workspace id's prefix")
    link.add_argument(
        "--language",
        default="en",
        choices=["en", "nl"],
        help="language of the sign-in page (default: en)",
    )
    link.add_argument(
        "--config", help="path to app.yaml (default: $WOLBOT_CONFIG, else ./app.yaml)"
    )
    return p


async def _link(args: argparse.Namespace) -> int:
    core = build(load_settings(args.config))
    await core.start(deliver=False, schedule=False)
    try:
        platform = args.platform or args.workspace.split(":", 1)[0]
        link = await access.create_link(
            core.services, args.workspace, args.user, platform, args.language
        )
        print(link)
    finally:
        await core.stop()
    return 0


def cli(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command != "link":
        _parser().print_help()
        return 0 if args.command is None else 2
    try:
        return asyncio.run(_link(args))
    except ConfigError as exc:
        print(f"wolbot: invalid configuration\n{exc}", file=sys.stderr)
        return 2
