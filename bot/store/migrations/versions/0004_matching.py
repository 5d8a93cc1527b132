"""matching: vectors, suggestions, profile topics, connections

Revision ID: 0004_matching
Revises: 0001_initial
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004_matching"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "match_vector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _S(length=200), nullable=False),
        sa.Column("kind", _S(length=12), nullable=False),
        sa.Column("ref", _S(length=300), nullable=False),
        sa.Column("author_id", _S(length=200), nullable=False),
        sa.Column("channel_id", _S(length=200), nullable=True),
        sa.Column("visibility", _S(length=10), nullable=False),
        sa.Column("language", _S(length=8), nullable=True),
        sa.Column("text", _S(), nullable=False),
        sa.Column("model", _S(length=80), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "kind", "ref", name="uq_match_vector_ref"),
    )
    op.create_index("ix_match_vector_changed", "match_vector", ["workspace_id", "updated_at"])

    op.create_table(
        "match_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _S(length=200), nullable=False),
        sa.Column("narration_id", sa.Integer(), nullable=False),
        sa.Column("narrator_id", _S(length=200), nullable=False),
        sa.Column("person_id", _S(length=200), nullable=False),
        sa.Column("reason", _S(length=12), nullable=False),
        sa.Column("item_ref", _S(length=300), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("outcome", _S(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "narration_id", "person_id", name="uq_match_once"),
    )
    op.create_index(
        "ix_match_suggestion_person", "match_suggestion", ["workspace_id", "person_id", "created_at"]
    )
    op.create_index(
        "ix_match_suggestion_pair", "match_suggestion", ["workspace_id", "narrator_id", "person_id"]
    )

    op.create_table(
        "profile_topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _S(length=200), nullable=False),
        sa.Column("user_id", _S(length=200), nullable=False),
        sa.Column("topic", _S(length=200), nullable=False),
        sa.Column("source", _S(length=12), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "user_id", "topic", name="uq_profile_topic"),
    )
    op.create_index("ix_profile_topic_workspace_id", "profile_topic", ["workspace_id"])

    op.create_table(
        "match_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _S(length=200), nullable=False),
        sa.Column("narration_id", sa.Integer(), nullable=True),
        sa.Column("narrator_id", _S(length=200), nullable=False),
        sa.Column("person_id", _S(length=200), nullable=False),
        sa.Column("suggested_by", _S(length=200), nullable=False),
        sa.Column("conversation_id", _S(length=400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followup_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("helped", _S(length=12), nullable=True),
        sa.Column("how_it_helped", _S(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_match_connection_workspace_id", "match_connection", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_match_connection_workspace_id", table_name="match_connection")
    op.drop_table("match_connection")
    op.drop_index("ix_profile_topic_workspace_id", table_name="profile_topic")
    op.drop_table("profile_topic")
    op.drop_index("ix_match_suggestion_pair", table_name="match_suggestion")
    op.drop_index("ix_match_suggestion_person", table_name="match_suggestion")
    op.drop_table("match_suggestion")
    op.drop_index("ix_match_vector_changed", table_name="match_vector")
    op.drop_table("match_vector")
