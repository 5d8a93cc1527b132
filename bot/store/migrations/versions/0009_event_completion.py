"""processed events: completed flag, so a claim left by a crashed process can be taken over

Revision ID: 0009_event_completion
Revises: 0001_initial
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_event_completion"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows claimed before this version were handled (or released): they count as completed.
    with op.batch_alter_table("processedevent") as batch:
        batch.add_column(sa.Column("completed", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("processedevent") as batch:
        batch.drop_column("completed")
