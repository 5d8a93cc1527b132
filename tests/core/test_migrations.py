"""Migrations and tables agree, and upgrading is repeatable on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.engine import Database, head_revisions
from bot.store.tables import metadata


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


async def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
        assert diff == [], f"tables and migrations disagree (write a migration): {diff}"
        assert await db.current_revisions() == head_revisions()
        await db.upgrade()  # a second upgrade is a no-op
        assert await db.current_revisions() == head_revisions()
    finally:
        await db.dispose()


async def test_fresh_sqlite_file_upgrades_from_nothing(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert await db.current_revisions() == set()
        await db.upgrade()
        assert await db.current_revisions() == head_revisions()
    finally:
        await db.dispose()
