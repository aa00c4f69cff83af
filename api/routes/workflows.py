"""Workflows: save, version, list, run (the seed's paths, kept as they were)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Query, status

from api import access
from api.auth import CurrentUser, user_id
from metadata_db import runs as run_rows
from metadata_db import workflows as rows
from metadata_db.models import Workflow
from api.deps import SessionDep
from api.rate_limit import limit_run_submissions
from api.schemas import ExecuteRequest, Offset, RunCreated, RunPublic, WorkflowListed, WorkflowPublic
from api.services import runs, schedules
from api.services.workflows import save_version
from flowza_core.errors import FlowzaError
from flows.spec import WorkflowSpec
from flows.validation import compile_plan

router = APIRouter(prefix="/api/workflows", tags=["workflows"])
SubmitsRun = Depends(limit_run_submissions)
QUEUED = ("Answers 200 at once, with the run queued (`status` \"pending\"): the run goes on in the background. "
          "Follow it at `GET /api/runs/{run_id}`, `GET /api/workflows/{workflow_id}/status` or over WebSocket.")


def _summary(workflow: Workflow) -> dict:
    return {"id": workflow.id, "name": workflow.name, "description": workflow.description, "tags": workflow.tags,
            "current_version": workflow.current_version, "created_at": workflow.created_at,
            "updated_at": workflow.updated_at}


def to_public(session, workflow: Workflow) -> WorkflowPublic:
    version = rows.get_version(session, workflow.id, workflow.current_version)
    return WorkflowPublic(**_summary(workflow), definition=version.definition)


def latest_run(session, workflow_id: str):
    found = run_rows.list_runs(session, workflow_id=workflow_id, limit=1)
    if not found:
        raise FlowzaError(f"workflow '{workflow_id}' has not been run yet", code="NOT_FOUND")
    return runs.refresh(session, found[0])


@router.get("/", summary="Saved workflows, most recently changed first")
def list_workflows(session: SessionDep, user: CurrentUser, tag: str | None = None,
                   definition: bool = Query(True, description="Include each current definition (the default, for "
                                                              "existing clients); false lists summaries only."),
                   limit: int | None = Query(None, ge=1, le=1000, description="At most this many (default: all)."),
                   offset: Offset = 0) -> list[WorkflowListed]:
    visible = access.visible_to(user)
    if definition:
        return [WorkflowListed(**_summary(w), definition=d)
                for w, d in rows.list_with_definitions(session, visible, tag=tag, limit=limit, offset=offset)]
    return [WorkflowListed(**_summary(w))
            for w in rows.list_workflows(session, visible, tag=tag, limit=limit, offset=offset)]


@router.post("/", status_code=status.HTTP_201_CREATED, summary="Save a workflow (version 1)")
def create_workflow(session: SessionDep, user: CurrentUser, workflow: WorkflowSpec) -> WorkflowPublic:
    return to_public(session, rows.create_workflow(session, user_id(user), workflow.to_json_dict()))


# 200, not 202: the seed's clients (and its validation script) check for 200.
@router.post("/run", status_code=status.HTTP_200_OK, summary="Save a workflow and run it",
             description=f"Validates and saves the workflow (version 1), then submits a run. {QUEUED}",
             dependencies=[SubmitsRun])
def create_and_run(session: SessionDep, user: CurrentUser, workflow: WorkflowSpec, background: BackgroundTasks,
                   use_cache: bool = True) -> RunCreated:
    definition = workflow.to_json_dict()
    compile_plan(definition)  # before the first write: a large workflow holds no write lock while it is checked
    saved = rows.create_workflow(session, user_id(user), definition)
    run = runs.start_run(session, saved, user=user, use_cache=use_cache)  # a refusal rolls the save back
    background.add_task(runs.submit, run.id)  # after the answer: Prefect may take a while under load
    return RunCreated(workflow_id=saved.id, run_id=run.id, status=run.status, flow_run_id=run.flow_run_id)


@router.get("/{workflow_id}", summary="A workflow and its current definition")
def get_workflow(session: SessionDep, user: CurrentUser, workflow_id: str) -> WorkflowPublic:
    return to_public(session, access.workflow(session, user, workflow_id))


@router.put("/{workflow_id}", summary="Save a new version")
async def update_workflow(session: SessionDep, user: CurrentUser, workflow_id: str,
                          workflow: WorkflowSpec) -> WorkflowPublic:
    found = access.workflow(session, user, workflow_id, "edit", for_update=True)
    return to_public(session, await save_version(session, user, found, workflow.to_json_dict()))


@router.delete("/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete (restorable)")
async def delete_workflow(session: SessionDep, user: CurrentUser, workflow_id: str) -> None:
    access.workflow(session, user, workflow_id, "own")
    await schedules.sync(session, rows.soft_delete_workflow(session, workflow_id))  # pauses its schedules


@router.post("/{workflow_id}/execute", status_code=status.HTTP_200_OK, summary="Run the current version",
             description=f"Submits a run of the workflow's current version. {QUEUED}", dependencies=[SubmitsRun])
def execute(session: SessionDep, user: CurrentUser, workflow_id: str, background: BackgroundTasks,
            request: ExecuteRequest | None = None) -> RunCreated:
    workflow = access.workflow(session, user, workflow_id, "edit")
    run = runs.start_run(session, workflow, user=user, use_cache=(request or ExecuteRequest()).use_cache)
    background.add_task(runs.submit, run.id)
    return RunCreated(workflow_id=workflow_id, run_id=run.id, status=run.status, flow_run_id=run.flow_run_id)


@router.get("/{workflow_id}/status", summary="The latest run's status")
def run_status(session: SessionDep, user: CurrentUser, workflow_id: str) -> RunPublic:
    access.workflow(session, user, workflow_id)
    return runs.to_public(latest_run(session, workflow_id))


@router.get("/{workflow_id}/progress", summary="The latest run's progress, node by node")
def progress(session: SessionDep, user: CurrentUser, workflow_id: str) -> dict:
    access.workflow(session, user, workflow_id)
    public = runs.to_public(latest_run(session, workflow_id))
    return {"workflow_id": workflow_id, "run_id": public.run_id, "status": public.status,
            **public.progress.model_dump(), "nodes": {nid: n.get("status") for nid, n in public.nodes.items()}}


@router.get("/{workflow_id}/results", summary="The latest run's outputs and metrics")
def results(session: SessionDep, user: CurrentUser, workflow_id: str) -> dict:
    access.workflow(session, user, workflow_id)
    public = runs.to_public(latest_run(session, workflow_id))
    return {"workflow_id": workflow_id, "run_id": public.run_id, "status": public.status,
            "results": {nid: {k: n.get(k) for k in ("status", "cached", "duration_s", "outputs", "metrics", "error")
                              if n.get(k) is not None} for nid, n in public.nodes.items()},
            "metrics": public.metrics}
