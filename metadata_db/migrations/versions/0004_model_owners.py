"""Registered models get owners (the user whose run first registered the name) and shares, like workflows.

Models registered before this revision have no row: they stay readable by every user and change
only through MLflow itself (see ``api.access.model``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_owners",
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_model_owners_owner_id_users")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_model_owners")),
    )
    op.create_index(op.f("ix_model_owners_owner_id"), "model_owners", ["owner_id"])
    op.create_table(
        "model_shares",
        sa.Column("model_name", sa.String(500), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.CheckConstraint("role IN ('viewer', 'editor')", name=op.f("ck_model_shares_role")),
        sa.ForeignKeyConstraint(["model_name"], ["model_owners.name"], ondelete="CASCADE",
                                name=op.f("fk_model_shares_model_name_model_owners")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_model_shares_user_id_users")),
        sa.PrimaryKeyConstraint("model_name", "user_id", name=op.f("pk_model_shares")),
    )
    op.create_index(op.f("ix_model_shares_user_id"), "model_shares", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_model_shares_user_id"), table_name="model_shares")
    op.drop_table("model_shares")
    op.drop_index(op.f("ix_model_owners_owner_id"), table_name="model_owners")
    op.drop_table("model_owners")
