"""glossary: the organisation's terms and their meanings, per workspace

Revision ID: 0012_glossary
Revises: 0004_matching
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012_glossary"
down_revision = "0004_matching"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "glossary_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _S(length=200), nullable=False),
        sa.Column("term_key", _S(length=100), nullable=False),
        sa.Column("term", _S(length=100), nullable=False),
        sa.Column("meaning", _S(length=400), nullable=False),
        sa.Column("added_by", _S(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "term_key", name="uq_glossary_term"),
    )


def downgrade() -> None:
    op.drop_table("glossary_term")
