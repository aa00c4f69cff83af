"""Runs: submitted as Prefect deployment runs, followed through the engine's run record."""

from __future__ import annotations

import asyncio
import logging
import weakref

import anyio
from sqlalchemy.orm import Session

from api import access
from api.db import runs as run_rows
from api.db.models import FINISHED_STATUSES, Run, User, Workflow
from api.db.workflows import get_version
from api.schemas import Progress, RunPublic
from api.services.run_logs import node_of_task_run
from flowza.errors import FlowzaError
from flows.recorder import first_failure, load_run
from flows.store import StoreError
from flows.validation import compile_plan
from flowza.settings import get_settings

log = logging.getLogger(__name__)


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
    """Validate a version (default: current) and commit a pending run; ``submit`` hands it to Prefect."""
    version = version or workflow.current_version
    check_runnable(session, user, get_version(session, workflow.id, version).definition)
    run = run_rows.create_run(session, workflow.id, owner_id=user.id if user else None, use_cache=use_cache,
                              workflow_version=version)
    session.commit()  # visible before the worker can report on it, and no transaction held across the submission
    return run


async def submit(run_id: str) -> None:
    """Submit a committed pending run as a deployment run (after the answer is sent); a failure fails the run.

    Prefect's SQLite server refuses concurrent flow-run inserts ("database is locked", retried for
    seconds), so each API process submits one run at a time; a burst queues here, not in Prefect.
    """
    from deployments.runs import submit_run

    async with _submission_slot():
        run = await anyio.to_thread.run_sync(_pending, run_id)
        if run is None:  # cancelled while it waited
            return
        try:
            _, flow_run_id = await submit_run(run["definition"], use_cache=run["use_cache"], run_id=run_id,
                                               workflow_id=run["workflow_id"])
        except Exception as exc:
            log.exception("submitting run %s failed", run_id)
            await anyio.to_thread.run_sync(_failed_submission, run_id, str(exc))
            return
    if await anyio.to_thread.run_sync(_submitted, run_id, flow_run_id) == "cancelled":
        from prefect.client.orchestration import get_client
        from prefect.states import Cancelling

        async with get_client() as client:  # cancelled during its submission: stop it in Prefect too
            await client.set_flow_run_state(flow_run_id, Cancelling(message="cancelled from Flowza"), force=True)


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _submission_slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(1)
    return _slots[loop]


def _sessions():
    from api.deps import engine_for
    from api.db.session import session_factory

    return session_factory(engine_for(get_settings().metadata_db_url)).begin()


def _pending(run_id: str) -> dict | None:
    with _sessions() as session:
        run = run_rows.get_run(session, run_id)
        if run.status != "pending" or run.flow_run_id:
            return None
        return {"definition": get_version(session, run.workflow_id, run.workflow_version).definition,
                "use_cache": run.use_cache, "workflow_id": run.workflow_id}


def _submitted(run_id: str, flow_run_id: str) -> str:
    """Record the flow run id (the worker may have already); returns the run's status."""
    with _sessions() as session:
        run = run_rows.get_run(session, run_id)
        run.flow_run_id = run.flow_run_id or flow_run_id
        return run.status


def _failed_submission(run_id: str, reason: str) -> None:
    with _sessions() as session:
        if run_rows.get_run(session, run_id).status != "pending":
            return  # cancelled meanwhile
        run_rows.update_run_status(session, run_id, "failed", error={
            "code": "PREFECT_UNAVAILABLE", "node_id": None,
            "message": f"could not submit the run to Prefect ({reason}): are the Prefect server and the Flowza "
                       f"worker running (`flowza up`)?"})


def refresh(session: Session, run: Run) -> Run:
    """Bring an unfinished run up to date from the record the engine keeps while it runs."""
    if run.status in FINISHED_STATUSES:
        return run
    from flows.engine import open_default_store

    try:
        record = load_run(open_default_store(), run.id)
    except StoreError:
        return _from_prefect(session, run)  # not started by a worker (yet)
    status = record.get("status", "running")
    return run_rows.update_run_status(session, run.id, status, record=record, error=record.get("error"))


def _from_prefect(session: Session, run: Run) -> Run:
    """A run without a record ends only in Prefect: cancelled while queued, or crashed."""
    if not run.flow_run_id:
        return run
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run.flow_run_id).state
    if state is None or not state.is_final():
        return run
    if state.is_cancelled():
        return run_rows.update_run_status(session, run.id, "cancelled")
    if not state.is_completed():
        return run_rows.update_run_status(session, run.id, "failed", error={
            "code": "RUN_FAILED", "message": state.message or f"the flow run ended {state.name}", "node_id": None})
    return run


def cancel(session: Session, run: Run) -> Run:
    """Ask Prefect to cancel: queued runs never start, running ones stop before their next node."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelling

    run = refresh(session, run)
    if run.status in FINISHED_STATUSES:
        raise FlowzaError(f"run '{run.id}' already {run.status}", code="CONFLICT")
    if not run.flow_run_id:  # still waiting for its turn to be submitted: it never will be
        return run_rows.update_run_status(session, run.id, "cancelled")
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run.flow_run_id, Cancelling(message="cancelled from Flowza"), force=True)
    return run


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
        nodes=record.get("nodes", {}), metrics=record.get("metrics", {}), links=_links(run))


def _error(run: Run, record: dict) -> dict | None:
    """Why a failed run failed; runs recorded before the run-level error existed get it from their nodes."""
    if run.status != "failed":
        return None
    return run.error or record.get("error") or first_failure(record)


def _links(run: Run) -> dict[str, str]:
    from prefect.settings import PREFECT_UI_URL

    ui = PREFECT_UI_URL.value()  # derived from PREFECT_API_URL unless set
    return {"prefect_flow_run": f"{ui.rstrip('/')}/runs/flow-run/{run.flow_run_id}"} if ui and run.flow_run_id else {}
