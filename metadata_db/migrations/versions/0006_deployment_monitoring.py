"""Monitoring of model deployments: one result per monitoring run, and the alerts it raised.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("labelled", sa.Integer(), nullable=False),
        sa.Column("drift", sa.JSON(), nullable=False),
        sa.Column("drifted_features", sa.JSON(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("rmse", sa.Float(), nullable=True),
        sa.Column("latency_p50", sa.Float(), nullable=True),
        sa.Column("latency_p95", sa.Float(), nullable=True),
        sa.Column("latency_p99", sa.Float(), nullable=True),
        sa.Column("reference_metric", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["model_deployments.id"], ondelete="CASCADE",
                                name=op.f("fk_monitoring_results_deployment_id_model_deployments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_results")),
    )
    op.create_index("ix_monitoring_results_deployment_id_created_at", "monitoring_results",
                    ["deployment_id", "created_at"])
    op.create_table(
        "deployment_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("webhook_status", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["model_deployments.id"], ondelete="CASCADE",
                                name=op.f("fk_deployment_alerts_deployment_id_model_deployments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_alerts")),
    )
    op.create_index("ix_deployment_alerts_deployment_id_created_at", "deployment_alerts",
                    ["deployment_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_deployment_alerts_deployment_id_created_at", table_name="deployment_alerts")
    op.drop_table("deployment_alerts")
    op.drop_index("ix_monitoring_results_deployment_id_created_at", table_name="monitoring_results")
    op.drop_table("monitoring_results")
