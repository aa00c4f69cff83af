"""Initial schema: users, workflows, workflow_versions, runs, datasets, shares, schedules.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("deleted_at", nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_datasets_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    op.create_index(op.f("ix_datasets_created_at"), "datasets", ["created_at"])
    op.create_index(op.f("ix_datasets_owner_id"), "datasets", ["owner_id"])

    op.create_table(
        "workflows",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("deleted_at", nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_workflows_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
    )
    op.create_index(op.f("ix_workflows_created_at"), "workflows", ["created_at"])
    op.create_index(op.f("ix_workflows_owner_id"), "workflows", ["owner_id"])
    op.create_index(op.f("ix_workflows_updated_at"), "workflows", ["updated_at"])

    op.create_table(
        "schedules",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("workflow_id", sa.String(36), nullable=False),
        sa.Column("cron", sa.String(120), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("prefect_deployment_id", sa.String(64), nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint("(cron IS NULL) <> (interval_seconds IS NULL)",
                           name=op.f("ck_schedules_cron_or_interval")),
        sa.CheckConstraint("interval_seconds IS NULL OR interval_seconds > 0",
                           name=op.f("ck_schedules_interval_positive")),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"], ondelete="CASCADE",
                                name=op.f("fk_schedules_workflow_id_workflows")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_index(op.f("ix_schedules_workflow_id"), "schedules", ["workflow_id"])

    op.create_table(
        "shares",
        sa.Column("workflow_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.CheckConstraint("role IN ('viewer', 'editor')", name=op.f("ck_shares_role")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE", name=op.f("fk_shares_user_id_users")),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"], ondelete="CASCADE",
                                name=op.f("fk_shares_workflow_id_workflows")),
        sa.PrimaryKeyConstraint("workflow_id", "user_id", name=op.f("pk_shares")),
    )
    op.create_index(op.f("ix_shares_user_id"), "shares", ["user_id"])

    op.create_table(
        "workflow_versions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("workflow_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_workflow_versions_created_by_users")),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"], ondelete="CASCADE",
                                name=op.f("fk_workflow_versions_workflow_id_workflows")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_versions")),
        sa.UniqueConstraint("workflow_id", "version", name=op.f("uq_workflow_versions_workflow_id_version")),
    )

    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(36), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=True),
        sa.Column("use_cache", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'running', 'completed', 'failed', 'cancelled')",
                           name=op.f("ck_runs_status")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_runs_owner_id_users")),
        sa.ForeignKeyConstraint(["workflow_id", "workflow_version"],
                                ["workflow_versions.workflow_id", "workflow_versions.version"], ondelete="CASCADE",
                                name=op.f("fk_runs_workflow_id_workflow_version_workflow_versions")),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"], ondelete="CASCADE",
                                name=op.f("fk_runs_workflow_id_workflows")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_created_at"), "runs", ["created_at"])
    op.create_index(op.f("ix_runs_owner_id"), "runs", ["owner_id"])
    op.create_index(op.f("ix_runs_status"), "runs", ["status"])
    op.create_index("ix_runs_workflow_id_created_at", "runs", ["workflow_id", "created_at"])


def downgrade() -> None:
    for table in ("runs", "workflow_versions", "shares", "schedules", "workflows", "datasets", "users"):
        op.drop_table(table)  # indexes go with their tables
