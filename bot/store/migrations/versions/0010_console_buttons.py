"""console_button: the console's button numbers, stable across chat and run-due

Revision ID: 0010_console_buttons
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_console_buttons"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_button",
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("action_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("thread_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("console_button")
