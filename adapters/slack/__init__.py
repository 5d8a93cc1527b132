"""Slack adapter (bolt-python, async). Every slack_bolt / slack_sdk import stays in this package.

`enabled(settings)` says whether Slack secrets are configured; `attach(core, web_app)`
registers the `SlackPort`, mounts POST /slack/events (HTTP mode) and the OAuth routes,
or connects Socket Mode, and cleans up with the web app. See docs/slack.md.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

__all__ = ["SLACK_RUNTIME", "attach", "enabled", "status"]

# The running adapter, for operations and tests: `web_app[SLACK_RUNTIME].inbox` etc.
SLACK_RUNTIME: web.AppKey[Any] = web.AppKey("slack_runtime", object)


def enabled(settings: Any) -> bool:
    from .config import SlackConfig

    return SlackConfig.from_env(settings.env).enabled


def status(env: Any) -> Any:
    """What `wolbot config check` shows, and the problems that stop a start."""
    from bot.errors import ConfigError
    from bot.preflight import AdapterStatus

    from .config import SlackConfig

    try:
        config = SlackConfig.from_env(env)
    except ConfigError as exc:
        return AdapterStatus("slack", True, "", tuple(exc.problems))
    problems = tuple(config.problems())
    if config.enabled or problems:
        return AdapterStatus("slack", True, config.mode, problems)
    return AdapterStatus(
        "slack",
        False,
        "off (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, "
        "or SLACK_APP_TOKEN and SLACK_BOT_TOKEN: docs/slack.md)",
    )


async def attach(core: Any, web_app: web.Application) -> None:
    from .runtime import SlackRuntime

    runtime = SlackRuntime.from_core(core)
    try:
        await runtime.start(web_app)
    except BaseException:
        await runtime.stop()  # close what was opened before the failure
        raise
    web_app[SLACK_RUNTIME] = runtime

    async def cleanup(_app: web.Application) -> None:
        await runtime.stop()

    web_app.on_cleanup.append(cleanup)
