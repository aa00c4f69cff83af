"""Request and response schemas: one per purpose, never ORM or Prefect objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class WorkflowPublic(BaseModel):
    id: str
    name: str
    description: str | None
    tags: list[str]
    current_version: int
    created_at: datetime
    updated_at: datetime
    definition: dict[str, Any]


class RunCreated(BaseModel):
    workflow_id: str
    run_id: str
    status: str
    flow_run_id: str | None = None


class Progress(BaseModel):
    done: int = 0
    total: int = 0
    percent: float = 0.0


class RunPublic(BaseModel):
    run_id: str
    workflow_id: str
    workflow_version: int
    status: str
    progress: Progress
    flow_run_id: str | None
    mlflow_run_id: str | None = Field(None, description="The run's MLflow run (a summary of every model).")
    mlflow_model_runs: dict[str, str] = Field(default_factory=dict,
                                              description="Training node id → that model's own (nested) MLflow run.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: dict[str, Any] | None = Field(
        None, description="Why a failed run failed: `code` (stable, e.g. FILE_NOT_FOUND, REGISTRY_ERROR), `message`, "
                          "`node_id` (its first failed node in dependency order; null when it failed outside its "
                          "nodes, e.g. at submission).")
    nodes: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    links: dict[str, str] = Field(default_factory=dict, description="UI pages of this run: `prefect_flow_run`.")


class ExecuteRequest(BaseModel):
    use_cache: bool = Field(True, description="Reuse stored outputs of unchanged nodes.")
