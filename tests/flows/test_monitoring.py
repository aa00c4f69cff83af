"""The monitoring flow end to end: a Titanic model registered by a real run (real MLflow), predictions in the
metadata database (SQLite and PostgreSQL), the real Prefect test server, a real webhook receiver, and the
scheduled path through the Prefect deployment and Flowza's worker."""

from __future__ import annotations

import json
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import numpy as np
import pandas as pd
import pytest
import yaml
from sqlalchemy import select

from metadata_db import make_engine, session_factory, upgrade
from metadata_db import deployments as deployment_rows
from metadata_db.models import DEFAULT_THRESHOLDS, ModelDeployment
from metadata_db.monitoring import Alert, MonitoringResult
from flowza_core.settings import get_settings
from nodes.samples import load_sample
from tests.api.test_models_api import ROOT, TITANIC, run_in_own_home

MODEL = "titanic-survival"


@pytest.fixture(scope="module")
def registry(prefect_api_url, tmp_path_factory) -> str:
    """The tracking URI of a registry where the Titanic example registered titanic-survival v1."""
    trained = run_in_own_home(TITANIC, tmp_path_factory.mktemp("monitoring-home"))
    assert trained["record"]["status"] == "completed", trained["record"]
    return trained["tracking_uri"]


@pytest.fixture(scope="module")
def passengers(registry) -> pd.DataFrame:
    """Scorable Titanic rows with the model's prediction (``predicted``) and the truth (``survived``)."""
    import mlflow

    mlflow.set_tracking_uri(registry)
    model = mlflow.sklearn.load_model(f"models:/{MODEL}/1")
    frame = load_sample("titanic").dropna(subset=["embarked"]).reset_index(drop=True)
    inputs = frame[list(model.input_dtypes)]
    return inputs.assign(predicted=model.predict(inputs), survived=frame["survived"])


class Webhook:
    """A real HTTP server that records the JSON posted to it and answers ``status``."""

    def __init__(self):
        self.received, self.status = [], 200
        hook = self

        class Receive(BaseHTTPRequestHandler):
            def do_POST(self):
                hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Receive)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.server.shutdown()


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata_url(request, flowza_env, monkeypatch) -> str:
    """The metadata database the flow reads: SQLite under the test's home, or a fresh PostgreSQL database."""
    if request.param == "postgresql":
        monkeypatch.setenv("FLOWZA_DATABASE_URL", request.getfixturevalue("postgres_database"))
    get_settings.cache_clear()
    return get_settings().metadata_db_url


@pytest.fixture
def monitored(metadata_url, registry, webhook, monkeypatch):
    """A deployment of titanic-survival v1 in the metadata database, MLflow and the webhook configured."""
    monkeypatch.setenv("FLOWZA_MLFLOW_TRACKING_URI", registry)
    monkeypatch.setenv("FLOWZA_ALERT_WEBHOOK_URL", webhook.url)
    get_settings.cache_clear()
    upgrade(metadata_url)
    engine = make_engine(metadata_url)
    deployment_id = add_deployment(engine, "titanic", current_version=1)
    yield {"engine": engine, "id": deployment_id, "webhook": webhook}
    engine.dispose()


def add_deployment(engine, name: str, model: str = MODEL, current_version: int | None = 1, **fields) -> str:
    with session_factory(engine).begin() as session:
        row = ModelDeployment(name=name, model=model, alias="staging", current_version=current_version,
                              status="ready" if current_version else "failed",
                              thresholds=dict(DEFAULT_THRESHOLDS), monitoring_interval_s=3600, **fields)
        session.add(row)
        session.flush()
        return row.id


def log_predictions(engine, deployment_id: str, frame: pd.DataFrame, per_request: int = 10) -> list[tuple]:
    """Log the rows as the serving path does, ``per_request`` rows a request; their (request id, row) keys."""
    inputs = json.loads(frame.drop(columns=["predicted", "survived"]).to_json(orient="records"))
    rows, keys = [], []
    rng = np.random.default_rng(len(frame))
    for start in range(0, len(frame), per_request):
        request_id, latency = str(uuid.uuid4()), float(rng.uniform(2, 20))
        for row, i in enumerate(range(start, min(start + per_request, len(frame)))):
            rows.append({"deployment_id": deployment_id, "request_id": request_id, "row": row, "model_version": 1,
                         "input": inputs[i], "output": int(frame["predicted"].iloc[i]), "probability": None,
                         "latency_ms": latency})
            keys.append((request_id, row))
    assert deployment_rows.insert_predictions(engine, rows) == len(rows)
    return keys


def label(engine, deployment_id: str, keys: list[tuple], values) -> None:
    with session_factory(engine).begin() as session:
        for (request_id, row), value in zip(keys, values, strict=True):
            assert deployment_rows.label(session, deployment_id, request_id, row, int(value))


def monitor(name: str = "titanic", **params) -> dict:
    from flows.engine import without_heartbeats
    from flows.monitoring import monitor_deployment

    with without_heartbeats():
        return monitor_deployment(name, **params)


