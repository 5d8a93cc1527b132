"""The web dashboard for admins and community managers, under `/dashboard` of `wolbot serve`.

Server-rendered HTML (Jinja2) with charts rendered on the server (matplotlib SVG); no
JavaScript. Sign-in is by a single-use link the bot sends (`/wol dashboard`), then a
session cookie (HttpOnly, SameSite=Lax, 8 hours). See docs/insight.md.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web


def enabled(settings: Any) -> bool:
    """Always on: without a sign-in link nobody gets past the sign-in page."""
    return True


async def attach(core: Any, web_app: web.Application) -> None:
    from adapters.dashboard.routes import Dashboard

    Dashboard(core).mount(web_app)
