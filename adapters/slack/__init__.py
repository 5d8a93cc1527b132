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

__all__ = ["SLACK_RUNTIME", "attach", "enabled"]

# The running adapter, for operations and tests: `web_app[SLACK_RUNTIME].inbox` etc.
SLACK_RUNTIME: web.AppKey[Any] = web.AppKey("slack_runtime", object)


def enabled(settings: Any) -> bool:
    from .config import SlackConfig

    return SlackConfig.from_env(settings.env).enabled


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
