"""The web dashboard for admins and community managers, under `/dashboard` of `wolbot serve`.

Server-rendered HTML (Jinja2) with charts rendered on the server (matplotlib SVG); no
JavaScript. Sign-in is by a single-use link the bot sends (`/wol dashboard`), then a
session cookie (HttpOnly, SameSite=Lax, 8 hours). See docs/insight.md.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.insight.charts import load_matplotlib


def enabled(settings: Any) -> bool:
    """Always on: without a sign-in link nobody gets past the sign-in page."""
    return True


def status(env: Any) -> Any:
    from bot.preflight import AdapterStatus

    url = (env.get("WOLBOT_PUBLIC_URL") or "").strip() or "http://127.0.0.1:8080"
    return AdapterStatus("dashboard", True, f"/dashboard (sign-in links to {url})")


WARM_UP = web.AppKey("dashboard_warm_up", asyncio.Task)


async def attach(core: Any, web_app: web.Application) -> None:
    from adapters.dashboard.routes import Dashboard

    Dashboard(core).mount(web_app)
    # matplotlib takes about a second to import: do it now, in the background, so the first
    # chart (dashboard or /wol stats) does not wait for it.
    web_app[WARM_UP] = asyncio.create_task(asyncio.to_thread(load_matplotlib))

    async def cleanup(app: web.Application) -> None:
        await app[WARM_UP]

    web_app.on_cleanup.append(cleanup)
