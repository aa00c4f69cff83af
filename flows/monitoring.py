"""The monitoring flow: one run measures a model deployment's recent traffic and raises alerts.

Each run covers the window since the previous run's (the first: one monitoring interval back), reads
the predictions made in it and those labelled in it from the metadata database, compares the inputs
with the served version's reference statistics (``flows.drift``), stores a ``MonitoringResult`` and
raises an alert when drift or an accuracy drop crosses the deployment's thresholds: in the run log,
in the alerts table and, when ``FLOWZA_ALERT_WEBHOOK_URL`` is set, as a JSON POST to it.
Prefect runs it on a schedule per deployment (``deployments.monitoring``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flows.prefect_env import configure_prefect

configure_prefect()

import httpx  # noqa: E402
from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from metadata_db import monitoring as rows  # noqa: E402
from metadata_db.base import utcnow  # noqa: E402
from metadata_db.deployments import get_deployment  # noqa: E402
from metadata_db.models import DEFAULT_THRESHOLDS  # noqa: E402
from deployments.metadata import sessions  # noqa: E402
from flows import drift  # noqa: E402
from flows.reference_stats import load_reference, version_metric  # noqa: E402
from flows.registry import ModelNotFound  # noqa: E402
from flowza_core.settings import get_settings  # noqa: E402

WEBHOOK_TIMEOUT_S = 5
WEBHOOK_TRIES = 2  # one retry


@dataclass
class Window:
    """A deployment and the traffic of one monitoring window."""

    deployment_id: str
    name: str
    model: str
    version: int | None
    thresholds: dict
    start: datetime
    end: datetime
    traffic: dict = field(default_factory=dict)
    labelled: list = field(default_factory=list)


@dataclass
class Reference:
    """What the served version is compared with; ``note`` says why something is missing."""

    stats: dict | None = None
    metric: float | None = None
    note: str | None = None


@task(cache_policy=NO_CACHE)
def read_window(deployment_name: str, window_s: int | None) -> Window:
    """The deployment, and the predictions made and labelled since its previous monitoring run."""
    end = utcnow()
    with sessions().begin() as session:
        deployment = get_deployment(session, deployment_name)
        start = end - timedelta(seconds=window_s) if window_s else (
            rows.last_window_end(session, deployment.id)
            or end - timedelta(seconds=deployment.monitoring_interval_s))
        window = Window(deployment.id, deployment.name, deployment.model,
                        deployment.current_version or deployment.version,
                        DEFAULT_THRESHOLDS | (deployment.thresholds or {}), start, end)
        window.traffic = rows.window_traffic(session, deployment.id, start, end)
        window.labelled = rows.labelled_in(session, deployment.id, start, end)
    return window


@task(cache_policy=NO_CACHE)
def load_model_reference(window: Window) -> Reference:
    """The served version's reference statistics and its own test accuracy (or RMSE)."""
    if window.version is None:
        return Reference(note=f"no model version is served yet (model '{window.model}'): drift and accuracy "
                              f"need one; check the deployment's status")
    try:
        stats = load_reference(window.model, window.version)
    except ModelNotFound:
        return Reference(note=f"model '{window.model}' version {window.version} is not in the registry any more: "
                              f"point the deployment at an existing version")
    if stats is None:
        return Reference(note=f"model '{window.model}' version {window.version} has no reference statistics "
                              f"(trained before they were recorded): retrain and register it to measure drift")
    metric = "accuracy" if stats.get("task") == "classification" else "rmse"
    return Reference(stats, version_metric(window.model, window.version, metric))


@task(cache_policy=NO_CACHE)
def measure(window: Window, reference: Reference) -> dict:
    """The result's figures: volume, latency, drift per feature, accuracy or RMSE."""
    figures = {"volume": window.traffic["volume"], "labelled": len(window.labelled),
               **drift.latency_percentiles(window.traffic["latencies_ms"]),
               "drift": {}, "drifted_features": [], "accuracy": None, "rmse": None}
    if reference.stats is None:
        return figures
    figures["drift"] = drift.feature_drift(reference.stats, window.traffic["inputs"], window.thresholds)
    figures["drifted_features"] = [name for name, d in figures["drift"].items() if d["drifted"]]
    if reference.stats.get("task") == "classification":
        figures["accuracy"] = drift.accuracy(window.labelled)
    else:
        figures["rmse"] = drift.rmse(window.labelled)
    return figures


