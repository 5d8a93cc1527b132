"""The aiohttp application of `wolbot serve`: health, then every enabled adapter's routes."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable

from aiohttp import web

from bot.app import ADAPTERS, Core, load_adapter
from bot.store.engine import head_revisions

log = logging.getLogger(__name__)
CORE_KEY = web.AppKey("core", Core)


def build_web_app(core: Core, *, adapters: list[str] | None = None) -> web.Application:
    """The web app with `/healthz`. Adapters are attached on start-up (they may need I/O)."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[CORE_KEY] = core
    app.router.add_get("/healthz", healthz)
    names = list(ADAPTERS) if adapters is None else adapters

    async def attach_adapters(app: web.Application) -> None:
        for name in names:
            try:
                module = load_adapter(name)
            except ModuleNotFoundError as exc:
                log.debug("adapter %s not available: %s", name, exc)
                continue
            enabled, attach = getattr(module, "enabled", None), getattr(module, "attach", None)
            if enabled is None or attach is None:
                log.warning("adapter %s has no enabled()/attach(); skipped", name)
                continue
            if enabled(core.settings):
                await attach(core, app)
                log.info("adapter %s enabled", name)

    app.on_startup.append(attach_adapters)
    return app


async def healthz(request: web.Request) -> web.Response:
    core = request.app[CORE_KEY]
    db_ok = await core.db.ping()
    migrated = None
    if db_ok:
        try:
            migrated = await core.db.current_revisions() == head_revisions()
        except Exception:
            migrated = False
    healthy = db_ok and migrated is not False
    body = {
        "status": "ok" if healthy else "degraded",
        "version": core.version,
        "database": {"ok": db_ok, "dialect": core.db.dialect, "migrated": migrated},
        "adapters": sorted(core.ports),
    }
    return web.json_response(body, status=200 if healthy else 503)


def freeze_heap() -> None:
    """Move everything allocated at start-up (modules, the matching model, the web app) out
    of the garbage collector's reach: a full collection then no longer walks ~150,000
    long-lived objects (about 75 ms with the event loop stopped, the tail of the
    acknowledgement latency), only what requests allocate since."""
    gc.collect()
    gc.freeze()


async def serve(
    core: Core, host: str, port: int, *, ready: Callable[[int], None] | None = None
) -> None:
    """Run until SIGTERM/SIGINT, then stop taking requests, finish delivery and close."""
    for name in ADAPTERS:
        try:
            module = load_adapter(name)
        except ModuleNotFoundError:
            continue
        check = getattr(module, "assert_dev_mode_safe", None)
        enabled = getattr(module, "enabled", None)
        if check is not None and enabled is not None and enabled(core.settings):
            check(host)
    await core.start()
    app = build_web_app(core)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, shutdown_timeout=10.0)
    await site.start()
    bound = port
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        bound = server.sockets[0].getsockname()[1]
    log.info("wolbot %s serving on http://%s:%d", core.version, host, bound)
    freeze_heap()
    if ready is not None:
        ready(bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
        await core.stop()
