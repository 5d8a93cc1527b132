"""Regenerate the dashboard screenshots in docs/: the overview on a desktop and on a phone,
in English and Dutch, from a generated organisation (tests/insight/org.py, 2,000 people
over 12 weeks).

    make screenshots                     # or: .venv/bin/python scripts/dashboard_screenshots.py

Needs the dev extra (Playwright) and Debian's chromium (`make browser`); downloads nothing.
Writes docs/dashboard-{en,nl}.png (desktop, whole page) and docs/dashboard-{en,nl}-phone.png
(390 px wide, the first two screens).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _generate(url: str) -> object:
    from bot.app import build
    from bot.config import Settings
    from tests.insight.org import SETTINGS, generate

    core = build(
        Settings.model_validate(
            {
                "database_url": url,
                "auto_migrate": True,
                **SETTINGS,
                "env": {"WOLBOT_SECRET_KEY": secrets.token_urlsafe(24)},
            }
        )
    )
    await core.db.upgrade()
    try:
        return await generate(core.db)
    finally:
        await core.db.dispose()


async def shoot(out: Path, chromium: str, screens: int = 2, page_path: str = "") -> list[Path]:
    from aiohttp import web
    from playwright.async_api import async_playwright

    from adapters.web import build_web_app
    from bot.app import build
    from bot.clock import FakeClock
    from bot.config import Settings
    from bot.insight import access
    from tests.insight.org import SETTINGS, WS

    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        org = await _generate(url)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings.model_validate(
            {
                "database_url": url,
                "auto_migrate": False,
                **SETTINGS,
                "env": {"WOLBOT_SECRET_KEY": secrets.token_urlsafe(24), "WOLBOT_PUBLIC_URL": base},
            }
        )
        core = build(settings, clock=FakeClock(org.now))  # type: ignore[attr-defined]
        await core.start(deliver=False, schedule=False)
        runner = web.AppRunner(build_web_app(core, adapters=["dashboard"]), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=chromium, args=ARGS)
                for lang in ("en", "nl"):
                    for name, viewport, scale in (("", DESKTOP, 1), ("-phone", PHONE, 2)):
                        context = await browser.new_context(
                            viewport=viewport, device_scale_factor=scale, locale=lang
                        )
                        page = await context.new_page()
                        await page.goto(await access.create_link(core, WS, "alice", "test", lang))
                        await page.locator("button.primary").click()
                        await page.wait_for_url(f"{base}/dashboard/")
                        if page_path:
                            await page.goto(f"{base}/dashboard/{page_path}")
                        await page.wait_for_load_state("load")
                        path = out / f"dashboard-{lang}{name}.png"
                        if name and screens:  # a phone: the first screens
                            clip = {
                                "x": 0,
                                "y": 0,
                                "width": PHONE["width"],
                                "height": PHONE["height"] * screens,
                            }
                            await page.screenshot(path=str(path), clip=clip, full_page=True)
                        else:
                            await page.screenshot(path=str(path), full_page=True)
                        written.append(path)
                        await context.close()
                await browser.close()
        finally:
            await runner.cleanup()
            await core.stop()
    return written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs"), help="folder (default: docs/)")
    ap.add_argument("--chromium", default=CHROMIUM, help=f"browser (default: {CHROMIUM})")
    ap.add_argument("--phone-screens", type=int, default=2, help="0: the whole page")
    ap.add_argument("--page", default="", help='another page, e.g. "questions"')
    args = ap.parse_args()
    if not Path(args.chromium).exists():
        print(
            f"{args.chromium} not found: install Debian's chromium (make browser)", file=sys.stderr
        )
        return 2
    for path in asyncio.run(shoot(Path(args.out), args.chromium, args.phone_screens, args.page)):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
