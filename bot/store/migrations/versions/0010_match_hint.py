"""matching: when a person last got the hint after a vague narration

Revision ID: 0010_match_hint
Revises: 0004_matching
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_match_hint"
down_revision = "0004_matching"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "match_hint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _S(length=200), nullable=False),
        sa.Column("user_id", _S(length=200), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "user_id", name="uq_match_hint"),
    )


def downgrade() -> None:
    op.drop_table("match_hint")