def stored(engine, deployment_id: str) -> tuple[list[MonitoringResult], list[Alert]]:
    with session_factory(engine)() as session:
        results = session.scalars(select(MonitoringResult).where(MonitoringResult.deployment_id == deployment_id)
                                  .order_by(MonitoringResult.id)).all()
        alerts = session.scalars(select(Alert).where(Alert.deployment_id == deployment_id).order_by(Alert.id)).all()
        return list(results), list(alerts)


def test_drift_alerts_on_shifted_traffic_only_and_feedback_gives_the_accuracy_series(monitored, passengers):
    engine, deployment_id, hook = monitored["engine"], monitored["id"], monitored["webhook"]
    rng = np.random.default_rng(7)
    calm = passengers.sample(300, random_state=rng, replace=True).reset_index(drop=True)
    calm_keys = log_predictions(engine, deployment_id, calm)

    first = monitor()
    assert first["volume"] == 300 and first["drifted_features"] == [] and first["alerts"] == []
    [result], alerts = stored(engine, deployment_id)
    assert alerts == [] and hook.received == []
    assert result.note is None and result.model_version == 1 and result.volume == 300
    assert set(result.drift) == set(passengers.columns) - {"predicted", "survived"}
    assert all(d["psi"] < 0.2 and not d["drifted"] for d in result.drift.values()), result.drift
    assert 2 <= result.latency_p50 <= result.latency_p95 <= result.latency_p99 <= 20
    reference_accuracy = result.reference_metric
    assert 0.7 < reference_accuracy < 0.95  # the version's own test accuracy, from its MLflow run

    shifted = passengers.sample(300, random_state=rng, replace=True).reset_index(drop=True)
    shifted["age"] += 2 * passengers["age"].std()
    log_predictions(engine, deployment_id, shifted)
    second = monitor()
    assert second["volume"] == 300  # the window starts where the previous one ended
    assert second["drifted_features"] == ["age"]
    assert second["alerts"] == [{"kind": "drift", "webhook_status": "sent 200"}]
    results, [alert] = stored(engine, deployment_id)
    assert alert.kind == "drift" and "age" in alert.message and alert.webhook_status == "sent 200"
    assert alert.details["features"]["age"]["psi"] >= 0.2 and alert.details["result_id"] == results[-1].id
    [posted] = hook.received
    assert posted["kind"] == "drift" and posted["deployment"] == "titanic" and posted["id"] == alert.id
    assert posted["message"] == alert.message and posted["details"]["features"]["age"]["drifted"] is True

    # Ground truth for 100 of the calm predictions: accuracy near the version's own, no alert.
    label(engine, deployment_id, calm_keys[:100], calm["survived"][:100])
    third = monitor()
    expected = float((calm["predicted"][:100] == calm["survived"][:100]).mean())
    assert third["volume"] == 0 and third["accuracy"] == pytest.approx(expected)
    assert expected > reference_accuracy - DEFAULT_THRESHOLDS["accuracy_drop"] and third["alerts"] == []

    # Wrong ground truth for the next 100: the accuracy drop alerts.
    label(engine, deployment_id, calm_keys[100:200], 1 - calm["survived"][100:200])
    fourth = monitor()
    assert fourth["accuracy"] < 0.5
    assert fourth["alerts"] == [{"kind": "accuracy", "webhook_status": "sent 200"}]
    results, alerts = stored(engine, deployment_id)
    assert [r.accuracy for r in results] == [None, None, pytest.approx(expected), fourth["accuracy"]]
    assert [r.labelled for r in results] == [0, 0, 100, 100]
    assert alerts[-1].kind == "accuracy" and alerts[-1].details["reference"] == reference_accuracy
    assert [p["kind"] for p in hook.received] == ["drift", "accuracy"]


def test_fewer_rows_than_min_rows_raise_no_alert(monitored, passengers):
    engine, deployment_id = monitored["engine"], monitored["id"]
    few = passengers.dropna(subset=["age"]).sample(20, random_state=1).reset_index(drop=True)
    few["age"] += 100
    keys = log_predictions(engine, deployment_id, few)
    label(engine, deployment_id, keys, 1 - few["predicted"])  # every prediction wrong
    outcome = monitor()
    assert outcome["drifted_features"] == [] and outcome["accuracy"] == 0 and outcome["alerts"] == []
    [result], _ = stored(engine, deployment_id)
    assert result.drift["age"]["psi"] > 1 and result.drift["age"]["rows"] == 20


@pytest.mark.parametrize("metadata_url", ["sqlite"], indirect=True)
def test_no_model_or_no_reference_is_a_result_with_a_note(monitored, passengers):
    engine = monitored["engine"]
    for name, model, version, said in [("unloaded", MODEL, None, "no model version is served"),
                                       ("gone", "no-such-model", 3, "not in the registry")]:
        deployment_id = add_deployment(engine, name, model=model, current_version=version)
        log_predictions(engine, deployment_id, passengers.head(40))
        outcome = monitor(name)
        assert said in outcome["note"] and outcome["volume"] == 40 and outcome["alerts"] == []
        [result], [] = stored(engine, deployment_id)
        assert said in result.note and result.drift == {} and result.latency_p99 is not None


