"""Schedules of saved workflows: rows in the metadata DB, mirrored onto the workflow's Prefect deployment.

Every change is written to the DB first (flushed, not committed), then to Prefect; when Prefect
refuses or cannot be reached the change raises ``PrefectUnavailable`` (503) and the request's
transaction is rolled back, so both sides keep agreeing.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from croniter import CroniterBadDateError, croniter
from sqlalchemy import select
from sqlalchemy.orm import Session

from metadata_db.errors import NotFound
from metadata_db.models import Schedule, User, Workflow
from metadata_db.workflows import get_version
from api.services.runs import PrefectUnavailable, check_runnable
from flowza_core.errors import InvalidParameter
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)
CRON_SAMPLE = 500  # fire times: a cron's fields combine as a product, so its shortest gap shows within these


def shortest_cron_gap_s(cron: str) -> float:
    """The shortest time between two runs of a valid ``cron`` (with a sixth field, croniter counts seconds)."""
    fires, times = croniter(cron, datetime(2026, 1, 1, tzinfo=UTC)), []
    try:
        while len(times) < CRON_SAMPLE:
            times.append(fires.get_next(float))
    except CroniterBadDateError:  # a cron with a year field runs out
        pass
    return min((b - a for a, b in zip(times, times[1:])), default=math.inf)


def too_frequent(every_s: float) -> str | None:
    """Why a schedule starting a run every ``every_s`` seconds is refused, or None when it is allowed."""
    minimum = get_settings().min_schedule_seconds
    if every_s >= minimum:
        return None
    return (f"runs would start every {every_s:g} s, and a schedule may start one at most every {minimum} s "
            f"(FLOWZA_MIN_SCHEDULE_SECONDS)")


def list_schedules(session: Session, workflow_id: str) -> list[Schedule]:
    """Oldest first."""
    query = select(Schedule).where(Schedule.workflow_id == workflow_id).order_by(Schedule.created_at, Schedule.id)
    return list(session.scalars(query))


def get_schedule(session: Session, workflow_id: str, schedule_id: str) -> Schedule:
    found = session.get(Schedule, schedule_id)
    if found is None or found.workflow_id != workflow_id:
        raise NotFound("schedule", schedule_id)
    return found


async def timezones(workflow_id: str) -> dict[str, str | None]:
    """The timezone of each schedule, by id, as Prefect holds it (the DB keeps no timezone)."""
    from deployments.schedules import read_timezones

    try:
        return await read_timezones(workflow_id) or {}
    except Exception as exc:
        raise _unavailable("read", exc) from exc


async def add_schedule(session: Session, workflow: Workflow, user: User | None, *, cron: str | None,
                       interval_seconds: int | None, timezone: str | None, active: bool) -> tuple[Schedule, str | None]:
    """The new schedule and its timezone."""
    if active:
        _check_runnable(session, workflow, user)
    row = Schedule(workflow_id=workflow.id, cron=cron, interval_seconds=interval_seconds, active=active)
    session.add(row)
    session.flush()
    held = await _mirror(session, workflow, requested={row.id: timezone or "UTC"})
    return row, held.get(row.id)


async def set_active(session: Session, workflow: Workflow, user: User | None, schedule_id: str,
                     active: bool) -> tuple[Schedule, str | None]:
    """Pause or resume a schedule; returns it and its timezone."""
    row = get_schedule(session, workflow.id, schedule_id)
    if active and not row.active:
        every = row.interval_seconds if row.interval_seconds is not None else shortest_cron_gap_s(row.cron)
        if problem := too_frequent(every):  # a schedule made before FLOWZA_MIN_SCHEDULE_SECONDS was raised
            raise InvalidParameter(f"cannot resume this schedule: {problem}", field="active")
        _check_runnable(session, workflow, user)
    row.active = active
    session.flush()
    held = await _mirror(session, workflow)
    return row, held.get(row.id)


async def delete_schedule(session: Session, workflow: Workflow, schedule_id: str) -> None:
    session.delete(get_schedule(session, workflow.id, schedule_id))
    session.flush()
    await _mirror(session, workflow)


async def sync(session: Session, workflow: Workflow) -> None:
    """Bring the workflow's deployment up to date after its definition changed or it was (un)deleted."""
    if list_schedules(session, workflow.id):
        await _mirror(session, workflow)


async def _mirror(session: Session, workflow: Workflow,
                  requested: dict[str, str] | None = None) -> dict[str, str | None]:
    """Make the Prefect deployment hold exactly the workflow's schedules and its current definition.

    ``requested`` gives timezones of new schedules; the others keep theirs. Returns every timezone.
    """
    from deployments.schedules import ScheduleSpec, apply_workflow_deployment, delete_workflow_deployment

    rows = list_schedules(session, workflow.id)
    deleted = workflow.deleted_at is not None  # a deleted workflow keeps its schedules, paused, until restored
    specs = [ScheduleSpec(r.id, r.cron, r.interval_seconds, r.active and not deleted, r.created_at,
                          (requested or {}).get(r.id)) for r in rows]
    definition = get_version(session, workflow.id, workflow.current_version).definition
    deployment_id, held = None, {}
    try:
        if specs:
            deployment_id, held = await apply_workflow_deployment(workflow.id, definition, specs)
        else:
            await delete_workflow_deployment(workflow.id)
    except Exception as exc:  # Prefect's client raises many types (HTTP, connection, apply errors)
        raise _unavailable("update", exc) from exc
    for row in rows:
        row.prefect_deployment_id = deployment_id
    session.flush()
    return held


def _check_runnable(session: Session, workflow: Workflow, user: User | None) -> None:
    """Scheduling a draft would only produce failed runs, and another user's dataset is not theirs to read."""
    check_runnable(session, user, get_version(session, workflow.id, workflow.current_version).definition)


def _unavailable(verb: str, exc: Exception) -> PrefectUnavailable:
    log.error("could not %s the schedules in Prefect: %s", verb, exc, exc_info=exc)
    return PrefectUnavailable(f"could not {verb} the workflow's schedules in Prefect ({type(exc).__name__}); "
                              f"nothing was changed: is the Prefect server running (`flowza up`)?")
