"""The dashboard in a real headless browser (Debian's chromium driven by Playwright).

A sign-in link is requested through the console adapter (`/wol dashboard`), opened in the
browser, the overview shows its charts, a community link leads to that community's page;
a reused or expired link is refused, and a member cannot get in. Every page fits a 390 px
phone in both languages, Accept-Language picks the language of a page without a session,
the headline figures are those of `wolbot report`, and an empty workspace says so.

The screenshots in docs/ are made by scripts/dashboard_screenshots.py (`make screenshots`).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.console.inbound import ConsoleState, parse_line
from adapters.console.port import ConsolePort
from adapters.web import build_web_app
from bot.app import build
from bot.clock import FakeClock
from bot.insight import record
from bot.runtime import Wolbot
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
    def __init__(self, core: Wolbot, out: io.StringIO, base: str) -> None:
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


async def _seed(bot: Bot, now: datetime) -> None:
    """Six weeks of two communities large enough to show and one too small: narrations and
    thread replies typed in the console (so the observer records them), reading as signals;
    then introductions (some rated helpful), durf-te-vragen questions (some acknowledged) and
    two dialogue rounds, written as their features store them."""
    rng = random.Random(6)
    clock: FakeClock = bot.core.clock  # type: ignore[assignment]
    for week in range(5, -1, -1):
        clock.set(now - timedelta(weeks=week, minutes=30))
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
    clock.set(now)
    await _story_rows(bot.core, now, rng)


async def _story_rows(core: Wolbot, now: datetime, rng: random.Random) -> None:
    from bot.store.tables.asks import Question
    from bot.store.tables.matching import Connection
    from bot.store.tables.rhythms import Contribution, DialogueRound

    async with core.db.session() as s:
        for week in range(4):
            when = now - timedelta(weeks=week, minutes=20)
            for i in range(rng.randrange(1, 5)):
                s.add(
                    Connection(
                        workspace_id=WS,
                        narrator_id=f"p{i}",
                        person_id=f"p{i + 4}",
                        suggested_by="bot",
                        created_at=when,
                        helped=rng.choice(("yes", "somewhat", "no", None)),
                    )
                )
            for i in range(rng.randrange(1, 4)):
                s.add(
                    Question(
                        workspace_id=WS,
                        channel_id="general",
                        message_id=f"m{week}{i}",
                        asker_id=None if i == 1 else f"p{i}",
                        text=f"How do I {week}.{i}?",
                        language="en",
                        created_at=when - timedelta(hours=3 * i),
                        first_ack_at=when if rng.random() < 0.6 else None,
                    )
                )
        rounds = [
            DialogueRound(
                workspace_id=WS,
                channel_id=channel,
                occurrence=f"manual:{n}",
                set_id="general",
                prompt_id=f"p{n}",
                language="en",
                text=f"What helped you most this month ({n})?",
                posted_key=f"k{n}",
                posted_at=now - timedelta(days=3 + n),
            )
            for n, channel in enumerate(("general", "learning"))
        ]
        s.add_all(rounds)
        await s.flush()
        for r, answers in zip(rounds, (6, 2), strict=True):
            for j in range(answers):
                s.add(
                    Contribution(
                        workspace_id=WS,
                        round_id=r.id or 0,
                        author_id=f"p{j}",
                        text=f"Pairing with a colleague ({j})",
                        message_id=f"a{j}",
                        reactions=j % 3,
                        created_at=r.posted_at + timedelta(hours=j),
                    )
                )
        await s.commit()


@asynccontextmanager
async def _serve(database_url: str, now: datetime, seed: bool = True) -> AsyncIterator[Bot]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    channels = {name: {"kind": "dialogue"} for name in ("general", "learning", "tiny")}
    settings = make_settings(
        database_url,
        workspaces={WS: {"admins": ["ada"], "managers": ["max"], "channels": channels}},
        env={"WOLBOT_PUBLIC_URL": base},
    )
    core = build(settings, clock=FakeClock(now))
    out = io.StringIO()
    core.register_port(ConsolePort(out=out))
    await core.start(deliver=False, schedule=False)
    app = build_web_app(core, adapters=["dashboard"])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    bot = Bot(core, out, base)
    try:
        if seed:
            for channel in channels:  # the bot learns the channels' names as people talk there
                await bot.say(f"@ada #{channel} hello {channel}")
            await _seed(bot, now)
        yield bot
    finally:
        await runner.cleanup()
        await core.stop()


@pytest.fixture
async def served(sqlite_url: str) -> AsyncIterator[Bot]:
    async with _serve(sqlite_url, NOW) as bot:
        yield bot


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


PHONE = {"width": 390, "height": 844}
PAGES = (
    "/dashboard/",
    "/dashboard/?period=month",
    "/dashboard/community/general",
    "/dashboard/community/learning?period=month",
    "/dashboard/community/tiny",
    "/dashboard/rounds",
    "/dashboard/questions",
    "/dashboard/config",
)


async def _width(page: Any) -> tuple[int, int]:
    scroll, inner = await page.locator("html").evaluate(
        "html => [html.scrollWidth, window.innerWidth]"
    )
    return int(scroll), int(inner)


async def test_every_page_fits_a_phone_in_both_languages(served: Bot, browser) -> None:
    from bot.insight import access

    for lang, heading in (
        ("en", "Participation in the whole workspace"),
        ("nl", "Deelname in de hele werkruimte"),
    ):
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
        page = await context.new_page()
        link = await access.create_link(served.core, WS, "ada", "console", lang)
        await page.goto(link)
        assert await _width(page) == (PHONE["width"], PHONE["width"]), "sign-in page"
        await page.locator("button.primary").click()
        await page.get_by_role("heading", name=heading).wait_for()
        for path in PAGES:
            await page.goto(served.base + path)
            assert await page.locator("html").get_attribute("lang") == lang
            scroll, inner = await _width(page)
            assert scroll <= inner, f"{path} in {lang}: {scroll} px wide in {inner} px"
            if await page.locator("img.chart").count():
                await _charts_loaded(page)
                # the phone gets the chart drawn for its width, whose text stays readable
                src = await page.locator("img.chart").first.evaluate("img => img.currentSrc")
                assert src.endswith("size=narrow"), src
        await page.locator("form[action='/dashboard/logout'] button").click()
        await page.wait_for_load_state()
        scroll, inner = await _width(page)
        assert scroll <= inner and await page.locator("html").get_attribute("lang") == lang
        await context.close()


async def test_accept_language_picks_dutch(served: Bot, browser) -> None:
    context = await browser.new_context(
        viewport=PHONE, extra_http_headers={"Accept-Language": "nl,en;q=0.7"}
    )
    page = await context.new_page()
    response = await page.goto(f"{served.base}/dashboard/")
    assert response is not None and response.status == 401
    await page.get_by_role("heading", name="Log eerst in").wait_for()
    assert await page.locator("html").get_attribute("lang") == "nl"
    await context.close()


def _csv_figures(text: str) -> tuple[list[str], dict[tuple[str, str, str], str]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    periods = sorted({r["period"] for r in rows if r["section"] == "levels"})
    return periods, {(r["section"], r["period"], r["measure"]): r["value"] for r in rows}


async def test_the_headline_is_what_wolbot_report_says(sqlite_url, browser, monkeypatch) -> None:
    from bot.cli import main
    from bot.insight.headline import SOURCES

    now = datetime.now(UTC)  # `wolbot report` reads the real clock: the same week here
    async with _serve(sqlite_url, now) as bot:
        page = await _sign_in(browser, await bot.link("ada"))
        for path, community in (("/dashboard/", None), ("/dashboard/community/general", "general")):
            await page.goto(bot.base + path)
            cards = page.locator(".glance li")
            shown = {
                await cards.nth(i).locator(".label").inner_text(): (
                    await cards.nth(i).locator(".value").inner_text(),
                    await cards.nth(i).locator(".change").inner_text(),
                )
                for i in range(await cards.count())
            }
            monkeypatch.setenv("WOLBOT_DATABASE_URL", sqlite_url)
            monkeypatch.setenv("WOLBOT_SECRET_KEY", "test-secret-key-0123456789")
            monkeypatch.setenv("WOLBOT_CONFIG", str(_app_yaml(sqlite_url)))
            out = io.StringIO()
            monkeypatch.setattr("sys.stdout", out)
            args = ["report", "--format", "csv", "--workspace", WS]
            assert (
                await asyncio.to_thread(
                    main, [*args, *(["--community", community] if community else [])]
                )
                == 0
            )
            monkeypatch.undo()
            periods, figures = _csv_figures(out.getvalue())
            latest, before = periods[-1], periods[-2]
            labels = {
                "shared": "people who shared",
                "connected": "connections made",
                "helped": "introductions that helped",
                "acknowledged": "questions acknowledged",
            }
            assert set(shown) == set(labels.values()), shown
            for name, (section, measure) in SOURCES.items():
                value, change = shown[labels[name]]
                expected = figures[(section, latest, measure)]
                previous = figures[(section, before, measure)]
                assert value == expected, (path, name, value, expected)
                diff = int(expected) - int(previous)
                if diff == 0:
                    assert change == "same as the period before"
                else:
                    sign = "+" if diff > 0 else "−"
                    assert change == f"{sign}{abs(diff)} since the period before"
            monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(), UTC)
            if now - monday > timedelta(hours=1):  # this week's rows are in this week
                assert int(shown["connections made"][0]) > 0 or community


def _app_yaml(sqlite_url: str) -> Path:
    path = Path(sqlite_url.removeprefix("sqlite:///")).with_name("app.yaml")
    channels = "".join(
        f"      {name}:\n        kind: dialogue\n" for name in ("general", "learning", "tiny")
    )
    path.write_text(f"workspaces:\n  {WS}:\n    admins: [ada]\n    channels:\n{channels}")
    return path


async def test_an_empty_workspace_says_so(sqlite_url, browser) -> None:
    async with _serve(sqlite_url, NOW, seed=False) as bot:
        page = await _sign_in(browser, await bot.link("ada"))
        await page.get_by_role("heading", name="Participation in the whole workspace").wait_for()
        body = await page.locator("main").inner_text()
        assert "No activity yet" in body and "No data yet" in body
        assert "not shown" not in body and "–:" not in body
        assert await page.locator("img.chart").count() == 0  # an empty state, not an axis
        rounds = await (await page.goto(bot.base + "/dashboard/rounds")).text()
        assert "No dialogue rounds yet" in rounds

        # activity starts this month: one period, not five months of "not shown" before it
        # (the month view: the week's report is cached for a minute)
        for i in range(6):
            await record(bot.core.db, WS, f"u{i}", "reaction", when=NOW, community="general")
        await page.goto(bot.base + "/dashboard/?period=month")
        rows = page.locator("#trend-c").locator("xpath=..").locator("tbody tr")
        assert await rows.count() == 1
        trend = await page.locator("#trend-h").locator("xpath=..").inner_text()
        assert "not shown" not in trend  # the one period has 6 people
        # "other" (#learning and #tiny, nobody active) is below the minimum: said once
        assert (await page.locator("main").inner_text()).count("not shown") == 1
