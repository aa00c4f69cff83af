"""Monitoring of a model deployment: its results over time, its alerts, and a monitoring run on demand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import CurrentUser
from metadata_db import monitoring as rows
from api.deps import SessionDep
from api.services import deployments
from api.services.runs import PrefectUnavailable

router = APIRouter(prefix="/api/deployments", tags=["monitoring"])
Limit = Query(200, ge=1, le=2000, description="How many of the newest entries to return.")


class FeatureDrift(BaseModel):
    kind: str = Field(description="numeric or categorical")
    rows: int = Field(description="The feature's non-null values in the window.")
    psi: float | None = Field(description="Population stability index against the training rows.")
    statistic: float | None = Field(description="KS statistic (numeric) or chi-square (categorical).")
    p_value: float | None
    drifted: bool


class MonitoringResultPublic(BaseModel):
    id: int
    created_at: datetime
    window_start: datetime
    window_end: datetime
    model_version: int | None
    volume: int = Field(description="Predictions (rows) made in the window.")
    labelled: int = Field(description="Predictions whose label arrived in the window.")
    drift: dict[str, FeatureDrift]
    drifted_features: list[str]
    accuracy: float | None
    rmse: float | None
    latency_p50: float | None = Field(description="Request latency percentiles, in ms.")
    latency_p95: float | None
    latency_p99: float | None
    reference_metric: float | None = Field(description="The served version's own test accuracy (or RMSE).")
    note: str | None = Field(description="Why something was not measured.")


class AlertPublic(BaseModel):
    id: int
    created_at: datetime
    kind: str = Field(description="drift or accuracy")
    message: str
    details: dict[str, Any]
    webhook_status: str | None = Field(description="'sent 200', 'failed: …'; null when no webhook is set.")


class Monitoring(BaseModel):
    results: list[MonitoringResultPublic] = Field(description="Oldest first: a time series.")
    alerts: list[AlertPublic] = Field(description="Newest first.")


class MonitoringRun(BaseModel):
    flow_run_id: str


@router.get("/{name}/monitoring", summary="The deployment's monitoring results over time, and its alerts")
async def monitoring(session: SessionDep, user: CurrentUser, name: str, limit: int = Limit) -> Monitoring:
    found = await deployments.deployment(session, user, name)
    results = await run_in_threadpool(rows.list_results, session, found.id, limit)
    alerts = await run_in_threadpool(rows.list_alerts, session, found.id, limit)
    return Monitoring(results=[MonitoringResultPublic.model_validate(r, from_attributes=True) for r in results],
                      alerts=[AlertPublic.model_validate(a, from_attributes=True) for a in alerts])


@router.get("/{name}/alerts", summary="The deployment's alerts, newest first")
async def alerts(session: SessionDep, user: CurrentUser, name: str, limit: int = Limit) -> list[AlertPublic]:
    found = await deployments.deployment(session, user, name)
    return [AlertPublic.model_validate(a, from_attributes=True)
            for a in await run_in_threadpool(rows.list_alerts, session, found.id, limit)]


@router.post("/{name}/monitoring/run", status_code=status.HTTP_202_ACCEPTED,
             summary="Start a monitoring run of the deployment now (Flowza's worker runs it)")
async def run_monitoring(session: SessionDep, user: CurrentUser, name: str) -> MonitoringRun:
    from deployments.monitoring import run_monitoring_now

    found = await deployments.deployment(session, user, name, "edit")
    try:
        flow_run_id = await run_monitoring_now(found.name, found.monitoring_interval_s)
    except Exception as exc:  # Prefect's client raises many types (HTTP, connection)
        raise PrefectUnavailable(f"could not start the monitoring run in Prefect ({type(exc).__name__}): is the "
                                 f"Prefect server running (`flowza up`)?") from exc
    return MonitoringRun(flow_run_id=flow_run_id)
