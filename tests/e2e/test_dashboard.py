"""The dashboard in a real headless browser (Debian's chromium driven by Playwright).

A sign-in link is requested through the console adapter (`/wol dashboard`), opened in the
browser, the overview shows its charts, a community link leads to that community's page;
a reused or expired link is refused, and a member cannot get in.

Set WOLBOT_DASHBOARD_SCREENSHOTS=<dir> to save the overview in English and Dutch there
(docs/dashboard-en.png and docs/dashboard-nl.png are made this way).
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.console.inbound import ConsoleState, parse_line
from adapters.console.port import ConsolePort
from adapters.web import build_web_app
from bot.app import Core, build
from bot.clock import FakeClock
from bot.insight import record
from tests.conftest import make_settings

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WS = "console:local"
NOW = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
LINK = re.compile(r"http://127\.0\.0\.1:\d+/dashboard/login/[\w-]+")

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason=f"Debian's chromium is not installed at {CHROMIUM} "
        "(apt-get install chromium as root; `make test` does it)",
    ),
    pytest.mark.timeout(180),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Bot:
    def __init__(self, core: Core, out: io.StringIO, base: str) -> None:
        self.core, self.out, self.base = core, out, base
        self.state = ConsoleState(workspace="local", user="ada", channel="general")

    async def say(self, line: str) -> str:
        """Type a console line; returns what the bot printed for it."""
        start = len(self.out.getvalue())
        event, self.state = parse_line(line, self.state)
        assert event is not None
        await self.core.handle(event)
        await self.core.delivery.drain()
        return self.out.getvalue()[start:]

    async def link(self, user: str) -> str:
        printed = await self.say(f"@{user} #dm /wol dashboard")
        found = LINK.search(printed)
        assert found, printed
        return found.group(0)


async def _seed(bot: Bot) -> None:
    """Six weeks of two communities large enough to show and one too small: narrations and
    thread replies typed in the console (so the observer records them), reading as signals."""
    rng = random.Random(6)
    clock: FakeClock = bot.core.clock  # type: ignore[assignment]
    for week in range(5, -1, -1):
        clock.set(NOW - timedelta(weeks=week, days=1))
        for n in range(1 + (week % 3 == 0)):
            await bot.say(
                f"@p{n + week % 4} #general I'm working on the onboarding guide, part {week}.{n}"
            )
            for r in range(rng.randrange(2, 5)):
                await bot.say(f"@p{4 + r} #general > Happy to help with part {week}.{n}")
        for i in range(rng.randrange(6, 14)):
            await record(
                bot.core.db, WS, f"p{8 + i}", "home", when=clock.now(), community="general"
            )
        for i in range(rng.randrange(5, 9)):
            signal = "reply" if i < 2 + week % 2 else "click"
            await record(bot.core.db, WS, f"q{i}", signal, when=clock.now(), community="learning")
        await record(bot.core.db, WS, "r0", "reaction", when=clock.now(), community="tiny")
    clock.set(NOW)


@pytest.fixture
async def served(sqlite_url: str) -> AsyncIterator[Bot]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    channels = {name: {"kind": "dialogue"} for name in ("general", "learning", "tiny")}
    settings = make_settings(
        sqlite_url,
        workspaces={WS: {"admins": ["ada"], "managers": ["max"], "channels": channels}},
        env={"WOLBOT_PUBLIC_URL": base},
    )
    core = build(settings, clock=FakeClock(NOW))
    out = io.StringIO()
    core.register_port(ConsolePort(out=out))
    await core.start(deliver=False, schedule=False)
    app = build_web_app(core, adapters=["dashboard"])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    bot = Bot(core, out, base)
    for channel in channels:  # the bot learns the channels' names as people talk there
        await bot.say(f"@ada #{channel} hello {channel}")
    await _seed(bot)
    try:
        yield bot
    finally:
        await runner.cleanup()
        await core.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _charts_loaded(page: Any) -> None:
    """Every chart image has loaded (polled from here: the page's CSP forbids eval)."""
    charts = page.locator("img.chart")
    for _ in range(100):
        states = [
            await charts.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
            for i in range(await charts.count())
        ]
        if states and all(states):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"charts did not load: {states}")


