"""Monitoring of model deployments: each run's result (drift, accuracy, latency, volume), alerts, and the
reads of the prediction log a run needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from metadata_db.base import Base, UTCDateTime, utcnow
from metadata_db.models import Prediction

DRIFT_ROWS = 20_000  # drift is measured on at most this many of a window's rows (the newest)


class MonitoringResult(Base):
    """One monitoring run of a deployment over the window of traffic since the previous one."""

    __tablename__ = "monitoring_results"
    __table_args__ = (Index("ix_monitoring_results_deployment_id_created_at", "deployment_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("model_deployments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    model_version: Mapped[int | None] = mapped_column(Integer)
    volume: Mapped[int] = mapped_column(Integer, default=0)  # predictions (rows) in the window
    labelled: Mapped[int] = mapped_column(Integer, default=0)  # predictions labelled in the window
    drift: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # feature -> measures (flows.drift)
    drifted_features: Mapped[list[str]] = mapped_column(JSON, default=list)
    accuracy: Mapped[float | None] = mapped_column(Float)
    rmse: Mapped[float | None] = mapped_column(Float)
    latency_p50: Mapped[float | None] = mapped_column(Float)
    latency_p95: Mapped[float | None] = mapped_column(Float)
    latency_p99: Mapped[float | None] = mapped_column(Float)
    reference_metric: Mapped[float | None] = mapped_column(Float)  # the version's own test accuracy or RMSE
    note: Mapped[str | None] = mapped_column(Text)  # why something was not measured (no model, no reference)


class Alert(Base):
    """Drift or an accuracy drop that crossed a deployment's thresholds."""

    __tablename__ = "deployment_alerts"
    __table_args__ = (Index("ix_deployment_alerts_deployment_id_created_at", "deployment_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("model_deployments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # "drift" | "accuracy"
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    webhook_status: Mapped[str | None] = mapped_column(String(255))  # "sent 200", "failed: …"; None: no webhook


def last_window_end(session: Session, deployment_id: str) -> datetime | None:
    """Where the previous monitoring run's window ended; None before the first run."""
    return session.scalar(select(func.max(MonitoringResult.window_end))
                          .where(MonitoringResult.deployment_id == deployment_id))


def window_traffic(session: Session, deployment_id: str, start: datetime, end: datetime) -> dict:
    """The predictions made in [start, end): their count, each request's latency, the newest inputs."""
    made = [Prediction.deployment_id == deployment_id, Prediction.created_at >= start, Prediction.created_at < end]
    volume = session.scalar(select(func.count()).select_from(Prediction).where(*made)) or 0
    latencies = session.scalars(select(func.max(Prediction.latency_ms)).where(*made)
                                .group_by(Prediction.request_id))
    inputs = session.scalars(select(Prediction.input).where(*made)
                             .order_by(Prediction.created_at.desc()).limit(DRIFT_ROWS))
    return {"volume": volume, "latencies_ms": list(latencies), "inputs": list(inputs)}


def labelled_in(session: Session, deployment_id: str, start: datetime, end: datetime) -> list[tuple[Any, Any]]:
    """(prediction, label) of the predictions whose label arrived in [start, end)."""
    query = select(Prediction.output, Prediction.label).where(
        Prediction.deployment_id == deployment_id, Prediction.labelled_at >= start, Prediction.labelled_at < end)
    return [tuple(pair) for pair in session.execute(query)]


def add_result(session: Session, **fields: Any) -> MonitoringResult:
    result = MonitoringResult(**fields)
    session.add(result)
    session.flush()
    return result


def add_alert(session: Session, deployment_id: str, kind: str, message: str, details: dict) -> Alert:
    alert = Alert(deployment_id=deployment_id, kind=kind, message=message, details=details)
    session.add(alert)
    session.flush()
    return alert


def list_results(session: Session, deployment_id: str, limit: int) -> list[MonitoringResult]:
    """The newest ``limit`` results, oldest first (a time series)."""
    newest = session.scalars(select(MonitoringResult).where(MonitoringResult.deployment_id == deployment_id)
                             .order_by(MonitoringResult.created_at.desc(), MonitoringResult.id.desc()).limit(limit))
    return list(reversed(list(newest)))


def list_alerts(session: Session, deployment_id: str, limit: int) -> list[Alert]:
    """The newest ``limit`` alerts, newest first."""
    return list(session.scalars(select(Alert).where(Alert.deployment_id == deployment_id)
                                .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)))
