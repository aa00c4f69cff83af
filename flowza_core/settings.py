"""The one settings object, read from ``FLOWZA_*`` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


MEMORY_PER_DATASET = 4  # a table in memory takes about three times its CSV, and a node holds one copy more
SMALLEST_DATASET_LIMIT_MB = 256


def memory_mb() -> float | None:
    """This machine's memory in MB, or its container's limit (cgroup v2 or v1) when lower; None if unknown."""
    try:
        found = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (ValueError, OSError, AttributeError):  # not a POSIX system that says
        found = None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            limit = int(Path(limit_file).read_text().strip()) / 2**20  # "max": no limit
        except (OSError, ValueError):
            continue
        found = min(found, limit) if found else limit
    return found


def default_max_dataset_mb() -> float:
    """FLOWZA_MAX_DATASET_MB's default: a quarter of the memory, so a table that loads leaves room to work on it."""
    memory = memory_mb()
    return max(SMALLEST_DATASET_LIMIT_MB, round(memory / MEMORY_PER_DATASET)) if memory else 2048


def default_worker_runs() -> int:
    """FLOWZA_WORKER_RUNS's default: twice the CPUs this process may use. Nodes are CPU-bound; more runs at once
    only make each slower, and a worker that takes every queued run at once floods the Prefect server."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 2 * cpus


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWZA_", extra="ignore")

    home: Path = Field(default=Path("~/.flowza"), description="Embedded state: databases, object store, logs.")
    data_dir: Path = Field(default=Path("."), description="Root for relative data file paths; paths may not escape it.")
    object_store_url: str | None = Field(
        default=None, description="file:///path or s3://bucket/prefix; default: a folder under FLOWZA_HOME.")
    s3_endpoint_url: str | None = Field(default=None, description="S3 API endpoint (MinIO, moto); default: AWS.")
    max_dataset_mb: float = Field(
        default_factory=default_max_dataset_mb, gt=0,
        description="Largest input file a loader accepts; default: a quarter of the memory of the machine (or of "
                    "the container's limit), at least 256 MB.")
    allow_file_paths: bool | None = Field(
        default=None, description="Whether csv_loader may read a file_path under FLOWZA_DATA_DIR (never inside "
                                  "FLOWZA_HOME); default: yes in single-user mode, no in multi-user mode, where "
                                  "users read only their own uploads.")
    prefect_port: int = Field(default=4200, description="Port of a local Prefect server to use when running.")
    api_port: int = Field(default=8000, description="Port of the API and editor started by `flowza up`.")
    mlflow_port: int = Field(default=5000, description="Port of the MLflow server started by `flowza up`.")
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking server or database; default: MLFLOW_TRACKING_URI, else "
                                  "SQLite under FLOWZA_HOME.")
    mlflow_timeout_s: int = Field(
        default=10, ge=1, le=600, description="How long the API waits for MLflow before answering 503 "
                                              "MLFLOW_UNAVAILABLE (each MLflow request is retried at most twice).")
    mlflow_worker_timeout_s: int = Field(
        default=20, ge=1, le=600, description="How long a run waits for each MLflow request (logging, registering; "
                                              "retried at most twice) before its node fails.")
    prefect_timeout_s: int = Field(
        default=10, ge=1, le=600, description="How long the API waits for each Prefect request (logs, cancel) "
                                              "before answering 503 PREFECT_UNAVAILABLE.")
    mlflow_artifact_root: str | None = Field(
        default=None, description="Where new experiments keep artifacts (a path or s3://bucket/prefix); "
                                  "default: a folder under FLOWZA_HOME.")
    database_url: str | None = Field(
        default=None, description="Flowza's metadata database (SQLAlchemy URL, e.g. postgresql://…); "
                                  "default: SQLite under FLOWZA_HOME.")
    auth_enabled: bool = Field(
        default=False, description="Multi-user mode: accounts, JWT logins, owners and sharing. Off: one local "
                                   "user, no login (the embedded default, bound to 127.0.0.1).")
    secret_key: str | None = Field(
        default=None, description="Signs login tokens; default: a random key kept in FLOWZA_HOME/secret_key.")
    token_minutes: int = Field(default=24 * 60, gt=0, description="How long a login token is valid.")
    max_upload_mb: float = Field(default=200, gt=0, description="Largest CSV upload accepted.")
    max_request_mb: float = Field(
        default=4, gt=0, description="Largest request body accepted outside uploads (JSON: workflows, parameters); "
                                     "a larger one is refused with 413 REQUEST_TOO_LARGE while it streams in.")
    max_workflow_nodes: int = Field(
        default=5000, gt=0, description="Most nodes a workflow may have; a larger one is refused when saved or run.")
    runs_per_minute: int = Field(
        default=60, gt=0, description="Run submissions allowed per user (and per client IP) per minute.")
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default=[], description="Reverse proxies (comma-separated IPs or CIDRs) whose X-Forwarded-For header "
                                "names the client for per-IP limits; otherwise the header is ignored.")
    min_schedule_seconds: int = Field(
        default=60, ge=1, description="Shortest interval between two runs of a schedule (cron or interval).")
    login_failures_per_ip: int = Field(
        default=50, ge=1, description="Failed logins one client IP may make in 15 minutes, whatever the accounts "
                                      "(each account allows 5); then 429 with Retry-After.")
    submissions_in_flight: int = Field(
        default=4, ge=1, le=64, description="Accepted runs each API process hands to Prefect at the same time.")
    submission_deadline_s: float = Field(
        default=600, gt=0, description="How long an accepted run's submissions may keep failing (Prefect "
                                       "unreachable) before it fails with PREFECT_UNAVAILABLE.")
    worker_timeout_s: float = Field(
        default=30, ge=3, description="A worker silent this long is gone: its running runs become `crashed` "
                                      "(it reports every third of this).")
    prediction_log_flush_s: float = Field(
        default=0.5, gt=0, le=60, description="How often the prediction log writes its buffered rows to the metadata "
                                              "database (also at 500 rows): a crash (SIGKILL) loses at most this "
                                              "window; a graceful stop loses nothing that was answered 200.")
    alias_poll_s: float = Field(
        default=10, gt=0, description="How often each API process re-reads its deployments: a followed alias that "
                                      "moved is loaded and swapped in, deployments changed elsewhere follow.")
    predictions_per_minute_per_ip: int = Field(
        default=60000, ge=1, description="Invocations of prediction endpoints one client IP may make per minute; "
                                         "then 429 with Retry-After.")
    alert_webhook_url: str | None = Field(
        default=None, description="Where monitoring POSTs an alert (JSON) when drift or an accuracy drop crosses a "
                                  "deployment's thresholds; unset: alerts are only logged and listed.")
    llm_base_url: str | None = Field(
        default=None, description="An OpenAI-compatible API (e.g. https://api.openai.com/v1) that drafts workflows "
                                  "from prompts; unset: the built-in offline planner does.")
    llm_api_key: str | None = Field(default=None, description="Bearer key for FLOWZA_LLM_BASE_URL, if it needs one.")
    llm_model: str | None = Field(default=None, description="The chat model FLOWZA_LLM_BASE_URL is asked with.")
    llm_timeout_s: float = Field(default=60, gt=0, le=600, description="How long one LLM request may take.")
    worker_runs: int = Field(
        default_factory=default_worker_runs, ge=1, le=1000,
        description="Runs a Flowza worker takes at once (its Prefect worker limit); the rest wait in the pool for "
                    "it or another worker; default: twice the CPUs.")
    dask_address: str | None = Field(
        default=None, description="The Dask scheduler (tcp://host:8786) on whose workers a workflow with "
                                  "`\"runner\": {\"type\": \"dask\"}` computes its nodes when it names none; in "
                                  "multi-user mode the only scheduler workflows may use.")
    http_allow_private: bool = Field(
        default=False, description="Whether http_request may reach loopback, private, link-local (cloud metadata) "
                                   "and other non-public addresses; off: only public hosts.")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def data_root(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def tracking_uri(self) -> str:
        uri = self.mlflow_tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        return uri or f"sqlite:///{self.home_dir / 'mlflow' / 'mlflow.db'}"

    @property
    def artifact_root(self) -> str:
        return self.mlflow_artifact_root or (self.home_dir / "mlflow" / "artifacts").as_uri()

    @property
    def metadata_db_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = self.home_dir / "flowza.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"

    @property
    def store_url(self) -> str:
        return self.object_store_url or (self.home_dir / "store").as_uri()


@lru_cache
def get_settings() -> Settings:
    return Settings()
