"""teams adapter: teams_member

Revision ID: 0003_teams
Revises: 0001_initial
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003_teams"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_member",
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("aad_object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("service_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("bot_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "dm_conversation_id", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "user_id"),
    )
    with op.batch_alter_table("teams_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_teams_member_aad_object_id"), ["aad_object_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("teams_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_member_aad_object_id"))
    op.drop_table("teams_member")
