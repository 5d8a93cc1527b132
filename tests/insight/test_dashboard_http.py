"""The dashboard over HTTP (no browser): every page with the generated organisation's data,
sign-in that a link preview cannot use up, cookie and security headers, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.dashboard.routes import COOKIE
from adapters.web import build_web_app
from bot.app import build
from bot.clock import FakeClock
from bot.insight import access
from tests.conftest import make_settings
from tests.insight.org import SETTINGS, WS, Org
from tests.insight.test_org_report import org_db  # noqa: F401  (the generated database)


@pytest.fixture
async def client(org_db: str) -> AsyncIterator[tuple[TestClient, Any]]:  # noqa: F811
    org: Org = pytest.org  # type: ignore[attr-defined]
    settings = make_settings(org_db, **SETTINGS)
    core = build(settings, clock=FakeClock(org.now))
    app = build_web_app(core, adapters=["dashboard"])
    async with TestClient(TestServer(app)) as http:
        yield http, core
    await core.stop()


async def sign_in(http: TestClient, core: Any, user: str = "alice") -> str:
    link = await access.create_link(core, WS, user, "test", "en")
    path = link.split("127.0.0.1:8080", 1)[1]
    page = await http.get(path)  # what a link preview does: it must not use the link up
    assert page.status == 200 and "Sign in" in await page.text()
    answer = await http.post(path, allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"] == "/dashboard/"
    cookie = answer.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/dashboard"
    assert int(cookie["max-age"]) == int(access.SESSION_TTL.total_seconds())
    return path


async def test_every_page_shows_aggregates(client) -> None:
    http, core = client
    await sign_in(http, core)
    overview = await http.get("/dashboard/")
    html = await overview.text()
    assert overview.status == 200 and "Participation in the whole workspace" in html
    assert 'href="/dashboard/community/C-learn?period=week"' in html
    assert "U0" not in html  # no person anywhere
    headers = overview.headers
    assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'none'
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    monthly = await (await http.get("/dashboard/?period=month")).text()
    assert "Sep 2026" in monthly
    community = await (await http.get("/dashboard/community/C-learn")).text()
    assert "Participation in #learning" in community
    tiny = await (await http.get("/dashboard/community/C-tiny")).text()
    assert "#tiny has fewer than 5 active people" in tiny
    assert (await http.get("/dashboard/community/nope")).status == 404
    rounds = await (await http.get("/dashboard/rounds")).text()
    assert rounds.count('class="card"') == 12 and "Question 2026-11-16?" in rounds
    questions = await (await http.get("/dashboard/questions")).text()
    assert "Not yet acknowledged" in questions and "Question " in questions
    config = await (await http.get("/dashboard/config")).text()
    assert "insight.min_group" in config and "app.yaml, this channel" in config
    chart = await http.get("/dashboard/chart/C-learn/month/trend.svg")
    assert chart.status == 200 and chart.content_type == "image/svg+xml"
    assert b"<svg" in await chart.read()
    assert (await http.get("/dashboard/chart/all/year/trend.svg")).status == 404


async def test_refusals(client) -> None:
    http, core = client
    assert (await http.get("/dashboard/")).status == 401
    assert (await http.get("/dashboard/chart/all/week/funnel.svg")).status == 401
    assert (await http.post("/dashboard/language", data={"language": "nl"})).status == 401
    path = await sign_in(http, core)
    assert (await http.post(path)).status == 403  # used already
    member = await access.create_link(core, WS, "U00001", "test", "en")
    refused = await http.post(member.split("127.0.0.1:8080", 1)[1])
    assert refused.status == 403 and "cannot be used" in await refused.text()
    out = await http.post("/dashboard/logout")
    assert "You are signed out" in await out.text()
    assert (await http.get("/dashboard/")).status == 401


async def test_language_switch_stays_on_the_dashboard(client) -> None:
    http, core = client
    await sign_in(http, core)
    switched = await http.post(
        "/dashboard/language",
        data={"language": "nl", "back": "https://evil.example/"},
        allow_redirects=False,
    )
    assert switched.status == 303 and switched.headers["Location"] == "/dashboard/"
    assert "Deelname in de hele werkruimte" in await (await http.get("/dashboard/")).text()


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("nl,en-US;q=0.7", "nl"),
        ("en-US,en;q=0.9,nl;q=0.8", "en"),
        ("fr-FR;q=0.9, nl-BE;q=0.8, en;q=0.5", "nl"),
        ("de, fr", "en"),
        ("", "en"),
    ],
)
def test_accept_language_is_negotiated(header: str, lang: str) -> None:
    from adapters.dashboard.language import negotiate

    assert negotiate(header, ("en", "nl")) == lang


async def test_the_chosen_language_holds_on_every_page_including_sign_out(client) -> None:
    http, core = client
    dutch = {"Accept-Language": "nl,en-US;q=0.7"}
    refused = await http.get("/dashboard/", headers=dutch)
    assert refused.status == 401 and "Log eerst in" in await refused.text()
    link = await access.create_link(core, WS, "alice", "test", "nl")
    path = link.split("127.0.0.1:8080", 1)[1]
    assert "Inloggen" in await (await http.get(path)).text()  # the link's language
    await http.post(path)
    config = await (await http.get("/dashboard/config")).text()
    assert "Instellingen" in config and ">ja<" in config and ">True<" not in config
    assert "Nederlands" in config or "Engels" in config
    out = await http.post("/dashboard/logout", headers={"Accept-Language": "en"})
    assert "Je bent uitgelogd" in await out.text()
    again = await http.get("/dashboard/", headers={"Accept-Language": "en"})
    assert "Log eerst in" in await again.text()  # still the language chosen before


async def test_every_table_exports_as_csv(client) -> None:
    from bot.insight.render import to_csv
    from bot.insight.report import build_report

    http, core = client
    assert (await http.get("/dashboard/export/all-week.csv")).status == 401
    await sign_in(http, core)
    overview = await (await http.get("/dashboard/")).text()
    assert 'href="/dashboard/export/all-week.csv"' in overview
    for name, scope, period in (("all-week", None, "week"), ("C-learn-month", "C-learn", "month")):
        answer = await http.get(f"/dashboard/export/{name}.csv")
        assert answer.status == 200 and answer.content_type == "text/csv"
        assert f'filename="wolbot-{name}.csv"' in answer.headers["Content-Disposition"]
        expected = to_csv(await build_report(core, WS, community=scope, period=period))
        assert await answer.text() == expected  # what `wolbot report` writes
    rounds = await (await http.get("/dashboard/export/rounds.csv")).text()
    assert rounds.startswith("community,question,posted_at,closed_at,answers,participants\n")
    assert rounds.count("\n") == 13 and "U0" not in rounds
    questions = await (await http.get("/dashboard/export/questions.csv")).text()
    assert questions.splitlines()[0].startswith("community,question,asked_at,waiting_hours")
    assert "U0" not in questions
    for bad in ("nope-week", "all-year", "C-nope-week"):
        assert (await http.get(f"/dashboard/export/{bad}.csv")).status == 404


async def test_rounds_questions_and_charts_for_a_phone(client) -> None:
    http, core = client
    await sign_in(http, core)
    rounds = await (await http.get("/dashboard/rounds")).text()
    assert "The questions that drew the most answers" in rounds
    assert 'href="/dashboard/export/rounds.csv"' in rounds
    questions = await (await http.get("/dashboard/questions")).text()
    assert '<td data-label="Waiting">3 months</td>' in questions  # each question's age
    narrow = await http.get("/dashboard/chart/all/week/trend.svg?size=narrow")
    assert narrow.status == 200 and b'viewBox="0 0 302.4' in await narrow.read()
    assert (await http.get("/dashboard/chart/all/week/trend.svg?size=huge")).status == 404
    overview = await (await http.get("/dashboard/")).text()
    assert 'srcset="/dashboard/chart/all/week/funnel.svg?size=narrow"' in overview
    assert 'class="glance"' in overview and "people who shared" in overview
