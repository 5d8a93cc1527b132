"""limit uses counted in the database, so replicas share platform limits

Revision ID: 0010_limit_use
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_limit_use"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "limit_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_limit_use_key_at", "limit_use", ["key", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_limit_use_key_at", table_name="limit_use")
    op.drop_table("limit_use")
