"""narrations: the matching vector on the narration's own row (one INSERT per narration)

Moves the vectors of narrations from `match_vector` onto their narration rows; profile
topics' vectors (and the tombstones other replicas still read) stay in `match_vector`.

Revision ID: 0013_narration_vector
Revises: 0012_glossary
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013_narration_vector"
down_revision = "0012_glossary"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString

# a narration's live vector row in match_vector (its ref is the narration id as text)
_SAME = (
    "v.workspace_id = narration.workspace_id AND v.kind = 'narration'"
    " AND v.ref = CAST(narration.id AS VARCHAR(300)) AND v.removed_at IS NULL"
)


def upgrade() -> None:
    with op.batch_alter_table("narration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vector", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("vector_model", _S(length=80), nullable=True))
        batch_op.add_column(sa.Column("vector_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_narration_vector_at", ["workspace_id", "vector_at"], unique=False)
    op.execute(
        "UPDATE narration SET"
        f" vector = (SELECT v.vector FROM match_vector v WHERE {_SAME}),"
        f" vector_model = (SELECT v.model FROM match_vector v WHERE {_SAME}),"
        f" vector_at = (SELECT v.updated_at FROM match_vector v WHERE {_SAME})"
        f" WHERE EXISTS (SELECT 1 FROM match_vector v WHERE {_SAME})"
    )
    op.execute(
        "DELETE FROM match_vector WHERE kind = 'narration' AND removed_at IS NULL AND EXISTS"
        " (SELECT 1 FROM narration WHERE narration.workspace_id = match_vector.workspace_id"
        " AND CAST(narration.id AS VARCHAR(300)) = match_vector.ref)"
    )


def downgrade() -> None:
    op.execute(
        "INSERT INTO match_vector (workspace_id, kind, ref, author_id, channel_id, visibility,"
        " language, text, model, vector, created_at, updated_at)"
        " SELECT workspace_id, 'narration', CAST(id AS VARCHAR(300)), author_id, channel_id,"
        " visibility, language, CASE WHEN topic <> '' THEN topic ELSE text END, vector_model,"
        " vector, created_at, vector_at FROM narration WHERE vector IS NOT NULL"
    )
    with op.batch_alter_table("narration", schema=None) as batch_op:
        batch_op.drop_index("ix_narration_vector_at")
        batch_op.drop_column("vector_at")
        batch_op.drop_column("vector_model")
        batch_op.drop_column("vector")
