"""narrations count as participation by their own row (`narration.community`)

A new narration is counted by its row instead of an upsert into `participation_count`
(bot/store/participation_counts.py). Rows stored before keep `community` NULL: their count
is in `participation_count` already. The downgrade writes the counts of the narrations that
count themselves into `participation_count`, where the previous version reads them.

Revision ID: 0014_narration_community
Revises: 0013_narration_vector, 0008_insight
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014_narration_community"
down_revision = ("0013_narration_vector", "0008_insight")  # and participation_count
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("narration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("community", _S(length=200), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        week = "CAST(date_trunc('week', timezone('UTC', created_at)) AS DATE)"
    else:
        week = "date(substr(created_at, 1, 10), '-6 days', 'weekday 1')"
    op.execute(
        "INSERT INTO participation_count"
        " (workspace_id, user_id, week, community, signal, level, count)"
        f" SELECT workspace_id, author_id, {week}, community, 'narration', 3, count(*)"
        " FROM narration WHERE community IS NOT NULL"
        f" GROUP BY workspace_id, author_id, {week}, community"
        " ON CONFLICT (workspace_id, user_id, week, community, signal)"
        " DO UPDATE SET count = participation_count.count + excluded.count"
    )
    with op.batch_alter_table("narration", schema=None) as batch_op:
        batch_op.drop_column("community")
