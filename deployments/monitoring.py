"""Monitoring in Prefect: one deployment of the monitoring flow per model deployment, on an interval.

The deployment ``flowza-monitor/monitor-<deployment name>`` runs ``flows.monitoring.monitor_deployment``
on the ``flowza`` work pool (Flowza's worker runs it) with ``{"deployment_name": name}``; Prefect's
scheduler creates a run every ``interval_s``. The API applies it when a model deployment is created or
its interval changes, and deletes it with the deployment.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.types.entrypoint import EntrypointType

from deployments.runs import WORK_POOL
from deployments.schedules import ScheduleSpec
from flows.monitoring import monitor_deployment

log = logging.getLogger(__name__)
# Intervals count from a fixed instant: re-applying a deployment (each API start) keeps its run times.
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
SCHEDULE_ID = "monitoring"


def monitoring_deployment_name(deployment_name: str) -> str:
    return f"monitor-{deployment_name}"


def monitoring_deployment_path(deployment_name: str) -> str:
    """``<flow name>/<deployment name>``, as ``run_deployment`` takes it."""
    return f"{monitor_deployment.name}/{monitoring_deployment_name(deployment_name)}"


async def apply_monitoring_deployment(deployment_name: str, interval_s: int) -> None:
    """Create or update the model deployment's monitoring deployment, scheduled every ``interval_s`` seconds."""
    schedule = ScheduleSpec(SCHEDULE_ID, cron=None, interval_seconds=interval_s, active=True, anchor=ANCHOR)
    deployment = await monitor_deployment.ato_deployment(
        name=monitoring_deployment_name(deployment_name), work_pool_name=WORK_POOL, enforce_parameter_schema=True,
        entrypoint_type=EntrypointType.MODULE_PATH, parameters={"deployment_name": deployment_name},
        tags=["flowza", "monitoring"], schedules=[schedule.to_prefect()],
        description=f"Drift, accuracy, latency and volume of the model deployment '{deployment_name}', "
                    f"every {interval_s} s; alerts past its thresholds.")
    await deployment.aapply()
    log.info("deployment %s runs every %d s", monitoring_deployment_path(deployment_name), interval_s)


async def delete_monitoring_deployment(deployment_name: str) -> None:
    """Remove the monitoring deployment, its schedule and its runs not started yet; none is fine."""
    async with get_client() as client:
        try:
            deployment = await client.read_deployment_by_name(monitoring_deployment_path(deployment_name))
            await client.delete_deployment(deployment.id)
        except ObjectNotFound:  # none, or deleted meanwhile (a retried DELETE whose first try went through)
            return
    log.info("deleted deployment %s", monitoring_deployment_path(deployment_name))


async def run_monitoring_now(deployment_name: str, interval_s: int) -> str:
    """Start a run of the monitoring deployment now (applied first if Prefect does not hold it); its flow run id."""
    from prefect.deployments.flow_runs import arun_deployment

    path = monitoring_deployment_path(deployment_name)
    try:
        flow_run = await arun_deployment(path, timeout=0, tags=["flowza", "monitoring"])
    except ObjectNotFound:
        await apply_monitoring_deployment(deployment_name, interval_s)
        flow_run = await arun_deployment(path, timeout=0, tags=["flowza", "monitoring"])
    return str(flow_run.id)
