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


async def test_narration_vectors_move_onto_their_narrations_and_back(database_url: str) -> None:
    """0013: a narration's vector moves from `match_vector` onto its narration row (profile
    topics and tombstones stay); the downgrade moves it back."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from bot.store.engine import _run_alembic

    db = Database(database_url)
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    vec = bytes(range(16))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_run_alembic, "downgrade", "0013_narration_vector-1")
            await conn.execute(
                text("INSERT INTO workspace (id, platform, created_at) VALUES ('w', 'test', :t)"),
                {"t": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO narration (id, workspace_id, author_id, text, topic, channel_id,"
                    " visibility, language, source, created_at, updated_at) VALUES (7, 'w', 'ann',"
                    " 'I''m working on x', 'x', 'C1', 'public', 'en', 'channel', :t, :t)"
                ),
                {"t": now},
            )
            for kind, ref, removed in (("narration", "7", None), ("topic", "ann:1", None),
                                       ("narration", "8", now)):  # fmt: skip
                await conn.execute(
                    text(
                        "INSERT INTO match_vector (workspace_id, kind, ref, author_id, visibility,"
                        " text, model, vector, created_at, updated_at, removed_at) VALUES"
                        " ('w', :kind, :ref, 'ann', 'public', 'x', 'm1', :vec, :t, :t, :removed)"
                    ),
                    {"kind": kind, "ref": ref, "vec": vec, "t": now, "removed": removed},
                )
            await conn.run_sync(_run_alembic, "upgrade", "heads")
            row = (
                await conn.execute(text("SELECT vector, vector_model FROM narration WHERE id = 7"))
            ).one()
            assert (bytes(row[0]), row[1]) == (vec, "m1")
            left = await conn.execute(text("SELECT kind, ref FROM match_vector ORDER BY ref"))
            assert [tuple(r) for r in left] == [("narration", "8"), ("topic", "ann:1")]
            await conn.run_sync(_run_alembic, "downgrade", "0013_narration_vector-1")
            back = await conn.execute(
                text("SELECT ref, model, vector FROM match_vector WHERE kind = 'narration'")
            )
            assert sorted((r[0], r[1], bytes(r[2] or b"")) for r in back) == [
                ("7", "m1", vec),
                ("8", "m1", vec),
            ]
            await conn.run_sync(_run_alembic, "upgrade", "heads")
    finally:
        await db.dispose()


async def test_narrations_counting_themselves_are_written_back_as_counts_on_downgrade(
    database_url: str,
) -> None:
    """0014: the downgrade writes what narrations count (`narration.community`) into
    `participation_count`, where the previous version reads it."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from bot.store.engine import _run_alembic

    db = Database(database_url)
    wednesday = datetime(2026, 12, 9, 23, 30, tzinfo=UTC)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO workspace (id, platform, created_at) VALUES ('w', 'test', :t)"),
                {"t": wednesday},
            )
            for n, community in ((1, "C1"), (2, "C1"), (3, ""), (4, None)):
                await conn.execute(
                    text(
                        "INSERT INTO narration (id, workspace_id, author_id, text, topic,"
                        " channel_id, message_id, visibility, language, source, created_at,"
                        " updated_at, community) VALUES (:n, 'w', 'ann', 'x', 'x', 'C1', :m,"
                        " 'public', 'en', 'channel', :t, :t, :c)"
                    ),
                    {"n": n, "m": f"m{n}", "t": wednesday, "c": community},
                )
            await conn.execute(
                text(
                    "INSERT INTO participation_count (workspace_id, user_id, week, community,"
                    " signal, level, count) VALUES ('w', 'ann', :week, 'C1', 'narration', 3, 5)"
                ),
                {"week": datetime(2026, 12, 7).date()},
            )
            await conn.run_sync(_run_alembic, "downgrade", "0013_narration_vector")
            rows = await conn.execute(
                text(
                    "SELECT week, community, count FROM participation_count"
                    " ORDER BY community, week"
                )
            )
            assert [(str(w), c, n) for w, c, n in rows] == [
                ("2026-12-07", "", 1),
                ("2026-12-07", "C1", 7),
            ]
            await conn.run_sync(_run_alembic, "upgrade", "heads")
    finally:
        await db.dispose()
