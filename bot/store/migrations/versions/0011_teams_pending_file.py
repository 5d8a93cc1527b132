"""teams adapter: files waiting for the person's consent (teams_pending_file)

Revision ID: 0011_teams_pending_file
Revises: 0003_teams
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011_teams_pending_file"
down_revision = "0003_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_pending_file",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(length=400),
                  nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_teams_pending_file_workspace_id", "teams_pending_file",
                    ["workspace_id"], unique=False)
    op.create_index("ix_teams_pending_file_user_id", "teams_pending_file", ["user_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_teams_pending_file_user_id", table_name="teams_pending_file")
    op.drop_index("ix_teams_pending_file_workspace_id", table_name="teams_pending_file")
    op.drop_table("teams_pending_file")