def alerts_for(window: Window, reference: Reference, figures: dict) -> list[tuple[str, str, dict]]:
    """(kind, message, details) of each threshold the figures cross."""
    where = f"deployment '{window.name}' (model '{window.model}' version {window.version})"
    base = {"deployment": window.name, "model": window.model, "version": window.version,
            "window_start": window.start.isoformat(), "window_end": window.end.isoformat()}
    found = []
    if figures["drifted_features"]:
        moved = {name: figures["drift"][name] for name in figures["drifted_features"]}
        said = ", ".join(f"{name} (PSI {d['psi']:.2f}, p={d['p_value']:.1e})" for name, d in moved.items())
        found.append(("drift", f"{where}: inputs drifted from the training data in {said}; check the source "
                               f"of these features, or retrain on recent data", base | {"features": moved}))
    t, ref = window.thresholds, reference.metric
    if ref is None or figures["labelled"] < t["min_rows"]:
        return found
    if figures["accuracy"] is not None and figures["accuracy"] < ref - t["accuracy_drop"]:
        found.append(("accuracy", f"{where}: accuracy {figures['accuracy']:.3f} on {figures['labelled']} labelled "
                                  f"predictions, below the version's test accuracy {ref:.3f} by more than "
                                  f"{t['accuracy_drop']}; retrain or roll back",
                      base | {"accuracy": figures["accuracy"], "reference": ref, "labelled": figures["labelled"]}))
    if figures["rmse"] is not None and figures["rmse"] > ref * (1 + t["rmse_increase"]):
        found.append(("accuracy", f"{where}: RMSE {figures['rmse']:.4g} on {figures['labelled']} labelled "
                                  f"predictions, above the version's test RMSE {ref:.4g} by more than "
                                  f"{t['rmse_increase']:.0%}; retrain or roll back",
                      base | {"rmse": figures["rmse"], "reference": ref, "labelled": figures["labelled"]}))
    return found


@task(cache_policy=NO_CACHE)
def store(window: Window, reference: Reference, figures: dict) -> tuple[int, list[dict]]:
    """Store the result and its alerts together; returns the result id and the alerts as JSON."""
    with sessions().begin() as session:
        result = rows.add_result(session, deployment_id=window.deployment_id, window_start=window.start,
                                 window_end=window.end, model_version=window.version,
                                 reference_metric=reference.metric, note=reference.note, **figures)
        alerts = [rows.add_alert(session, window.deployment_id, kind, message, details | {"result_id": result.id})
                  for kind, message, details in alerts_for(window, reference, figures)]
        return result.id, [{"id": a.id, "deployment": window.name, "kind": a.kind, "message": a.message,
                            "details": a.details, "created_at": a.created_at.isoformat()} for a in alerts]


def post_alert(url: str, alert: dict) -> str:
    """POST the alert's JSON to the webhook (5 s a try, one retry); what happened, for ``webhook_status``."""
    outcome = ""
    for _ in range(WEBHOOK_TRIES):
        try:
            answer = httpx.post(url, json=alert, timeout=WEBHOOK_TIMEOUT_S)
        except httpx.HTTPError as exc:
            outcome = f"failed: {type(exc).__name__}: {exc}"[:255]
            continue
        if answer.is_success:
            return f"sent {answer.status_code}"
        outcome = f"failed: HTTP {answer.status_code}"
    return outcome


@task(cache_policy=NO_CACHE)
def raise_alerts(alerts: list[dict]) -> list[dict]:
    """Log each alert as a warning of the run and send it to the webhook, recording how that went."""
    logger, url = get_run_logger(), get_settings().alert_webhook_url
    for alert in alerts:
        logger.warning("%s alert: %s", alert["kind"], alert["message"])
        alert["webhook_status"] = post_alert(url, alert) if url else None
        if alert["webhook_status"] and not alert["webhook_status"].startswith("sent"):
            logger.warning("the alert webhook did not take alert %s (%s)", alert["id"], alert["webhook_status"])
    if url and alerts:
        with sessions().begin() as session:
            for alert in alerts:
                session.get(rows.Alert, alert["id"]).webhook_status = alert["webhook_status"]
    return alerts


@flow(name="flowza-monitor", log_prints=False)
def monitor_deployment(deployment_name: str, window_s: int | None = None) -> dict:
    """Measure a model deployment's recent traffic: drift, accuracy, latency, volume; alert past thresholds.

    ``window_s``: measure this many seconds back instead of since the previous run.
    """
    window = read_window(deployment_name, window_s)
    reference = load_model_reference(window)
    if reference.note:
        get_run_logger().warning("%s", reference.note)
    figures = measure(window, reference)
    result_id, alerts = store(window, reference, figures)
    alerts = raise_alerts(alerts)
    return {"result_id": result_id, "volume": figures["volume"], "drifted_features": figures["drifted_features"],
            "accuracy": figures["accuracy"], "rmse": figures["rmse"], "note": reference.note,
            "alerts": [{"kind": a["kind"], "webhook_status": a["webhook_status"]} for a in alerts]}
