"""Model deployments: a registered model served over REST, its bearer tokens (hashed) and its prediction log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_deployments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("alias", sa.String(255), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("monitoring_interval_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(version IS NULL) <> (alias IS NULL)", name=op.f("ck_model_deployments_version_or_alias")),
        sa.CheckConstraint("status IN ('loading', 'ready', 'failed')", name=op.f("ck_model_deployments_status")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_model_deployments_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_deployments")),
        sa.UniqueConstraint("name", name=op.f("uq_model_deployments_name")),
    )
    op.create_index(op.f("ix_model_deployments_owner_id"), "model_deployments", ["owner_id"])
    op.create_table(
        "deployment_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("deployment_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["model_deployments.id"], ondelete="CASCADE",
                                name=op.f("fk_deployment_tokens_deployment_id_model_deployments")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_deployment_tokens_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_deployment_tokens_token_hash")),
    )
    op.create_index(op.f("ix_deployment_tokens_deployment_id"), "deployment_tokens", ["deployment_id"])
    op.create_table(
        "predictions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("probability", sa.JSON(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.JSON(), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["model_deployments.id"], ondelete="CASCADE",
                                name=op.f("fk_predictions_deployment_id_model_deployments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictions")),
    )
    op.create_index("ix_predictions_deployment_id_created_at", "predictions", ["deployment_id", "created_at"])
    op.create_index("ix_predictions_deployment_id_request_id", "predictions", ["deployment_id", "request_id"])


def downgrade() -> None:
    op.drop_index("ix_predictions_deployment_id_request_id", table_name="predictions")
    op.drop_index("ix_predictions_deployment_id_created_at", table_name="predictions")
    op.drop_table("predictions")
    op.drop_index(op.f("ix_deployment_tokens_deployment_id"), table_name="deployment_tokens")
    op.drop_table("deployment_tokens")
    op.drop_index(op.f("ix_model_deployments_owner_id"), table_name="model_deployments")
    op.drop_table("model_deployments")
