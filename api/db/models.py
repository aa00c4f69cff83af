"""The metadata tables: users, workflows and their versions, runs, datasets, shares, schedules, workers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, ForeignKeyConstraint, Index,
                        Integer, String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, UTCDateTime, new_id, utcnow

# crashed: the worker running it stopped (killed, lost); final, resumable with /rerun from its cached nodes.
RunStatus = Literal["pending", "running", "completed", "failed", "cancelled", "crashed"]
ShareRole = Literal["viewer", "editor"]
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
FINISHED_STATUSES = frozenset({"completed", "failed", "cancelled", "crashed"})
SHARE_ROLES: tuple[str, ...] = get_args(ShareRole)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Workflow(Base):
    __tablename__ = "workflows"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkflowVersion(Base):
    """One saved definition; rows are only ever added, never rewritten."""

    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("workflow_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        # A run always names a saved version of its workflow.
        ForeignKeyConstraint(["workflow_id", "workflow_version"],
                             ["workflow_versions.workflow_id", "workflow_versions.version"], ondelete="CASCADE"),
        CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),
        Index("ix_runs_workflow_id_created_at", "workflow_id", "created_at"),
        Index("ix_runs_outbox", "status", "flow_run_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the engine's run id
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    workflow_version: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    use_cache: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the engine's run record
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    worker_id: Mapped[str | None] = mapped_column(String(64))  # the worker that claimed it (see Worker)
    # The outbox: a pending run without a flow run is still to be submitted. No submitter takes it
    # again before this time (another API process holds it, or it waits before a retry).
    submit_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When its submissions started failing: past FLOWZA_SUBMISSION_DEADLINE_S of failures it fails.
    submit_failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(Text)  # where the CSV is stored: a store URI or a path
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # How the file was read at upload (csv_loader reading options that differ from the defaults).
    read_options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Share(Base):
    __tablename__ = "shares"
    __table_args__ = (CheckConstraint(_one_of("role", SHARE_ROLES), name="role"),)

    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (
        # Exactly one of cron / interval, as a Prefect schedule has.
        CheckConstraint("(cron IS NULL) <> (interval_seconds IS NULL)", name="cron_or_interval"),
        CheckConstraint("interval_seconds IS NULL OR interval_seconds > 0", name="interval_positive"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"), index=True)
    cron: Mapped[str | None] = mapped_column(String(120))
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    prefect_deployment_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Worker(Base):
    """A live worker process: it refreshes ``last_seen`` while it runs; a stale row means it is gone."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelOwner(Base):
    """Who owns a registered model name: the user whose run first registered it (multi-user mode)."""

    __tablename__ = "model_owners"

    name: Mapped[str] = mapped_column(String(500), primary_key=True)  # the MLflow registered model's name
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelShare(Base):
    __tablename__ = "model_shares"
    __table_args__ = (CheckConstraint(_one_of("role", SHARE_ROLES), name="role"),)

    model_name: Mapped[str] = mapped_column(ForeignKey("model_owners.name", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
