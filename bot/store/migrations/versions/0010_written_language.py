"""person settings: the language a person last wrote in

Revision ID: 0010_written_language
Revises: 0005_admin, 0009_event_completion
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_written_language"
# 0005_admin created person_settings
down_revision = ("0005_admin", "0009_event_completion")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_settings") as batch:
        batch.add_column(sa.Column("written_language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person_settings") as batch:
        batch.drop_column("written_language")
