"""Schedules of a saved workflow: cron or interval runs of its current version, through Prefect's scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import Self
from zoneinfo import available_timezones

from croniter import croniter
from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api import access
from api.auth import CurrentUser
from metadata_db.models import Schedule
from api.deps import SessionDep
from api.services import schedules

router = APIRouter(prefix="/api/workflows", tags=["schedules"])


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: str | None = Field(None, max_length=120, examples=["0 6 * * 1-5"],
                             description="A cron expression (5 fields); give this or interval_seconds.")
    interval_seconds: int | None = Field(None, gt=0, le=366 * 24 * 3600, examples=[3600],
                                         description="Run every this many seconds; give this or cron. At "
                                                     "least FLOWZA_MIN_SCHEDULE_SECONDS (default 60).")
    timezone: str | None = Field(None, max_length=64, examples=["Europe/Paris"],
                                 description="IANA timezone the schedule follows (default UTC).")
    active: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        # Prefect refuses croniter's random/hashed extensions (R, H) too.
        if not croniter.is_valid(value) or any(part.upper() in ("R", "H") for part in value.split()):
            raise ValueError(f"'{value}' is not a cron expression such as '0 6 * * 1-5' "
                             f"(minute hour day-of-month month day-of-week)")
        if problem := schedules.too_frequent(schedules.shortest_cron_gap_s(value)):
            raise ValueError(problem)
        return value

    @field_validator("interval_seconds")
    @classmethod
    def _not_too_often(cls, value: int | None) -> int | None:
        if value is not None and (problem := schedules.too_frequent(value)):
            raise ValueError(problem)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError(f"unknown timezone '{value}'; give an IANA name such as 'Europe/Paris' or 'UTC'")
        return value

    @model_validator(mode="after")
    def _cron_or_interval(self) -> Self:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError("give exactly one of 'cron' or 'interval_seconds'")
        return self


class ScheduleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool = Field(..., description="false pauses the schedule, true resumes it.")


class SchedulePublic(BaseModel):
    id: str
    workflow_id: str
    cron: str | None
    interval_seconds: int | None
    timezone: str | None = Field(description="As Prefect holds it; null if Prefect does not hold the schedule.")
    active: bool
    created_at: datetime
    prefect_deployment_id: str | None
    prefect_deployment: str = Field(description="The Prefect deployment the schedule belongs to.")


def _public(row: Schedule, timezone: str | None) -> SchedulePublic:
    from deployments.schedules import deployment_path

    return SchedulePublic(id=row.id, workflow_id=row.workflow_id, cron=row.cron, interval_seconds=row.interval_seconds,
                          timezone=timezone, active=row.active, created_at=row.created_at,
                          prefect_deployment_id=row.prefect_deployment_id,
                          prefect_deployment=deployment_path(row.workflow_id))


@router.get("/{workflow_id}/schedules", summary="The workflow's schedules")
async def list_schedules(session: SessionDep, user: CurrentUser, workflow_id: str) -> list[SchedulePublic]:
    access.workflow(session, user, workflow_id, "view")
    rows = schedules.list_schedules(session, workflow_id)
    held = await schedules.timezones(workflow_id) if rows else {}
    return [_public(row, held.get(row.id)) for row in rows]


@router.post("/{workflow_id}/schedules", status_code=status.HTTP_201_CREATED,
             summary="Run the workflow's current version on a cron or interval schedule")
async def create_schedule(session: SessionDep, user: CurrentUser, workflow_id: str,
                          body: ScheduleCreate) -> SchedulePublic:
    workflow = access.workflow(session, user, workflow_id, "edit", for_update=True)
    row, timezone = await schedules.add_schedule(session, workflow, user, cron=body.cron, active=body.active,
                                                 interval_seconds=body.interval_seconds, timezone=body.timezone)
    return _public(row, timezone)


@router.patch("/{workflow_id}/schedules/{schedule_id}", summary="Pause or resume a schedule")
async def update_schedule(session: SessionDep, user: CurrentUser, workflow_id: str, schedule_id: str,
                          body: ScheduleUpdate) -> SchedulePublic:
    workflow = access.workflow(session, user, workflow_id, "edit", for_update=True)
    return _public(*await schedules.set_active(session, workflow, user, schedule_id, body.active))


@router.delete("/{workflow_id}/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a schedule (its runs not started yet are dropped)")
async def delete_schedule(session: SessionDep, user: CurrentUser, workflow_id: str, schedule_id: str) -> None:
    workflow = access.workflow(session, user, workflow_id, "edit", for_update=True)
    await schedules.delete_schedule(session, workflow, schedule_id)
