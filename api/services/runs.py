"""Runs: submitted as Prefect deployment runs, followed through the engine's run record."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
from sqlalchemy.orm import Session

from api import access
from metadata_db import runs as run_rows
from metadata_db import workers as worker_rows
from metadata_db.base import utcnow
from metadata_db.models import FINISHED_STATUSES, Run, User, Workflow
from metadata_db.workflows import get_version
from api.schemas import Progress, RunPublic
from api.services import submissions
from api.services.run_logs import node_of_task_run
from flowza_core.errors import FlowzaError
from flows.recorder import first_failure, load_run
from flows.store import StoreError
from flows.validation import compile_plan
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)
GLANCE_TIMEOUT_S = 5  # how long reading one run waits for Prefect: the reconciler settles what this misses


class PrefectUnavailable(FlowzaError):
    code = "PREFECT_UNAVAILABLE"


def check_runnable(session: Session, user: User | None, definition: dict) -> None:
    """Refuse a workflow that is invalid (422 listing every problem) or reads another user's dataset (404)."""
    plan = compile_plan(definition)
    for params in plan.params.values():
        if dataset_id := getattr(params, "dataset_id", None):
            access.dataset(session, user, dataset_id)


def start_run(session: Session, workflow: Workflow, *, user: User | None = None, use_cache: bool = True,
              version: int | None = None) -> Run:
    """Validate a version (default: current) and commit a pending run: the outbox hands it to Prefect."""
    version = version or workflow.current_version
    check_runnable(session, user, get_version(session, workflow.id, version).definition)
    run = run_rows.create_run(session, workflow.id, owner_id=user.id if user else None, use_cache=use_cache,
                              workflow_version=version)
    session.commit()  # visible before the worker can report on it, and no transaction held across the submission
    return run


async def submit(run_id: str) -> None:
    """Submit a committed pending run: this process's submitter takes it from the outbox at once (after the
    answer is sent); the row itself is the outbox entry, so the run is submitted even if this process stops."""
    submissions.wake()


def refresh(session: Session, run: Run, *, ask_prefect: bool = True) -> Run:
    """Bring an unfinished run up to date from the record the engine keeps while it runs.

    A run without a record may have ended in Prefect before any worker started it; ``ask_prefect=False``
    (lists) leaves that to the reconciler, which asks Prefect about all such runs at once.
    """
    if run.status in FINISHED_STATUSES:
        return run
    from flows.engine import open_default_store

    try:
        record = load_run(open_default_store(), run.id)
    except StoreError:  # not started by a worker (yet)
        return _from_prefect(session, run) if ask_prefect else run
    status = record.get("status", "running")
    return run_rows.update_run_status(session, run.id, status, record=record, error=record.get("error"))


def _from_prefect(session: Session, run: Run) -> Run:
    """A run without a record ends only in Prefect: cancelled while queued, or crashed."""
    if not run.flow_run_id:
        return run
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    try:  # one short try: the reconciler asks again, so a busy Prefect never holds this request
        with (temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}),
              get_client(httpx_settings={"timeout": GLANCE_TIMEOUT_S}, sync_client=True) as client):
            state = client.read_flow_run(run.flow_run_id).state
    except ObjectNotFound:  # e.g. Prefect's database was reset: the row is all there is
        log.warning("run %s names flow run %s, which Prefect does not know", run.id, run.flow_run_id)
        return run
    except (httpx.TransportError, httpx.HTTPStatusError) as exc:  # a slow Prefect must not hide the run
        log.warning("could not read flow run %s of run %s from Prefect: %r", run.flow_run_id, run.id, exc)
        return run
    if state is None or not state.is_final():
        return run
    if state.is_cancelled():
        return run_rows.update_run_status(session, run.id, "cancelled")
    if not state.is_completed():
        return run_rows.update_run_status(session, run.id, "failed", error={
            "code": "RUN_FAILED", "message": state.message or f"the flow run ended {state.name}", "node_id": None})
    return run


