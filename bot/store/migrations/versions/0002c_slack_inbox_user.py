"""slack adapter: slack_inbox.user_id (personal data: erased with the person)

Revision ID: 0002c_slack_inbox_user
Revises: 0002b_slack_inbox
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002c_slack_inbox_user"
down_revision = "0002b_slack_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("slack_inbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_slack_inbox_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("slack_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_inbox_user_id"))
        batch_op.drop_column("user_id")
