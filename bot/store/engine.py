"""The database: one async engine, sessions, health, and Alembic upgrades.

`WOLBOT_DATABASE_URL` takes the usual forms (`sqlite:///wolbot.db`,
`postgresql://…`, `postgresql+psycopg://…`); they are mapped to async drivers here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config_env import normalise_database_url
from bot.errors import StoreUnavailable

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 74_211_903  # PostgreSQL advisory lock id: one replica migrates at a time


def async_url(url: str) -> str:
    """Map a user-facing database URL to its async driver."""
    parsed = make_url(normalise_database_url(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def safe_url(url: str) -> str:
    """The URL with its password hidden, for logs and /healthz."""
    try:
        return make_url(normalise_database_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


class Database:
    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if self.dialect == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=10)
        else:
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._autocommit: AsyncEngine | None = None

    def autocommit_engine(self, pool_size: int = 2) -> AsyncEngine:
        """A second, small engine whose connections run each statement as its own
        transaction and skip the pre-ping: one round trip for a single-statement write that
        must be fast (the Slack inbox's INSERT before an acknowledgement). A connection
        broken by an outage fails that statement once and is replaced; the caller treats
        the failure like any other (the platform retries)."""
        if self._autocommit is None:
            kwargs: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
            if self.dialect == "postgresql":
                kwargs.update(pool_size=pool_size, max_overflow=0, pool_timeout=10)
            else:
                kwargs["connect_args"] = {"timeout": 30}
            self._autocommit = create_async_engine(self.url, **kwargs)
            if self.dialect == "sqlite":
                event.listen(self._autocommit.sync_engine, "connect", _sqlite_pragmas)
        return self._autocommit

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose connection failures surface as StoreUnavailable."""
        try:
            async with self._sessions() as session:
                yield session
        except (OperationalError, PoolTimeout, OSError) as exc:
            raise StoreUnavailable(str(exc).splitlines()[0]) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable(str(exc).splitlines()[0]) from exc
            raise

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # any failure means "not healthy"; logged, never raised
            log.warning("database ping failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
            return False

    async def wait_until_reachable(self, seconds: float = 0.0, every: float = 2.0) -> None:
        """Return once `SELECT 1` answers; raise StoreUnavailable with the last reason when
        it has not within `seconds` (a start waiting for its database, e.g. in compose)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            try:
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                return
            except Exception as exc:  # any failure means "not reachable yet"
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if loop.time() + every > deadline:
                    raise StoreUnavailable(reason) from None
                log.warning("database not reachable yet (%s); retrying in %.0f s", reason, every)
                await asyncio.sleep(every)

    async def upgrade(self, revision: str = "heads") -> None:
        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
            await conn.run_sync(_run_alembic, "upgrade", revision)

    async def current_revisions(self) -> set[str]:
        async with self.engine.connect() as conn:
            try:
                rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            except DBAPIError:
                return set()
            return {row[0] for row in rows}

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._autocommit is not None:
            await self._autocommit.dispose()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _run_alembic(connection: Connection, action: str, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(cfg, revision)
    elif action == "downgrade":
        command.downgrade(cfg, revision)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Core table, for bulk statements and its name (SQLModel does not declare
    `__table__` to type checkers)."""
    table = inspect(model).local_table
    assert isinstance(table, Table), model
    return table


def dialect_insert(dialect: str, table: Any) -> Any:
    """The INSERT of SQLite or PostgreSQL, whose ON CONFLICT clauses both dialects share."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def upsert(dialect: str, table: Any, keys: list[str], columns: list[str]) -> Any:
    """Bulk INSERT … ON CONFLICT (keys) DO UPDATE SET columns = the new values, for SQLite and
    PostgreSQL: one statement for many rows, instead of a SELECT and a write per row."""
    statement = dialect_insert(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={c: getattr(statement.excluded, c) for c in columns}
    )


def insert_ignoring_duplicates(dialect: str, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL (bulk, idempotent)."""
    return dialect_insert(dialect, table).on_conflict_do_nothing()
