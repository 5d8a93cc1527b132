"""teams adapter: group chats created for introductions, and the tenant's Graph state

Revision ID: 0012_teams_group_chat
Revises: 0011_teams_pending_file
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012_teams_group_chat"
down_revision = "0011_teams_pending_file"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "teams_group_chat",
        sa.Column("workspace_id", text(length=200), nullable=False),
        sa.Column("members_key", text(length=64), nullable=False),
        sa.Column("chat_id", text(length=400), nullable=True),
        sa.Column("installed", sa.Boolean(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "members_key"),
    )
    op.create_table(
        "teams_graph_state",
        sa.Column("workspace_id", text(length=200), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("cause", text(length=40), nullable=True),
        sa.Column("permission", text(length=100), nullable=True),
        sa.Column("detail", text(length=500), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("workspace_id"),
    )


def downgrade() -> None:
    op.drop_table("teams_graph_state")
    op.drop_table("teams_group_chat")
