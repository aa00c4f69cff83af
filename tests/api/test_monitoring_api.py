"""/api/deployments/{name}/monitoring and /alerts through the real path: invocations logged by the API, a
monitoring run started over the API and run by Flowza's worker, feedback, a webhook receiver; and access."""

from __future__ import annotations

import time

import numpy as np
import pytest

from metadata_db.models import DEFAULT_THRESHOLDS
from flowza_core.settings import get_settings
from nodes.samples import load_sample
from tests.api.test_deployments_api import MODEL, api, deploy, invoke, split_body, token_for, trained  # noqa: F401
from tests.api.test_models_api import use_registry
from tests.flows.test_monitoring import Webhook

ROWS_PER_REQUEST = 10


@pytest.fixture
def webhook(monkeypatch):
    hook = Webhook()
    monkeypatch.setenv("FLOWZA_ALERT_WEBHOOK_URL", hook.url)
    get_settings.cache_clear()
    yield hook
    hook.server.shutdown()


def send(client, token: str, frame) -> list[tuple[str, int]]:
    """Invoke the deployment with the rows, ``ROWS_PER_REQUEST`` a request; the (request id, row) of each."""
    keys = []
    for start in range(0, len(frame), ROWS_PER_REQUEST):
        answer = invoke(client, token, split_body(frame.iloc[start:start + ROWS_PER_REQUEST]))
        assert answer.status_code == 200, answer.text
        keys += [(answer.json()["request_id"], row) for row in range(len(answer.json()["predictions"]))]
    return keys


def logged(client, total: int) -> None:
    """Wait until the prediction log has written ``total`` rows."""
    deadline = time.monotonic() + 30
    while client.get("/api/deployments/titanic/stats").json()["predictions_total"] < total:
        assert time.monotonic() < deadline, "the prediction log did not write the predictions within 30 s"
        time.sleep(0.1)


def monitoring_run(client) -> dict:
    """Start a monitoring run over the API; its result once the flow run ended (alerts and webhook included)."""
    from prefect.client.orchestration import get_client

    before = len(client.get("/api/deployments/titanic/monitoring").json()["results"])
    started = client.post("/api/deployments/titanic/monitoring/run")
    assert started.status_code == 202 and started.json()["flow_run_id"], started.text
    deadline = time.monotonic() + 120
    with get_client(sync_client=True) as prefect:
        while not (flow_run := prefect.read_flow_run(started.json()["flow_run_id"])).state.is_final():
            assert time.monotonic() < deadline, f"the monitoring run is still {flow_run.state.type} after 120 s"
            time.sleep(0.3)
    assert flow_run.state.is_completed(), flow_run.state.message
    results = client.get("/api/deployments/titanic/monitoring").json()["results"]
    assert len(results) == before + 1, results
    return results[-1]


def test_monitoring_series_alerts_and_webhook_over_the_api(api, webhook, flowza_worker):
    client = api()
    deploy(client)
    token = token_for(client)
    titanic = load_sample("titanic").dropna(subset=["embarked"])
    rng = np.random.default_rng(11)
    calm = titanic.sample(300, replace=True, random_state=rng).reset_index(drop=True)
    keys = send(client, token, calm.drop(columns=["survived"]))
    logged(client, 300)

    first = monitoring_run(client)
    assert first["volume"] == 300 and first["drifted_features"] == [] and first["model_version"] == 1
    assert set(first["drift"]["age"]) == {"kind", "rows", "psi", "statistic", "p_value", "drifted"}
    assert 0 < first["latency_p50"] <= first["latency_p95"] <= first["latency_p99"]
    assert client.get("/api/deployments/titanic/alerts").json() == [] and webhook.received == []

    shifted = titanic.sample(300, replace=True, random_state=rng).reset_index(drop=True)
    shifted["age"] += 2 * titanic["age"].std()
    send(client, token, shifted.drop(columns=["survived"]))
    logged(client, 600)
    second = monitoring_run(client)
    assert second["volume"] == 300 and second["drifted_features"] == ["age"]
    [alert] = client.get("/api/deployments/titanic/alerts").json()
    assert alert["kind"] == "drift" and alert["webhook_status"] == "sent 200" and "age" in alert["message"]
    assert [p["id"] for p in webhook.received] == [alert["id"]]

    feedback = [{"request_id": r, "row": row, "label": int(calm["survived"][i])}
                for i, (r, row) in enumerate(keys[:100])]
    assert client.post("/api/deployments/titanic/feedback", json=feedback).json() == {"labelled": 100, "unknown": []}
    third = monitoring_run(client)
    assert third["labelled"] == 100 and 0.6 < third["accuracy"] <= 1 and third["rmse"] is None
    assert third["reference_metric"] > third["accuracy"] - 0.2

    series = client.get("/api/deployments/titanic/monitoring").json()
    assert [r["accuracy"] for r in series["results"]] == [None, None, third["accuracy"]]  # oldest first
    assert [a["id"] for a in series["alerts"]] == [alert["id"]]
    limited = client.get("/api/deployments/titanic/monitoring", params={"limit": 1}).json()
    assert [r["id"] for r in limited["results"]] == [third["id"]]
    assert client.get("/api/deployments/titanic").json()["thresholds"] == DEFAULT_THRESHOLDS


def test_monitoring_follows_the_deployments_access(multi_user, trained, monkeypatch):  # noqa: F811
    from sqlalchemy.orm import Session

    from metadata_db import model_owners
    from api.deps import engine_for

    alice, bob = multi_user("alice@example.com"), multi_user("bob@example.com")
    use_registry(monkeypatch, trained["tracking_uri"])
    with Session(engine_for(get_settings().metadata_db_url)) as session:
        model_owners.claim(session, MODEL, alice.get("/api/auth/me").json()["user"]["id"])
        session.commit()
    assert alice.post("/api/deployments", json={"name": "titanic", "model": MODEL, "version": 1}).status_code == 201
    assert alice.get("/api/deployments/titanic/monitoring").json() == {"results": [], "alerts": []}
    urls = [("get", "/api/deployments/titanic/monitoring"), ("get", "/api/deployments/titanic/alerts"),
            ("post", "/api/deployments/titanic/monitoring/run"), ("get", "/api/deployments/nobody/monitoring")]
    for method, url in urls:
        answer = bob.request(method, url)
        assert answer.status_code == 404 and answer.json()["code"] == "DEPLOYMENT_NOT_FOUND", (url, answer.text)
    shared = alice.post(f"/api/models/{MODEL}/shares", json={"email": "bob@example.com", "role": "viewer"})
    assert shared.status_code == 200, shared.text
    assert bob.get("/api/deployments/titanic/alerts").json() == []
    assert bob.post("/api/deployments/titanic/monitoring/run").status_code == 403  # viewers only read
    for bad in ("0", "5000", "many"):
        answer = alice.get("/api/deployments/titanic/monitoring", params={"limit": bad})
        assert answer.status_code == 422 and answer.json()["code"], answer.text
