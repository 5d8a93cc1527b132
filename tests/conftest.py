"""Shared fixtures: no internet, real databases (SQLite and the local PostgreSQL), a core.

PostgreSQL: 127.0.0.1:5432, user postgres, trust auth, database `test`
(`WOLBOT_TEST_POSTGRES_URL` overrides). Each test session gets its own schema, migrated
once; tables are emptied between tests. Without a server the PostgreSQL cases are
skipped locally, but fail under CI (CI=true), after one attempt to start the server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import build
from bot.clock import FakeClock
from bot.config import Settings
from bot.runtime import Wolbot
from bot.store.engine import Database
from tests.fakes.chat import RecordingPort

# -- no internet ---------------------------------------------------------------------------------
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class NetworkBlocked(RuntimeError):
    pass


def _is_local(host: Any) -> bool:
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("localhost", "", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard_address(sock: socket.socket, address: Any) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if not _is_local(host):
        raise NetworkBlocked(f"tests may not reach the network: {address!r}")


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    _guard_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    _guard_address(self, address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_local(host):
        raise NetworkBlocked(f"tests may not resolve external hosts: {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo
    os.environ.setdefault("WOLBOT_LOG_LEVEL", "WARNING")
    # Subprocesses (wolbot chat/serve in e2e tests) get a proxy that does not exist, so an
    # accidental outbound HTTP request fails instead of reaching the internet.
    os.environ["HTTPS_PROXY"] = os.environ["HTTP_PROXY"] = "http://127.0.0.1:9"
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"


# -- databases -----------------------------------------------------------------------------------
POSTGRES_URL = os.environ.get(
    "WOLBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _start_postgres() -> None:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if versions and shutil.which("pg_ctlcluster"):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
            check=False,
            capture_output=True,
            timeout=60,
        )


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    if not _postgres_reachable():
        _start_postgres()
    if not _postgres_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required in CI and could not be started")
        pytest.skip("PostgreSQL at 127.0.0.1:5432 not reachable")
    import psycopg

    schema = f"wolbot_test_{uuid.uuid4().hex[:10]}"
    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    db = Database(url)
    asyncio.run(_migrate_and_dispose(db))
    try:
        yield url
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def _migrate_and_dispose(db: Database) -> None:
    try:
        await db.upgrade()
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate_and_dispose(Database(f"sqlite:///{path}")))
    return path


async def _truncate_all(db: Database) -> None:
    from sqlalchemy import text

    from bot.store.tables import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        target = tmp_path / "wolbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_schema_url")
    asyncio.run(_truncate_and_dispose(url))
    return url


async def _truncate_and_dispose(url: str) -> None:
    db = Database(url)
    try:
        await _truncate_all(db)
    finally:
        await db.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database, for tests that need only one backend."""
    target = tmp_path / "wolbot.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


# -- a core --------------------------------------------------------------------------------------
def make_settings(database_url: str, **overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "database_url": database_url,
        "auto_migrate": False,
        "env": {"WOLBOT_SECRET_KEY": "test-secret-key-0123456789"},
        **overrides,
    }
    return Settings.model_validate(data)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def port() -> RecordingPort:
    return RecordingPort()


CoreFactory = Callable[..., Wolbot]


@pytest.fixture
async def make_core(database_url: str, clock: FakeClock) -> AsyncIterator[CoreFactory]:
    """Build cores on the test database: `core = make_core(port, **settings_overrides)`."""
    cores: list[Wolbot] = []

    def factory(*ports: Any, **overrides: Any) -> Wolbot:
        core = build(make_settings(database_url, **overrides), clock=clock)
        for p in ports:
            core.register_port(p)
        cores.append(core)
        return core

    yield factory
    for core in cores:
        await core.stop()


@pytest.fixture
async def core(make_core: CoreFactory, port: RecordingPort) -> AsyncIterator[Wolbot]:
    c = make_core(port)
    await c.start(deliver=False)
    yield c
