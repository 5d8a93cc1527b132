"""`wolbot slack …` (the core CLI hands the remaining arguments to `cli`).

wolbot slack manifest --url https://wolbot.example.org     # HTTP mode
wolbot slack manifest --socket-mode                        # no public URL
wolbot slack manifest --url https://… --oauth              # distribution (OAuth v2)
wolbot slack scopes --markdown                             # the scope table of docs/slack.md
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from .config import SCOPES
from .manifest import EVENTS, manifest_yaml, scopes_markdown


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wolbot slack", description="Slack adapter tools.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    m = sub.add_parser(
        "manifest",
        help="print the Slack app manifest (YAML) to create the app in one paste",
        description="Print the app manifest: paste it at api.slack.com/apps → Create New App "
        "→ From an app manifest. See docs/slack.md.",
    )
    m.add_argument(
        "--url", help="public https base URL of `wolbot serve`, e.g. https://bot.example.org"
    )
    m.add_argument("--socket-mode", action="store_true", help="use Socket Mode (no public URL)")
    m.add_argument("--oauth", action="store_true", help="add the OAuth redirect URL (distribution)")
    m.add_argument("--name", default="wolbot", help="app and bot name (default: wolbot)")
    s = sub.add_parser(
        "scopes",
        help="list the bot scopes and events the manifest asks for, and why",
        description="The scopes and event subscriptions of the manifest, each with why wolbot "
        "needs it (--markdown: the tables of docs/slack.md).",
    )
    s.add_argument("--markdown", action="store_true", help="print Markdown tables")
    return p


def cli(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "scopes":
        if args.markdown:
            sys.stdout.write(scopes_markdown())
        else:
            for name, why in (*SCOPES.items(), *EVENTS.items()):
                print(f"{name}\t{why}")
        return 0
    if args.command != "manifest":
        parser.print_help()
        return 0 if args.command is None else 2
    if not args.socket_mode and not args.url:
        print("wolbot slack manifest: --url is required (or use --socket-mode)", file=sys.stderr)
        return 2
    if args.oauth and not args.url:
        print("wolbot slack manifest: --oauth needs --url for the redirect URL", file=sys.stderr)
        return 2
    if args.url:
        parts = urlsplit(args.url)
        if parts.scheme != "https" or not parts.netloc:
            print("wolbot slack manifest: --url must be an https:// URL", file=sys.stderr)
            return 2
    sys.stdout.write(
        manifest_yaml(
            base_url=args.url,
            name=args.name,
            socket_mode=args.socket_mode,
            oauth=args.oauth,
        )
    )
    return 0
