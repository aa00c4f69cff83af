"""Runs survive faults: a `crashed` status, a submission lease (the outbox claim), the worker that claimed a run,
and the workers' own heartbeats.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')"
NEW_STATUSES = "status IN ('pending', 'running', 'completed', 'failed', 'cancelled', 'crashed')"


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint(op.f("ck_runs_status"), type_="check")
        batch.create_check_constraint("status", NEW_STATUSES)
        batch.add_column(sa.Column("worker_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("submit_lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("submit_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("submit_failing_since", sa.DateTime(timezone=True), nullable=True))
    # The outbox: pending runs without a flow run, found without scanning every run.
    op.create_index("ix_runs_outbox", "runs", ["status", "flow_run_id"])


def downgrade() -> None:
    op.drop_index("ix_runs_outbox", table_name="runs")
    # A crashed run did not finish normally: it reads as failed on the older schema.
    op.execute("UPDATE runs SET status = 'failed' WHERE status = 'crashed'")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("submit_failing_since")
        batch.drop_column("submit_attempts")
        batch.drop_column("submit_lease_until")
        batch.drop_column("worker_id")
        batch.drop_constraint(op.f("ck_runs_status"), type_="check")
        batch.create_check_constraint("status", OLD_STATUSES)
    op.drop_table("workers")