@pytest.mark.parametrize("metadata_url", ["sqlite"], indirect=True)
def test_a_failing_webhook_is_tried_twice_and_recorded(monitored, passengers, monkeypatch):
    engine, deployment_id, hook = monitored["engine"], monitored["id"], monitored["webhook"]
    hook.status = 500
    shifted = passengers.sample(100, random_state=2).reset_index(drop=True)
    shifted["fare"] += 10 * passengers["fare"].std()
    log_predictions(engine, deployment_id, shifted)
    assert monitor()["alerts"] == [{"kind": "drift", "webhook_status": "failed: HTTP 500"}]
    assert len(hook.received) == 2  # one retry
    log_predictions(engine, deployment_id, shifted)
    monkeypatch.setenv("FLOWZA_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/nobody-listens")
    get_settings.cache_clear()
    [alert] = monitor()["alerts"]
    assert alert["webhook_status"].startswith("failed: ConnectError")
    monkeypatch.delenv("FLOWZA_ALERT_WEBHOOK_URL")
    get_settings.cache_clear()
    log_predictions(engine, deployment_id, shifted)
    assert monitor()["alerts"] == [{"kind": "drift", "webhook_status": None}]  # no webhook set
    assert [a.webhook_status for a in stored(engine, deployment_id)[1]] == \
        ["failed: HTTP 500", alert["webhook_status"], None]


@pytest.mark.parametrize("metadata_url", ["sqlite"], indirect=True)
def test_window_s_measures_that_far_back(monitored, passengers):
    engine, deployment_id = monitored["engine"], monitored["id"]
    log_predictions(engine, deployment_id, passengers.head(50))
    assert monitor()["volume"] == 50
    assert monitor()["volume"] == 0  # since the previous run
    assert monitor(window_s=600)["volume"] == 50


def test_unknown_deployment_fails_the_run_naming_it(monitored):
    from prefect.states import State

    from flows.engine import without_heartbeats
    from flows.monitoring import monitor_deployment

    with without_heartbeats():
        state: State = monitor_deployment("nobody", return_state=True)
    assert state.is_failed() and "deployment 'nobody' not found" in state.message


@pytest.mark.parametrize("metadata_url", ["sqlite"], indirect=True)
def test_the_scheduled_deployment_runs_on_flowza_worker(monitored, passengers, flowza_worker):
    import asyncio

    from prefect.client.orchestration import get_client

    from deployments.monitoring import (apply_monitoring_deployment, delete_monitoring_deployment,
                                        monitoring_deployment_path, run_monitoring_now)

    engine, deployment_id = monitored["engine"], monitored["id"]
    shifted = passengers.sample(200, random_state=3).reset_index(drop=True)
    shifted["age"] += 2 * passengers["age"].std()
    log_predictions(engine, deployment_id, shifted)

    async def scenario():
        await apply_monitoring_deployment("titanic", 3600)
        await apply_monitoring_deployment("titanic", 1800)  # idempotent: one deployment, one schedule
        async with get_client() as client:
            deployment = await client.read_deployment_by_name(monitoring_deployment_path("titanic"))
            assert deployment.parameters == {"deployment_name": "titanic"} and deployment.work_pool_name == "flowza"
            [schedule] = deployment.schedules
            assert schedule.schedule.interval.total_seconds() == 1800 and schedule.active
            flow_run_id = await run_monitoring_now("titanic", 1800)
            deadline = time.monotonic() + 120
            while not (flow_run := await client.read_flow_run(flow_run_id)).state.is_final():
                assert time.monotonic() < deadline, f"the monitoring run is still {flow_run.state.type}"
                await asyncio.sleep(0.3)
            assert flow_run.state.is_completed(), flow_run.state.message
        await delete_monitoring_deployment("titanic")
        await delete_monitoring_deployment("titanic")  # idempotent
        async with get_client() as client:
            assert not await client.read_deployments(deployment_filter=_named(monitoring_deployment_path("titanic")))

    asyncio.run(scenario())
    [result], [alert] = stored(engine, deployment_id)
    assert result.drifted_features == ["age"] and result.volume == 200 and alert.kind == "drift"


def _named(path: str):
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    return DeploymentFilter(name=DeploymentFilterName(any_=[path.split("/", 1)[1]]))


def test_prefect_yaml_declares_the_monitoring_deployment_template():
    """The commented template, uncommented, is a deployment `prefect deploy` accepts, of the monitoring flow."""
    import importlib

    from prefect.cli.deploy._models import PrefectYamlModel

    from flows.monitoring import monitor_deployment

    text = (ROOT / "prefect.yaml").read_text()
    start = text.index("  # - name: monitor-")
    raw = yaml.safe_load(text[:start] + "\n".join(line.replace("  # ", "  ", 1)
                                                  for line in text[start:].splitlines()))
    [template] = [d for d in raw["deployments"] if d["name"].startswith("monitor-")]
    module, _, name = template["entrypoint"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is monitor_deployment
    assert template["work_pool"] is raw["definitions"]["work_pools"]["flowza_pool"]
    assert set(template["parameters"]) == {"deployment_name"} and template["schedules"][0]["interval"] > 0
    PrefectYamlModel.model_validate(raw)
