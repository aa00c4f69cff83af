"""Request and response schemas: one per purpose, never ORM or Prefect objects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, Field

MAX_OFFSET = 2**62  # far past any table, and within the 64-bit integers SQL offsets are
MAX_VERSION = 2**31 - 1  # version numbers are 32-bit INTEGER columns

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_VERSION, description="A version number (1 is the first).")]


class WorkflowPublic(BaseModel):
    id: str
    name: str
    description: str | None
    tags: list[str]
    current_version: int
    created_at: datetime
    updated_at: datetime
    definition: dict[str, Any]


class WorkflowListed(BaseModel):
    """A workflow in a list: with its current definition, unless the list was asked for summaries only."""

    id: str
    name: str
    description: str | None
    tags: list[str]
    current_version: int
    created_at: datetime
    updated_at: datetime
    definition: dict[str, Any] | None = Field(None, description="The current definition; null when the list "
                                                                "was asked for summaries (`definition=false`).")


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
    status: str = Field(description="pending, running, completed, failed, cancelled or crashed (the worker running "
                                    "it stopped; final: `/rerun` continues from its finished nodes).")
    progress: Progress
    flow_run_id: str | None
    mlflow_run_id: str | None = Field(None, description="The run's MLflow run (a summary of every model).")
    mlflow_model_runs: dict[str, str] = Field(default_factory=dict,
                                              description="Training node id → that model's own (nested) MLflow run.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: dict[str, Any] | None = Field(
        None, description="Why a failed or crashed run ended: `code` (stable, e.g. FILE_NOT_FOUND, RUN_CRASHED), "
                          "`message`, `node_id` (its first failed node in dependency order; null when it failed "
                          "outside its nodes, e.g. at submission).")
    nodes: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    links: dict[str, str] = Field(default_factory=dict, description="UI pages of this run: `prefect_flow_run`.")


class ExecuteRequest(BaseModel):
    use_cache: bool = Field(True, description="Reuse stored outputs of unchanged nodes.")
