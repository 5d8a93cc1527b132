"""`wolbot report`: the same aggregates as `/wol stats` and the dashboard, for other tools."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.insight.levels import PERIODS, WEEK
from bot.insight.render import to_csv, to_json
from bot.services import Services

FORMATS = ("csv", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default="csv", help="output format (default: csv)"
    )
    parser.add_argument("--workspace", help='e.g. "slack:T0123" (default: the only one)')
    parser.add_argument("--community", help="a community's channel id or name")
    parser.add_argument(
        "--period", choices=PERIODS, default=WEEK, help=f"length of one period (default: {WEEK})"
    )
    parser.add_argument(
        "--periods", type=int, help="how many periods (default 12 weeks or 6 months)"
    )
    parser.add_argument("--output", help="file to write (default: standard output)")


async def report(args: argparse.Namespace, services: Services) -> int:
    """The report `args` ask for, of a started bot's data (bot/cli.py starts and stops it)."""
    from bot.communities import workspace_ids
    from bot.insight.report import build_report, community_names, resolve_community

    known = await workspace_ids(services)
    workspace = args.workspace or (known[0] if len(known) == 1 else None)
    if workspace is None:
        print("wolbot: name a workspace with --workspace: " + ", ".join(known), file=sys.stderr)
        return 2
    community = None
    if args.community:
        community = resolve_community(await community_names(services, workspace), args.community)
        if community is None:
            print(f"wolbot: {args.community!r} is not a community of {workspace}", file=sys.stderr)
            return 2
    found = await build_report(
        services, workspace, community=community, period=args.period, count=args.periods
    )
    text = to_csv(found) if args.format == "csv" else to_json(found) + "\n"
    if args.output:
        await asyncio.to_thread(Path(args.output).write_text, text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
