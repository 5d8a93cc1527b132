"""Microsoft Teams adapter (Bot Framework). Every botbuilder import stays in this package.

Enabled when `MICROSOFT_APP_ID` is set (Bot Framework JWT authentication on) or, for
local development and tests only, with `WOLBOT_TEAMS_DEV=1` (no authentication; the
server then refuses to bind to anything but a loopback address).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
# The inbox of message activities, for operations and tests: `web_app[TEAMS_INBOX]`.
TEAMS_INBOX: web.AppKey[Any] = web.AppKey("teams_inbox", object)


def enabled(settings: Any) -> bool:
    from adapters.teams.sdk import dev_mode

    env = settings.env
    return bool(env.get("MICROSOFT_APP_ID")) or dev_mode(env)


APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


def status(env: Mapping[str, str]) -> Any:
    """What `wolbot config check` shows, and the problems that stop a start."""
    from adapters.teams.sdk import dev_mode
    from bot.preflight import AdapterStatus

    def get(name: str) -> str:
        return (env.get(name) or "").strip()

    app_id, password, app_type = (
        get("MICROSOFT_APP_ID"),
        get("MICROSOFT_APP_PASSWORD"),
        get("MICROSOFT_APP_TYPE") or "MultiTenant",
    )
    problems = []
    if app_type not in APP_TYPES:
        problems.append(
            f"MICROSOFT_APP_TYPE: unknown type {app_type!r} "
            f"(expected one of {', '.join(APP_TYPES)})"
        )
    if app_id and not password and app_type != "UserAssignedMSI":
        problems.append(
            "MICROSOFT_APP_PASSWORD: missing while MICROSOFT_APP_ID is set "
            "(expected the Azure Bot's client secret)"
        )
    if password and not app_id:
        problems.append(
            "MICROSOFT_APP_ID: missing while MICROSOFT_APP_PASSWORD is set "
            "(expected the Azure Bot's Microsoft App ID)"
        )
    if app_id and app_type == "SingleTenant" and not get("MICROSOFT_APP_TENANT_ID"):
        problems.append(
            "MICROSOFT_APP_TENANT_ID: missing while MICROSOFT_APP_TYPE is "
            "SingleTenant (expected the Microsoft Entra tenant id)"
        )
    problems += graph_problems(env)
    if app_id or problems:
        return AdapterStatus(
            "teams",
            True,
            f"Bot Framework ({ROUTE}, {app_type}); {introductions(env)}",
            tuple(problems),
        )
    if dev_mode(env):
        return AdapterStatus(
            "teams", True, f"development mode ({ROUTE}, NOT authenticated, loopback only)"
        )
    return AdapterStatus(
        "teams", False, "off (set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD: docs/teams.md)"
    )


def introductions(env: Mapping[str, str]) -> str:
    """How introductions will reach people, as far as the configuration tells (whether the
    tenant granted the Graph permissions shows at run time: `/wol config show`)."""
    from adapters.teams.graph import CATALOG_READ, CHAT_CREATE, INSTALL_AND_CONSENT, GraphSettings

    settings = GraphSettings.from_env(env)
    if settings.off == "off":
        return "introductions in personal chats (WOLBOT_TEAMS_GROUP_CHATS is off)"
    if settings.off == "not_configured":
        return (
            "introductions in personal chats (a group chat needs MICROSOFT_APP_PASSWORD "
            "for Microsoft Graph)"
        )
    return (
        f"introductions in one group chat through Microsoft Graph where the tenant granted "
        f"{CHAT_CREATE}, {CATALOG_READ} and {INSTALL_AND_CONSENT} (docs/teams.md), "
        "else in personal chats"
    )


def graph_problems(env: Mapping[str, str]) -> list[str]:
    from adapters.teams.graph import problems

    return problems(env)


def assert_dev_mode_safe(host: str, env: Mapping[str, str] | None = None) -> None:
    """Refuse to serve unauthenticated Bot Framework traffic beyond this machine.

    `wolbot serve` calls this with its bind address before it starts listening; `env`
    defaults to the process environment (where `load_settings` reads secrets from).
    """
    import os

    from adapters.teams.sdk import dev_mode, is_loopback

    env = os.environ if env is None else env
    if env.get("MICROSOFT_APP_ID") or not dev_mode(env):
        return
    if not is_loopback(host):
        raise SystemExit(
            f"WOLBOT_TEAMS_DEV=1 turns Bot Framework authentication off: refusing to bind to "
            f"{host!r}. Use 127.0.0.1 (or ::1), or set MICROSOFT_APP_ID to authenticate."
        )


async def attach(core: Any, web_app: web.Application) -> None:
    from adapters.teams.endpoint import TeamsEndpoint
    from adapters.teams.graph import GraphSettings
    from adapters.teams.group_chats import GroupChats
    from adapters.teams.members import Members
    from adapters.teams.port import TeamsPort
    from adapters.teams.sdk import TeamsAuthConfig, keep_signing_keys_fresh, make_adapter
    from bot.delivery.inbox import Inbox, event_key

    env = core.settings.env
    config = TeamsAuthConfig.from_env(env)
    if not config.APP_ID:
        log.warning(
            "Teams adapter in development mode (WOLBOT_TEAMS_DEV=1): requests to %s are NOT "
            "authenticated; only for local testing on a loopback address",
            ROUTE,
        )
    adapter = make_adapter(config)
    members = Members(core.db)
    port = TeamsPort(
        adapter,
        app_id=config.APP_ID,
        references=core.references,
        members=members,
        limits=core.limits,
        group_chats=GroupChats(core.db, GraphSettings.from_env(env), now=core.clock.now),
    )
    core.register_port(port)
    endpoint = TeamsEndpoint(core, adapter, members, command_names=command_names(core), port=port)
    # Message activities are stored, answered, then handled (bot/delivery/inbox.py); SQLite
    # has one writer, so one at a time leaves its lock free for the acknowledgements.
    inbox = endpoint.inbox = Inbox(
        core.db,
        endpoint.handle_stored,
        platform="teams",
        key=event_key(core.keyring),
        clock=core.clock,
        concurrency=4 if core.db.dialect == "postgresql" else 1,
        lease=timedelta(seconds=core.settings.delivery.lease_seconds),
    )
    inbox.start()
    web_app[TEAMS_INBOX] = inbox
    web_app.router.add_post(ROUTE, endpoint.handle)

    refresher: asyncio.Task[None] | None = None
    if config.APP_ID:
        refresher = asyncio.create_task(keep_signing_keys_fresh(config))

    async def cleanup(_app: web.Application) -> None:
        await inbox.stop()
        if refresher is not None:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
        await port.aclose()

    web_app.on_cleanup.append(cleanup)


def command_names(core: Any) -> frozenset[str]:
    """The names of the core's `/wol` subcommands, in every language."""
    found: set[str] = set()
    for sub in getattr(getattr(core, "commands", None), "subcommands", ()):
        for names in sub.names.values():
            found.update(" ".join(name.split()).lower() for name in names if name.strip())
    return frozenset(found)