async def _sign_in(browser: Any, link: str) -> Any:
    context = await browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()
    return page


async def test_sign_in_see_the_overview_and_follow_a_community(served: Bot, browser) -> None:
    page = await _sign_in(browser, await served.link("ada"))
    assert page.url == f"{served.base}/dashboard/"
    await page.get_by_role("heading", name="Participation in the whole workspace").wait_for()
    assert await page.locator("img.chart").count() == 3
    await _charts_loaded(page)
    assert "Active people per period" in await page.locator("main").inner_text()
    (cookie,) = [c for c in await page.context.cookies() if c["name"] == "wolbot_dashboard"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > 0
    assert cookie["path"] == "/dashboard"
    body = await page.locator("main").inner_text()
    assert 'Merged into "other": #tiny' in body and "ada" not in body

    shots = os.environ.get("WOLBOT_DASHBOARD_SCREENSHOTS")
    if shots:
        await page.screenshot(path=str(Path(shots) / "dashboard-en.png"), full_page=True)

    await page.get_by_role("link", name="#learning").click()
    await page.get_by_role("heading", name="Participation in #learning").wait_for()
    assert page.url.startswith(f"{served.base}/dashboard/community/learning")
    assert await page.locator("img.chart").count() == 3
    await _charts_loaded(page)

    await page.get_by_label("Language").select_option("nl")
    await page.get_by_role("button", name="Change").click()
    await page.get_by_role("heading", name="Deelname in #learning").wait_for()
    await page.get_by_role("link", name="Overzicht").first.click()
    await page.get_by_role("heading", name="Deelname in de hele werkruimte").wait_for()
    await _charts_loaded(page)
    if shots:
        await page.screenshot(path=str(Path(shots) / "dashboard-nl.png"), full_page=True)
    for name in ("Rondes", "Durf te vragen", "Instellingen"):
        await page.get_by_role("link", name=name).first.click()
        assert await page.locator("h1").count() == 1
    assert "insight.min_group" in await page.locator("main").inner_text()

    await page.get_by_role("button", name="Uitloggen").click()
    await page.get_by_role("heading", name="Je bent uitgelogd").wait_for()  # still Dutch
    await page.goto(f"{served.base}/dashboard/")
    await page.get_by_role("heading", name="Log eerst in").wait_for()


async def test_a_reused_or_expired_link_is_refused(served: Bot, browser) -> None:
    link = await served.link("ada")
    page = await _sign_in(browser, link)
    await page.get_by_role("heading", name="Participation in the whole workspace").wait_for()
    again = await _sign_in(browser, link)
    await again.get_by_role("heading", name="This sign-in link cannot be used").wait_for()
    response = await again.request.post(link)
    assert response.status == 403

    late = await served.link("max")
    served.core.clock.advance(minutes=11)  # type: ignore[attr-defined]
    expired = await _sign_in(browser, late)
    await expired.get_by_role("heading", name="This sign-in link cannot be used").wait_for()


async def test_a_member_cannot_open_the_dashboard(served: Bot, browser) -> None:
    printed = await served.say("@bob #dm /wol dashboard")
    assert "for admins and community managers" in printed and not LINK.search(printed)
    from bot.insight import access

    forged = await access.create_link(served.core, WS, "bob", "console", "en")  # not a manager
    page = await _sign_in(browser, forged)
    await page.get_by_role("heading", name="This sign-in link cannot be used").wait_for()
    response = await page.goto(f"{served.base}/dashboard/")
    assert response is not None and response.status == 401
    chart = await page.request.get(f"{served.base}/dashboard/chart/all/week/funnel.svg")
    assert chart.status == 401
