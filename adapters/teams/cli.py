"""`wolbot teams …`: tools for the Teams adapter.

    wolbot teams package --domain bot.example.org [--bot-id GUID] [--output wolbot-teams.zip]

builds the app package to upload in Teams (admin centre, or "Upload a custom app").
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from adapters.teams.package import (
    PackageOptions,
    build_package,
    commands_of,
    permissions_markdown,
)
from bot.app import build
from bot.config import load_settings
from bot.errors import ConfigError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wolbot teams", description="Microsoft Teams tools.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    pkg = sub.add_parser(
        "package",
        help="build the Teams app package (a zip to upload)",
        description="Build the Teams app package (manifest and icons in a "
        "zip) to upload in the Teams admin centre or as a custom app. See "
        "docs/teams.md.",
    )
    pkg.add_argument(
        "--bot-id",
        default=os.environ.get("MICROSOFT_APP_ID", ""),
        help="the Azure Bot's Microsoft App ID (default: $MICROSOFT_APP_ID)",
    )
    pkg.add_argument(
        "--domain",
        default=os.environ.get("WOLBOT_TEAMS_DOMAIN", ""),
        help="host name serving /api/messages, e.g. bot.example.org ($WOLBOT_TEAMS_DOMAIN)",
    )
    pkg.add_argument(
        "--output", default="wolbot-teams.zip", help="zip file to write (default: %(default)s)"
    )
    pkg.add_argument(
        "--version", default="1.0.0", help="app version, MAJOR.MINOR.PATCH (default: %(default)s)"
    )
    pkg.add_argument("--app-id", help="Teams app id (GUID); default: derived from the bot id")
    pkg.add_argument(
        "--name", default="wolbot", help="app name shown in Teams (default: %(default)s)"
    )
    pkg.add_argument(
        "--developer",
        default="wolbot",
        help="developer or organisation name (default: %(default)s)",
    )
    pkg.add_argument("--website-url", help="https URL (default: https://<domain>/)")
    pkg.add_argument("--privacy-url", help="https URL (default: https://<domain>/privacy)")
    pkg.add_argument("--terms-url", help="https URL (default: https://<domain>/terms)")
    pkg.add_argument(
        "--accent", default="#2E7D6B", help="accent colour, #RRGGBB (default: %(default)s)"
    )
    pkg.add_argument(
        "--mention-only",
        action="store_true",
        help="do not ask to read channel/chat messages that do not @mention the bot",
    )
    pkg.add_argument("--config", help="path to app.yaml (default: $WOLBOT_CONFIG or ./app.yaml)")
    perms = sub.add_parser(
        "permissions",
        help="what the app manifest asks Teams for (scopes, RSC, webApplicationInfo), and why",
        description="What the app manifest asks Teams for (scopes, resource-specific consent, "
        "webApplicationInfo), each with why wolbot needs it (--markdown: the table of "
        "docs/teams.md).",
    )
    perms.add_argument("--markdown", action="store_true", help="the table of docs/teams.md")
    return p


def cli(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "permissions":
        sys.stdout.write(permissions_markdown())  # Markdown is also the readable form
        return 0
    if args.command != "package":
        parser.print_help()
        return 0 if args.command is None else 2
    if not args.bot_id or not args.domain:
        print("wolbot teams package: --bot-id and --domain are required", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"wolbot: invalid configuration\n{exc}", file=sys.stderr)
        return 2
    core = build(settings)  # no I/O: only to list the registered commands
    options = PackageOptions(
        bot_id=args.bot_id,
        domain=args.domain,
        version=args.version,
        app_id=args.app_id,
        name=args.name,
        developer=args.developer,
        website_url=args.website_url,
        privacy_url=args.privacy_url,
        terms_url=args.terms_url,
        accent=args.accent,
        all_messages=not args.mention_only,
    )
    try:
        path = build_package(
            options,
            commands_of(core),
            {"en": core.translator("en"), "nl": core.translator("nl")},
            Path(args.output),
        )
    except ValueError as exc:
        print(f"wolbot teams package: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} (Teams app id {options.teams_app_id}, bot {options.bot_id})")
    return 0
