"""The aiohttp application of `wolbot serve`: probes, metrics, then every enabled adapter's
routes.

- `GET /livez`: 200 while the process serves requests (no I/O: restart only a stuck process).
- `GET /readyz`: 200 when the migrations are at this version's heads, the database answers
  and every adapter the environment enables is attached; 503 with the reason otherwise.
- `GET /healthz`: the detailed state (version, database, adapters), 200 or 503.
- `GET /metrics`: Prometheus text format (bot/metrics.py); the backlogs are read from the
  database at each scrape.
Every request is logged at INFO (method, route pattern, status, duration; never a body, a
query string or a path's values, which may hold a sign-in token); the probes and /metrics
at DEBUG.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
import socket
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.app import ADAPTERS, load_adapter
from bot.errors import ListenError
from bot.metrics import CONTENT_TYPE, METRICS, refresh_backlog
from bot.runtime import Wolbot
from bot.store.engine import head_revisions

log = logging.getLogger(__name__)
access_log = logging.getLogger("wolbot.http")
CORE_KEY = web.AppKey("core", Wolbot)
# Adapters the environment enables, and those attached so far (for /readyz).
EXPECTED_KEY = web.AppKey("adapters_expected", list[str])
ATTACHED_KEY = web.AppKey("adapters_attached", list[str])
PROBES = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per request, without bodies; and the request counter of /metrics."""
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        info = request.match_info.route.resource
        route = info.canonical if info is not None else "(unmatched)"
        ms = round((time.perf_counter() - start) * 1000, 1)
        METRICS.http_requests.labels(route, f"{status // 100}xx").inc()
        access_log.log(
            logging.DEBUG if route in PROBES else logging.INFO,
            "%s %s %d %.1f ms",
            request.method,
            route,
            status,
            ms,
            extra={"method": request.method, "path": route, "status": status, "duration_ms": ms},
        )


def build_web_app(core: Wolbot, *, adapters: list[str] | None = None) -> web.Application:
    """The web app with its probes and /metrics. Adapters are attached on start-up (they
    may need I/O)."""
    app = web.Application(client_max_size=2 * 1024 * 1024, middlewares=[request_log])
    app[CORE_KEY] = core
    app[EXPECTED_KEY], app[ATTACHED_KEY] = [], []
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
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
                app[EXPECTED_KEY].append(name)
                await attach(core, app)
                app[ATTACHED_KEY].append(name)
                log.info("adapter %s enabled", name)

    app.on_startup.append(attach_adapters)
    return app


async def _database_state(core: Wolbot) -> tuple[bool, bool | None]:
    """(reachable, migrated to this version's heads; None when unknown)."""
    db_ok = await core.db.ping()
    migrated = None
    if db_ok:
        try:
            migrated = await core.db.current_revisions() == head_revisions()
        except Exception:
            migrated = False
    return db_ok, migrated


async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive", "version": request.app[CORE_KEY].version})


async def readyz(request: web.Request) -> web.Response:
    core = request.app[CORE_KEY]
    db_ok, migrated = await _database_state(core)
    attached = request.app[ATTACHED_KEY]
    missing = [n for n in request.app[EXPECTED_KEY] if n not in attached]
    reasons = (
        ([] if db_ok else ["database unreachable"])
        + (["database schema is not at this version's migrations"] if migrated is False else [])
        + [f"adapter {name} not attached" for name in missing]
    )
    body = {
        "status": "not ready" if reasons else "ready",
        "reasons": reasons,
        "adapters": sorted(attached),
    }
    return web.json_response(body, status=503 if reasons else 200)


async def metrics(request: web.Request) -> web.Response:
    try:
        await refresh_backlog(request.app[CORE_KEY].db)
    except Exception as exc:  # the database is down: the other metrics still count
        log.debug("backlog not refreshed: %s", exc)
    return web.Response(body=METRICS.render(), headers={"Content-Type": CONTENT_TYPE})


async def healthz(request: web.Request) -> web.Response:
    core = request.app[CORE_KEY]
    db_ok, migrated = await _database_state(core)
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


def listen_failure(exc: OSError, host: str, port: int) -> tuple[str, str]:
    """What went wrong binding `host:port`, in a few words for the operator, and which
    setting to change ("host" or "port")."""
    if isinstance(exc, socket.gaierror):
        return f"host {host!r} cannot be resolved to an address", "host"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is already in use", "port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"address {host!r} does not belong to this machine", "host"
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port}", "port"
    return (exc.strerror or str(exc)).lower(), "host"


async def serve(
    core: Wolbot, host: str, port: int, *, ready: Callable[[int], None] | None = None
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
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        await core.stop()
        reason, setting = listen_failure(exc, host, port)
        raise ListenError(host, port, reason, setting) from exc
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
