"""Flowza's Prefect deployment: define it, and submit workflow runs to it."""

from __future__ import annotations

import logging
from uuid import UUID

from prefect.client.orchestration import PrefectClient

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
        description="Runs a Flowza workflow: one task per node. Parameters `workflow_id` and "
                    "`workflow_version` name a saved workflow (Flowza's runs); `workflow`, a workflow JSON, "
                    "runs it as a new workflow owned by nobody.",
        tags=["flowza"])
    return str(await deployment.apply())


async def submit_run(client: PrefectClient, workflow_id: str, workflow_version: int, *, run_id: str,
                     use_cache: bool = True) -> str:
    """Start a deployment run of a saved workflow version; returns the Prefect flow run id at once.

    The flow run carries a reference, not the definition: the worker reads the version from the
    metadata database. ``run_id`` is the idempotency key: submitting the same run again (a retry,
    a second API process) returns the flow run already created. One request per run (the
    deployment's id is looked up once per Prefect server), on the caller's long-lived client.
    """
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Scheduled

    server = str(client.api_url)
    deployment_id = _deployment_ids.get(server)
    if deployment_id is None:
        deployment_id = _deployment_ids[server] = (await client.read_deployment_by_name(DEPLOYMENT_PATH)).id
    try:
        flow_run = await client.create_flow_run_from_deployment(
            deployment_id, parameters={"workflow_id": workflow_id, "workflow_version": workflow_version,
                                       "run_id": run_id, "use_cache": use_cache},
            state=Scheduled(), idempotency_key=run_id, tags=["flowza"])
    except ObjectNotFound:
        _deployment_ids.pop(server, None)  # a new Prefect database: look it up again next time
        raise
    return str(flow_run.id)


_deployment_ids: dict[str, UUID] = {}
