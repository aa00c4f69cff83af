"""Runs: list and detail, with per-node status, timings, errors, outputs and metrics."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Query

from api import access
from api.auth import CurrentUser
from metadata_db import runs as run_rows
from api.deps import SessionDep
from api.rate_limit import limit_run_submissions
from api.schemas import Offset, RunCreated, RunPublic
from api.services import runs

router = APIRouter(prefix="/api/runs", tags=["runs"])


@router.get("/", summary="Runs, newest first")
def list_runs(session: SessionDep, user: CurrentUser, workflow_id: str | None = None,
              limit: int = Query(50, ge=1, le=500), offset: Offset = 0) -> list[RunPublic]:
    found = run_rows.list_runs(session, workflow_id=workflow_id, visible_to=access.visible_to(user), limit=limit,
                               offset=offset)
    return [runs.to_public(runs.refresh(session, run, ask_prefect=False)) for run in found]


@router.get("/{run_id}", summary="One run in detail")
def get_run(session: SessionDep, user: CurrentUser, run_id: str) -> RunPublic:
    return runs.to_public(runs.refresh(session, access.run(session, user, run_id)))


@router.post("/{run_id}/cancel", status_code=202, summary="Cancel: queued runs never start, running ones stop "
                                                         "before their next node")
def cancel_run(session: SessionDep, user: CurrentUser, run_id: str) -> RunPublic:
    return runs.to_public(runs.cancel(session, access.run(session, user, run_id, "edit")))


@router.post("/{run_id}/rerun", status_code=202, summary="Run the same version again: unchanged nodes are "
                                                          "reused, so a failed run resumes at its failed node",
             dependencies=[Depends(limit_run_submissions)])
def rerun(session: SessionDep, user: CurrentUser, run_id: str, background: BackgroundTasks) -> RunCreated:
    previous = access.run(session, user, run_id, "edit")
    workflow = access.workflow(session, user, previous.workflow_id, "edit")
    run = runs.start_run(session, workflow, user=user, version=previous.workflow_version, use_cache=True)
    background.add_task(runs.submit, run.id)
    return RunCreated(workflow_id=workflow.id, run_id=run.id, status=run.status, flow_run_id=run.flow_run_id)


@router.get("/{run_id}/logs", summary="Log lines from Prefect, oldest first, each with its node")
def run_logs(session: SessionDep, user: CurrentUser, run_id: str, node_id: str | None = None,
             limit: int = Query(1000, ge=1, le=10000)) -> list[dict]:
    return runs.logs(runs.refresh(session, access.run(session, user, run_id), ask_prefect=False), node_id, limit)
