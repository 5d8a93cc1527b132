"""The dashboard's pages: sign-in, overview, per community, rounds, questions, configuration.

Every page but sign-in needs a valid session whose person is still an admin or manager
(checked on each request). State changes are POST forms; the cookie is SameSite=Lax, so
another site cannot post them with it. Reports are cached for a minute per scope.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from adapters.dashboard.language import keep_language, page_language
from adapters.dashboard.links import message_links
from adapters.dashboard.templates_env import environment
from bot.communities import communities
from bot.i18n import normalise_language
from bot.insight import access
from bot.insight.charts import SIZES, WIDE, render_svg, state
from bot.insight.headline import headline
from bot.insight.levels import MONTH, PERIODS, WEEK, period_end
from bot.insight.pages import (
    Queue,
    RoundRow,
    most_answered,
    question_queue,
    queue_csv,
    recent_rounds,
    rounds_csv,
)
from bot.insight.render import to_csv
from bot.insight.report import (
    DEFAULT_MIN_GROUP,
    OTHER,
    Report,
    build_report,
    community_names,
)

HERE = Path(__file__).parent
COOKIE = "wolbot_dashboard"
CACHE_SECONDS = 60.0
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the sign-in URL must not leak to other sites
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
CHARTS = ("funnel", "trend", "outcomes")


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={**HEADERS, "Location": location})


class Dashboard:
    def __init__(self, core: Any) -> None:
        self.core = core
        self.envs = {lang: environment(core.i18n.get(lang)) for lang in core.i18n.languages}
        self._reports: dict[tuple[str, str | None, str], tuple[float, Report]] = {}
        self._css = (HERE / "static" / "dashboard.css").read_bytes()  # once, at start-up

    def mount(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/dashboard", self.to_overview)
        r.add_get("/dashboard/", self.overview)
        r.add_get("/dashboard/login/{token}", self.login_page)
        r.add_post("/dashboard/login/{token}", self.login)
        r.add_post("/dashboard/logout", self.logout)
        r.add_post("/dashboard/language", self.language)
        r.add_get("/dashboard/community/{channel}", self.community)
        r.add_get("/dashboard/rounds", self.rounds)
        r.add_get("/dashboard/questions", self.questions)
        r.add_get("/dashboard/config", self.config)
        r.add_get("/dashboard/chart/{scope}/{period}/{which}.svg", self.chart)
        r.add_get("/dashboard/export/{name}.csv", self.export)
        r.add_get("/dashboard/static/dashboard.css", self.css)

    # -- helpers -----------------------------------------------------------------------------
    def _page(self, lang: str, template: str, status: int = 200, **values: Any) -> web.Response:
        html = self.envs.get(lang, self.envs["en"]).get_template(template).render(**values)
        return web.Response(
            text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
        )

    def _lang(self, request: web.Request) -> str:
        return page_language(request, tuple(self.envs))

    def _keep_language(self, request: web.Request, response: web.Response, lang: str) -> None:
        secure = request.secure or access.base_url(self.core).startswith("https://")
        keep_language(response, lang, secure=secure)

    async def _viewer(self, request: web.Request) -> access.Viewer | None:
        return await access.viewer(self.core, request.cookies.get(COOKIE))

    def _refused(self, request: web.Request, status: int = 401) -> web.Response:
        return self._page(self._lang(request), "signed_out.html", status=status)

    async def _report(self, workspace_id: str, scope: str | None, period: str) -> Report:
        key = (workspace_id, scope, period)
        hit = self._reports.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        report = await build_report(self.core, workspace_id, community=scope, period=period)
        self._reports[key] = (time.monotonic(), report)
        return report

    def _story(self, report: Report) -> dict[str, Any]:
        """What a report page shows: the report, its headline and each chart's state."""
        return {
            "report": report,
            "headline": headline(report),
            "states": {which: state(report, which) for which in CHARTS},
            "running": report.latest is not None
            and report.end.date() < period_end(report.latest.key, report.period),
        }

    @staticmethod
    def _period(request: web.Request) -> str:
        period = request.query.get("period", WEEK)
        return period if period in PERIODS else WEEK

    async def _common(
        self, viewer: access.Viewer, request: web.Request, page: str
    ) -> dict[str, Any]:
        zone = str(await self.core.config.value(viewer.workspace_id, "timezone"))
        return {
            "viewer": viewer,
            "page": page,
            "zone": zone,
            "path": request.path_qs,
            "period": self._period(request),
            "periods": PERIODS,
            "WEEK": WEEK,
            "MONTH": MONTH,
            "OTHER": OTHER,
            "quote": lambda s: quote(s, safe=""),
        }

    # -- sign-in ------------------------------------------------------------------------------
    async def login_page(self, request: web.Request) -> web.Response:
        """Show a button rather than signing in on GET: link previews must not use the link."""
        token = request.match_info["token"]
        lang = normalise_language(await access.link_language(self.core, token))
        return self._page(
            lang if lang is not None and lang in self.envs else self._lang(request),
            "login.html",
            token=token,
        )

    async def login(self, request: web.Request) -> web.Response:
        redeemed = await access.redeem(self.core, request.match_info["token"])
        if redeemed is None:
            return self._page(self._lang(request), "refused.html", status=403)
        secret, viewer = redeemed
        response = _see_other("/dashboard/")
        if viewer.language in self.envs:
            self._keep_language(request, response, viewer.language)
        secure = request.secure or access.base_url(self.core).startswith("https://")
        response.set_cookie(
            COOKIE,
            secret,
            max_age=int(access.SESSION_TTL.total_seconds()),
            path="/dashboard",
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
        return response

    async def logout(self, request: web.Request) -> web.Response:
        viewer = await self._viewer(request)
        lang = viewer.language if viewer and viewer.language in self.envs else self._lang(request)
        await access.sign_out(self.core, request.cookies.get(COOKIE))
        response = self._page(lang, "signed_out.html", signed_out=True)
        self._keep_language(request, response, lang)
        response.del_cookie(COOKIE, path="/dashboard")
        return response

    async def language(self, request: web.Request) -> web.Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._refused(request)
        form = await request.post()
        lang = normalise_language(str(form.get("language", "")))
        back = str(form.get("back", "/dashboard/"))
        response = _see_other(back if back.startswith("/dashboard") else "/dashboard/")
        if lang is not None and lang in self.envs:
            await access.set_language(self.core, request.cookies[COOKIE], lang)
            self._keep_language(request, response, lang)
        return response

    # -- pages --------------------------------------------------------------------------------
    async def to_overview(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/dashboard/")

    async def overview(self, request: web.Request) -> web.Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._refused(request)
        common = await self._common(viewer, request, "overview")
        report = await self._report(viewer.workspace_id, None, common["period"])
        return self._page(
            viewer.language, "overview.html", scope="all", **self._story(report), **common
        )

    async def community(self, request: web.Request) -> web.Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._refused(request)
        channel = request.match_info["channel"]
        names = await community_names(self.core, viewer.workspace_id)
        if channel not in names and channel != OTHER:
            raise web.HTTPNotFound()
        common = await self._common(viewer, request, "community")
        report = await self._report(viewer.workspace_id, channel, common["period"])
        return self._page(
            viewer.language, "community.html", scope=channel, **self._story(report), **common
        )

    async def _min_group(self, workspace_id: str) -> int:
        value = await self.core.config.value(workspace_id, "insight.min_group")
        return int(value or DEFAULT_MIN_GROUP)

    async def _rounds(self, viewer: access.Viewer) -> tuple[list[RoundRow], int]:
        names = await community_names(self.core, viewer.workspace_id)
        min_group = await self._min_group(viewer.workspace_id)
        rows = await recent_rounds(self.core, viewer.workspace_id, names, min_group=min_group)
        return rows, min_group

    async def _queue(self, viewer: access.Viewer) -> Queue | None:
        names = await community_names(self.core, viewer.workspace_id)
        queue = await question_queue(self.core, viewer.workspace_id, names)
        if queue is not None:
            items = list({id(i): i for i in queue.unacknowledged + queue.unanswered}.values())
            found = await message_links(
                self.core, viewer.workspace_id, [(i.channel_id, i.message_id) for i in items]
            )
            for item, link in zip(items, found, strict=True):
                item.link = link
        return queue

    async def rounds(self, request: web.Request) -> web.Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._refused(request)
        rows, min_group = await self._rounds(viewer)
        return self._page(
            viewer.language,
            "rounds.html",
            rounds=rows,
            most_answered=most_answered(rows),
            min_group=min_group,
            **await self._common(viewer, request, "rounds"),
        )

    async def questions(self, request: web.Request) -> web.Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._refused(request)
        return self._page(
            viewer.language,
            "questions.html",
            queue=await self._queue(viewer),
            now=self.core.clock.now(),
            **await self._common(viewer, request, "questions"),
        )

    async def export(self, request: web.Request) -> web.Response:
        """A table as CSV: a report's (as `wolbot report` writes it), the rounds, the queue."""
        viewer = await self._viewer(request)
        if viewer is None:
            return web.Response(status=401, headers=HEADERS)
        name = request.match_info["name"]
        if name == "rounds":
            rows, min_group = await self._rounds(viewer)
            text = rounds_csv(rows, min_group)
        elif name == "questions":
            queue = await self._queue(viewer)
            if queue is None:
                raise web.HTTPNotFound()
            text = queue_csv(queue, self.core.clock.now())
        else:
            scope, _, period = name.rpartition("-")
            if period not in PERIODS or not await self._known_scope(viewer, scope):
                raise web.HTTPNotFound()
            report = await self._report(
                viewer.workspace_id, None if scope == "all" else scope, period
            )
            text = to_csv(report)
        filename = f"wolbot-{re.sub(r'[^A-Za-z0-9_-]', '_', name)}.csv"
        return web.Response(
            text=text,
            content_type="text/csv",
            charset="utf-8",
            headers={**HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def _known_scope(self, viewer: access.Viewer, scope: str) -> bool:
        if scope in ("all", OTHER):
            return True
        return scope in await community_names(self.core, viewer.workspace_id)

    async def config(self, request: web.Request) -> web.Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._refused(request)
        ws = viewer.workspace_id
        t = self.core.i18n.get(viewer.language)
        workspace = [
            (r.option.key, r.option.kind, r.value, t.gettext(r.source), t.gettext(r.option.summary))
            for r in await self.core.config.all(ws)
        ]
        names = await community_names(self.core, ws)
        channels = []
        for item in await communities(self.core):
            if item.workspace_id != ws:
                continue
            rows = [
                (r.option.key, r.option.kind, r.value, t.gettext(r.source))
                for r in await self.core.config.all(ws, item.channel_id)
                if r.option.key.startswith("community.") or "channel" in r.option.scopes
            ]
            channels.append((names.get(item.channel_id, item.channel_id), rows))
        return self._page(
            viewer.language,
            "config.html",
            workspace=workspace,
            channels=channels,
            **await self._common(viewer, request, "config"),
        )

    async def chart(self, request: web.Request) -> web.Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return web.Response(status=401, headers=HEADERS)
        scope, period = request.match_info["scope"], request.match_info["period"]
        which = request.match_info["which"]
        if period not in PERIODS or which not in CHARTS:
            raise web.HTTPNotFound()
        if not await self._known_scope(viewer, scope):
            raise web.HTTPNotFound()
        report = await self._report(viewer.workspace_id, None if scope == "all" else scope, period)
        size = request.query.get("size", WIDE)
        if size not in SIZES:
            raise web.HTTPNotFound()
        svg = await asyncio.to_thread(
            render_svg, report, self.core.i18n.get(viewer.language), which, size
        )
        return web.Response(body=svg, content_type="image/svg+xml", headers=HEADERS)

    async def css(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._css, content_type="text/css", headers={"Cache-Control": "max-age=3600"}
        )