def cancel(session: Session, run: Run) -> Run:
    """Ask Prefect to cancel: queued runs never start, running ones stop before their next node.

    A run no live worker holds (not yet claimed, or its worker is gone) is cancelled at once.
    """
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Cancelling

    run = refresh(session, run)
    if run.status in FINISHED_STATUSES:
        raise FlowzaError(f"run '{run.id}' already {run.status}", code="CONFLICT")
    if not run.flow_run_id:  # still in the outbox: it never will be submitted
        return run_rows.update_run_status(session, run.id, "cancelled")
    seen_after = utcnow() - timedelta(seconds=get_settings().worker_timeout_s)
    held = run.status == "running" and worker_rows.alive(session, run.worker_id, seen_after)
    with get_client(sync_client=True) as client:
        state = Cancelling(message="cancelled from Flowza") if held else Cancelled(message="cancelled from Flowza")
        client.set_flow_run_state(run.flow_run_id, state, force=True)
    if held:
        return run
    return run_rows.update_run_status(session, run.id, "cancelled")


def logs(run: Run, node_id: str | None = None, limit: int = 1000) -> list[dict]:
    """Log lines of a run from Prefect, each with the node it came from."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort

    if not run.flow_run_id:
        return []
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.flow_run_id])))
        node_ids = list((run.record or {}).get("nodes", {}))
        node_of = {tr.id: node_of_task_run(tr.name, node_ids) for tr in task_runs}
        log_filter, lines = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.flow_run_id])), []
        while len(lines) < limit:  # the API serves at most 200 lines a request
            page = client.read_logs(log_filter=log_filter, limit=min(200, limit - len(lines)),
                                          offset=len(lines), sort=LogSort.TIMESTAMP_ASC)
            lines += page
            if len(page) < 200:
                break
    out = [{"timestamp": line.timestamp.isoformat(), "level": logging.getLevelName(line.level),
            "node_id": node_of.get(line.task_run_id), "message": line.message} for line in lines]
    return [line for line in out if node_id is None or line["node_id"] == node_id]


def to_public(run: Run) -> RunPublic:
    record = run.record or {}
    progress = record.get("progress") or {}
    done, total = progress.get("done", 0), progress.get("total", 0)
    return RunPublic(
        run_id=run.id, workflow_id=run.workflow_id, workflow_version=run.workflow_version, status=run.status,
        progress=Progress(done=done, total=total, percent=round(100 * done / total, 1) if total else 0.0),
        flow_run_id=run.flow_run_id, mlflow_run_id=record.get("mlflow_run_id"),
        mlflow_model_runs=record.get("mlflow_model_runs") or {}, created_at=run.created_at,
        started_at=run.started_at, finished_at=run.finished_at, error=_error(run, record),
        nodes={node_id: public_node(node) for node_id, node in record.get("nodes", {}).items()},
        metrics=record.get("metrics", {}), links=_links(run))


def public_node(node: dict) -> dict:
    """A node of a run record as clients see it: without the ``file://`` URIs of its outputs (server paths)."""
    outputs = node.get("outputs")
    if not outputs:
        return node
    return {**node, "outputs": {port: {k: v for k, v in out.items() if k != "uri" or not str(v).startswith("file:")}
                                for port, out in outputs.items()}}


def _error(run: Run, record: dict) -> dict | None:
    """Why a failed or crashed run ended; runs recorded before the run-level error existed get it from their nodes."""
    if run.status not in ("failed", "crashed"):
        return None
    return run.error or record.get("error") or first_failure(record)


def _links(run: Run) -> dict[str, str]:
    from prefect.settings import PREFECT_UI_URL

    ui = PREFECT_UI_URL.value()  # derived from PREFECT_API_URL unless set
    return {"prefect_flow_run": f"{ui.rstrip('/')}/runs/flow-run/{run.flow_run_id}"} if ui and run.flow_run_id else {}
