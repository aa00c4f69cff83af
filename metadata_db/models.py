"""The metadata tables: users, workflows and their versions, runs, datasets, shares, schedules, workers,
model owners, model deployments with their tokens and prediction log, and named connections."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, ForeignKeyConstraint, Index,
                        Integer, String, Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column

from metadata_db.base import Base, UTCDateTime, new_id, utcnow

# crashed: the worker running it stopped (killed, lost); final, resumable with /rerun from its cached nodes.
RunStatus = Literal["pending", "running", "completed", "failed", "cancelled", "crashed"]
ShareRole = Literal["viewer", "editor"]
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
FINISHED_STATUSES = frozenset({"completed", "failed", "cancelled", "crashed"})
SHARE_ROLES: tuple[str, ...] = get_args(ShareRole)
DeploymentStatus = Literal["loading", "ready", "failed"]
DEPLOYMENT_STATUSES: tuple[str, ...] = get_args(DeploymentStatus)
DEFAULT_THRESHOLDS = {"drift_psi": 0.2, "drift_p_value": 0.01, "accuracy_drop": 0.05, "rmse_increase": 0.2,
                      "min_rows": 30}


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


class ModelDeployment(Base):
    """A registered model served at ``/api/deployments/{name}/invocations``: a pinned version or a followed alias."""

    __tablename__ = "model_deployments"
    __table_args__ = (
        CheckConstraint("(version IS NULL) <> (alias IS NULL)", name="version_or_alias"),
        CheckConstraint(_one_of("status", DEPLOYMENT_STATUSES), name="status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    model: Mapped[str] = mapped_column(String(255))  # the MLflow registered model's name
    version: Mapped[int | None] = mapped_column(Integer)  # pinned
    alias: Mapped[str | None] = mapped_column(String(255))  # followed
    current_version: Mapped[int | None] = mapped_column(Integer)  # the version served now
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="loading")
    error: Mapped[str | None] = mapped_column(Text)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=lambda: dict(DEFAULT_THRESHOLDS))
    monitoring_interval_s: Mapped[int] = mapped_column(Integer, default=3600)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeploymentToken(Base):
    """A bearer token opening one deployment's invocations; only its SHA-256 is stored."""

    __tablename__ = "deployment_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("model_deployments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the token's first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class Prediction(Base):
    """One scored row of one invocation, written in batches off the request path (``api.serving.prediction_log``)."""

    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_deployment_id_created_at", "deployment_id", "created_at"),
        Index("ix_predictions_deployment_id_request_id", "deployment_id", "request_id"),
    )

    # SQLite autoincrements only an INTEGER primary key.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("model_deployments.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(String(36))
    row: Mapped[int] = mapped_column(Integer)  # position in its request
    model_version: Mapped[int] = mapped_column(Integer)
    input: Mapped[dict[str, Any]] = mapped_column(JSON)  # column -> value, the raw row
    output: Mapped[Any] = mapped_column(JSON, nullable=True)
    probability: Mapped[dict[str, float] | None] = mapped_column(JSON)  # class label (as text) -> probability
    latency_ms: Mapped[float] = mapped_column(Float)  # the whole request's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    label: Mapped[Any] = mapped_column(JSON, nullable=True)  # the ground truth, from feedback
    labelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Connection(Base):
    """A user's named database URL, S3 credentials or API key (``flowza_core.connection_kinds``).

    ``secret`` is Fernet-encrypted (``flowza_core.connection_secrets``) and never leaves the server except to
    the nodes of its owner's runs.
    """

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("owner_id", "name"),
        # NULLs never clash in a unique constraint: single-user mode's connections (no owner) need their own.
        Index("uq_connections_name_unowned", "name", unique=True, sqlite_where=text("owner_id IS NULL"),
              postgresql_where=text("owner_id IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # public settings
    secret: Mapped[str] = mapped_column(Text)  # a Fernet token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
