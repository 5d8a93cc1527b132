"""`wolbot serve` connects to nothing but what it is configured for (issue 17, item 7).

A real server on PostgreSQL with the fake Slack Web API, idle and then busy (narrations,
each run through the e5 model in onnxruntime), watched two ways:
- every HTTP(S)/ALL proxy variable points at a recording trap, so a library that honours
  them (libcurl in onnxruntime's telemetry, aiohttp, urllib) shows whom it wanted to reach;
- `strace -f -e trace=connect` (Debian's strace; `make test` installs it when root, as CI
  is) records every connect(2) of every thread and child, proxy or not, including the DNS
  lookups that come before any connection to a name.
The only destinations allowed are the fake Slack API, PostgreSQL and the trap itself (which
must then have recorded nothing). HOME is an empty directory that must stay empty: nothing
such as onnxruntime's `~/.cache/Microsoft/DeveloperTools/.onnxruntime/` may be written.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.matching.model_cache import cache_dir
from tests.conftest import POSTGRES_URL, _truncate_and_dispose
from tests.fakes.slack_api import FakeSlackApi
from tests.resilience.processes import (
    Serve,
    message_event,
    post_event,
    serve_env,
    wait_until,
    write_config,
)

WS = "slack:T111"
IDLE_SECONDS = 20  # onnxruntime 1.32 tried its first upload ~9 s after start
BUSY_NARRATIONS = 6
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_\w+), (.*?)\}")


class ProxyTrap:
    """A local 'proxy' that records the first line of every request and refuses it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> ProxyTrap:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            line = await asyncio.wait_for(reader.readline(), 5)
            self.requests.append(line.decode(errors="replace").strip() or "<no request line>")
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        writer.close()


def trap_env(env: dict[str, str], trap: ProxyTrap, home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in env.items()
        if k.upper()
        not in {*PROXY_VARIABLES, "NO_PROXY", "XDG_CACHE_HOME", "ORT_DISABLE_TELEMETRY"}
    }
    env.update({name: trap.url for name in PROXY_VARIABLES})
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", HOME=str(home))
    cache = cache_dir()  # the documented model cache (here: the one the suite already uses)
    if cache is not None:
        env["WOLBOT_CACHE_DIR"] = str(cache)
    return env


def destinations(trace: str) -> list[tuple[str, str]]:
    """(family, address) of every connect(2) in an strace log; local sockets left out."""
    found = []
    for family, address in CONNECT.findall(trace):
        if family == "AF_UNIX":
            continue  # a local socket (nscd, syslog): nothing leaves the machine
        port = re.search(r"sin6?_port=htons\((\d+)\)", address)
        host = re.search(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"', address)
        found.append(
            (family, f"{host and (host.group(1) or host.group(2))}:{port and port.group(1)}")
        )
    return found


def strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect", "-o", "/dev/null", "true"],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


def strace_prefix(log: Path) -> tuple[str, ...]:
    return ("strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o", str(log))


def stop_traced(serve: Serve) -> None:
    """SIGTERM to the server under strace (strace itself ignores it while tracing)."""
    pid = serve.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        for child in children.read_text().split():
            os.kill(int(child), signal.SIGTERM)


@pytest.mark.postgres
async def test_the_observers_catch_an_outbound_attempt(tmp_path: Path) -> None:
    """The checker itself: a child that tries to reach a public name is caught by both."""
    async with ProxyTrap() as trap:
        env = trap_env(dict(os.environ), trap, tmp_path)
        # a UDP connect(2) sends no packet (as a resolver's does not): nothing leaves here
        code = (
            "import urllib.request\ntry: urllib.request.urlopen('https://example.org/', "
            "timeout=3)\nexcept Exception: pass\nimport socket\n"
            "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect(('192.0.2.1', 53))\n"
        )
        prefix = strace_prefix(tmp_path / "trace") if strace_works() else ()
        proc = await asyncio.create_subprocess_exec(*prefix, sys.executable, "-c", code, env=env)
        await asyncio.wait_for(proc.wait(), 30)
        assert [r.split(" HTTP/")[0] for r in trap.requests] == ["CONNECT example.org:443"]
    if prefix:
        found = destinations((tmp_path / "trace").read_text())
        assert ("AF_INET", "192.0.2.1:53") in found
        assert ("AF_INET", f"127.0.0.1:{trap.port}") in found


@pytest.mark.postgres
async def test_serve_idle_and_busy_reaches_only_its_configured_endpoints(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    await _truncate_and_dispose(postgres_schema_url)
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    config = write_config(
        work / "app.yaml",
        {"timezone": "UTC", "workspaces": {WS: {"timezone": "UTC", "language": "en"}}},
    )
    traced = strace_works()
    trace = tmp_path / "connect.trace"
    async with FakeSlackApi() as api, ProxyTrap() as trap:
        api.add_user("U222", real_name="Narrator")
        env = trap_env(serve_env(postgres_schema_url, api.url, config), trap, home)
        serve = await Serve.start(env, work, prefix=strace_prefix(trace) if traced else ())
        try:
            await asyncio.sleep(IDLE_SECONDS)  # idle
            now = time.time()
            async with aiohttp.ClientSession() as http:  # busy: narrations through e5
                for i in range(BUSY_NARRATIONS):
                    body = message_event(
                        f"EvBusy{i}", f"I'm working on the offline audit {i}", ts=f"{now + i:.6f}"
                    )
                    assert await post_event(http, serve.url, body) == 200
            await wait_until(
                lambda: len(api.calls_to("reactions.add", ok_only=False)) >= BUSY_NARRATIONS,
                60,
                "the narrations to be handled",
            )
            await asyncio.sleep(IDLE_SECONDS / 2)  # and idle again after the model ran
        finally:
            if traced:
                stop_traced(serve)
                await asyncio.wait_for(serve.proc.wait(), 30)
                await serve._stop_reader()
            else:
                await serve.terminate()

    assert "Traceback" not in serve.log, serve.log
    assert trap.requests == []  # nobody asked the "proxy" for anything
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []
    if not traced:
        pytest.skip(
            "strace is not installed (make test installs it when root): only the "
            "proxy trap and HOME were checked"
        )
    database_port = re.search(r":(\d+)/", POSTGRES_URL)
    allowed = {
        f"127.0.0.1:{api.port}",
        f"127.0.0.1:{trap.port}",
        f"127.0.0.1:{database_port.group(1) if database_port else 5432}",
    }
    seen = destinations(trace.read_text())
    assert seen, "strace recorded no connection at all (not even the database)"
    assert [d for d in seen if d[1] not in allowed] == []
