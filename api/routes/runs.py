"""Runs: list and detail, with per-node status, timings, errors, outputs and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.db import runs as run_rows
from api.db.workflows import get_workflow
from api.deps import SessionDep
from api.schemas import RunCreated, RunPublic
from api.services import runs

router = APIRouter(prefix="/api/runs", tags=["runs"])


@router.get("/", summary="Runs, newest first")
def list_runs(session: SessionDep, workflow_id: str | None = None, limit: int = Query(50, ge=1, le=500),
              offset: int = Query(0, ge=0)) -> list[RunPublic]:
    found = run_rows.list_runs(session, workflow_id=workflow_id, limit=limit, offset=offset)
    return [runs.to_public(runs.refresh(session, run)) for run in found]


@router.get("/{run_id}", summary="One run in detail")
def get_run(session: SessionDep, run_id: str) -> RunPublic:
    return runs.to_public(runs.refresh(session, run_rows.get_run(session, run_id)))


@router.post("/{run_id}/cancel", status_code=202, summary="Cancel: queued runs never start, running ones stop "
                                                         "before their next node")
async def cancel_run(session: SessionDep, run_id: str) -> RunPublic:
    return runs.to_public(await runs.cancel(session, run_rows.get_run(session, run_id)))


@router.post("/{run_id}/rerun", status_code=202, summary="Run the same version again: unchanged nodes are "
                                                          "reused, so a failed run resumes at its failed node")
async def rerun(session: SessionDep, run_id: str) -> RunCreated:
    previous = run_rows.get_run(session, run_id)
    workflow = get_workflow(session, previous.workflow_id)
    run = await runs.start_run(session, workflow, version=previous.workflow_version, use_cache=True)
    return RunCreated(workflow_id=workflow.id, run_id=run.id, status=run.status, flow_run_id=run.flow_run_id)


@router.get("/{run_id}/logs", summary="Log lines from Prefect, oldest first, each with its node")
async def run_logs(session: SessionDep, run_id: str, node_id: str | None = None,
                   limit: int = Query(1000, ge=1, le=10000)) -> list[dict]:
    return await runs.logs(runs.refresh(session, run_rows.get_run(session, run_id)), node_id, limit)
