"""Flowza's Prefect deployment: define it, and submit workflow runs to it."""

from __future__ import annotations

import logging
import uuid

from flows.engine import run_workflow

log = logging.getLogger(__name__)

WORK_POOL = "flowza"
DEPLOYMENT = "run-workflow"
DEPLOYMENT_PATH = f"{run_workflow.name}/{DEPLOYMENT}"


async def apply_deployment(work_pool: str = WORK_POOL) -> str:
    """Create or update the ``run-workflow`` deployment (parameter schema enforced); returns its id."""
    from prefect.types.entrypoint import EntrypointType

    # A module path, not a file path: it does not depend on the directory the worker started in.
    deployment = await run_workflow.ato_deployment(
        name=DEPLOYMENT, work_pool_name=work_pool, enforce_parameter_schema=True,
        entrypoint_type=EntrypointType.MODULE_PATH,
        description="Runs a Flowza workflow: one task per node. Parameter `workflow` is the workflow JSON.",
        tags=["flowza"])
    return str(await deployment.apply())


async def submit_run(workflow: dict, *, use_cache: bool = True, run_id: str | None = None,
                     workflow_id: str | None = None, schedule_name: str | None = None) -> tuple[str, str]:
    """Start a deployment run of a workflow; returns (Flowza run id, Prefect flow run id) at once."""
    from prefect.deployments import arun_deployment

    run_id = run_id or uuid.uuid4().hex
    flow_run = await arun_deployment(
        DEPLOYMENT_PATH, parameters={"workflow": workflow, "use_cache": use_cache, "run_id": run_id,
                                         "workflow_id": workflow_id},
        timeout=0, idempotency_key=run_id, tags=["flowza"] + ([schedule_name] if schedule_name else []))
    return run_id, str(flow_run.id)
