"""Scheduled workflows in Prefect: one deployment of the workflow flow per scheduled workflow.

The deployment ``flowza-workflow/workflow-<workflow id>`` runs on the ``flowza`` work pool with
a reference to the workflow as its parameters (its current version runs); each Flowza schedule is
one of its Prefect schedules, identified by the slug ``flowza-<schedule id>``. Prefect's scheduler creates the flow
runs, Flowza's worker runs them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.schedules import Cron, Interval, Schedule
from prefect.types.entrypoint import EntrypointType

from deployments.runs import WORK_POOL
from flows.engine import run_workflow

log = logging.getLogger(__name__)


def deployment_name(workflow_id: str) -> str:
    return f"workflow-{workflow_id}"


def deployment_path(workflow_id: str) -> str:
    """``<flow name>/<deployment name>``, as ``run_deployment`` takes it."""
    return f"{run_workflow.name}/{deployment_name(workflow_id)}"


def schedule_slug(schedule_id: str) -> str:
    return f"flowza-{schedule_id}"


@dataclass(frozen=True)
class ScheduleSpec:
    """One Flowza schedule as Prefect should hold it."""

    schedule_id: str
    cron: str | None
    interval_seconds: int | None
    active: bool
    anchor: datetime  # interval schedules count from here, so re-applying them does not shift their runs
    timezone: str | None = None  # None: keep what Prefect holds for this schedule (UTC for a new one)

    def to_prefect(self) -> Schedule:
        slug = schedule_slug(self.schedule_id)
        if self.cron is not None:
            return Cron(self.cron, timezone=self.timezone, active=self.active, slug=slug)
        return Interval(timedelta(seconds=self.interval_seconds), anchor_date=self.anchor, timezone=self.timezone,
                        active=self.active, slug=slug)


def flow_parameters(workflow_id: str) -> dict:
    # A reference: each scheduled run runs the workflow's current version, read by the worker. The worker
    # attaches it to the saved workflow only because it comes from this deployment (Schedule.prefect_deployment_id).
    return {"workflow_id": workflow_id, "use_cache": True}


async def apply_workflow_deployment(workflow_id: str, definition: dict,
                                    schedules: list[ScheduleSpec]) -> tuple[str, dict[str, str | None]]:
    """Create or update the workflow's deployment so that it holds exactly ``schedules``.

    Returns the deployment's id and the timezone each schedule now has.
    """
    if not schedules:
        raise ValueError("a scheduled workflow's deployment needs at least one schedule")
    held = await _held(workflow_id) or {}
    schedules = [s if s.timezone or s.schedule_id not in held else replace(s, timezone=held[s.schedule_id].timezone)
                 for s in schedules]
    deployment = await run_workflow.ato_deployment(
        name=deployment_name(workflow_id), work_pool_name=WORK_POOL, enforce_parameter_schema=True,
        entrypoint_type=EntrypointType.MODULE_PATH,  # as the run-workflow deployment: independent of the cwd
        parameters=flow_parameters(workflow_id), tags=["flowza", "scheduled"],
        description=f"Scheduled runs of the Flowza workflow {workflow_id} ({definition.get('name', '')}).",
        schedules=[s.to_prefect() for s in schedules])
    deployment_id = await deployment.aapply()
    # Prefect updates schedules by slug and keeps those a request leaves out: remove them here.
    gone = set(held) - {s.schedule_id for s in schedules}
    if gone:
        async with get_client() as client:
            for schedule_id in gone:
                await client.delete_deployment_schedule(deployment_id, held[schedule_id].prefect_id)
    log.info("deployment %s holds %d schedule(s)", deployment_path(workflow_id), len(schedules))
    return str(deployment_id), {s.schedule_id: s.timezone for s in schedules}


async def delete_workflow_deployment(workflow_id: str) -> None:
    """Remove the deployment, its schedules and its runs not started yet; no deployment is fine."""
    async with get_client() as client:
        try:
            deployment = await client.read_deployment_by_name(deployment_path(workflow_id))
        except ObjectNotFound:
            return
        await client.delete_deployment(deployment.id)
    log.info("deleted deployment %s", deployment_path(workflow_id))


async def read_timezones(workflow_id: str) -> dict[str, str | None] | None:
    """The timezone of each schedule Prefect holds, by Flowza schedule id; None without a deployment."""
    held = await _held(workflow_id)
    return None if held is None else {schedule_id: h.timezone for schedule_id, h in held.items()}


@dataclass(frozen=True)
class _Held:
    prefect_id: str
    timezone: str | None


async def _held(workflow_id: str) -> dict[str, _Held] | None:
    """The Flowza schedules the deployment holds, by schedule id; None without a deployment."""
    async with get_client() as client:
        try:
            deployment = await client.read_deployment_by_name(deployment_path(workflow_id))
        except ObjectNotFound:
            return None
    prefix = schedule_slug("")
    return {s.slug.removeprefix(prefix): _Held(str(s.id), getattr(s.schedule, "timezone", None))
            for s in deployment.schedules if s.slug and s.slug.startswith(prefix)}
