"""The API end to end: workflows saved in the metadata DB, runs as Prefect deployment runs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLASSIFICATION = json.loads((ROOT / "examples" / "classification.json").read_text())


def wait_for(client, workflow_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/workflows/{workflow_id}/status").json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        assert time.monotonic() < deadline, f"run still {body['status']} after {timeout} s"
        time.sleep(0.2)


@pytest.mark.usefixtures("flowza_worker")
def test_seed_script_flow_run_status_progress_results(client):
    seed_body = {k: CLASSIFICATION[k] for k in ("name", "description", "nodes", "connections")}
    created = client.post("/api/workflows/run", json=seed_body)
    assert created.status_code == 200, created.text
    body = created.json()
    assert set(body) >= {"workflow_id", "run_id", "status"} and body["status"] == "pending"

    status = wait_for(client, body["workflow_id"])
    assert status["status"] == "completed", status
    assert status["run_id"] == body["run_id"]
    progress = client.get(f"/api/workflows/{body['workflow_id']}/progress").json()
    assert progress["done"] == progress["total"] == 5 and progress["percent"] == 100.0
    assert set(progress["nodes"].values()) == {"completed"}
    results = client.get(f"/api/workflows/{body['workflow_id']}/results").json()
    assert results["metrics"]["evaluate"]["accuracy"] > 0.6
    assert results["results"]["split"]["outputs"]["train"]["rows"] > 0

    # It ran as a run of Flowza's Prefect deployment.
    import asyncio

    from prefect.client.orchestration import get_client

    async def deployment_name():
        async with get_client() as prefect:
            flow_run = await prefect.read_flow_run(status["flow_run_id"])
            return (await prefect.read_deployment(flow_run.deployment_id)).name

    assert asyncio.run(deployment_name()) == "run-workflow"
    listed = client.get("/api/runs/", params={"workflow_id": body["workflow_id"]}).json()
    assert [r["run_id"] for r in listed] == [body["run_id"]]


def test_invalid_workflow_is_refused_with_every_problem_and_nothing_saved(client):
    bad = {"name": "bad", "nodes": [{"id": "a", "type": "drop_nulls"}, {"id": "b", "type": "csv_loadr"}],
           "connections": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]}
    response = client.post("/api/workflows/run", json=bad)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "INVALID_WORKFLOW"
    codes = {p["code"] for p in body["details"]["problems"]}
    assert {"UNKNOWN_NODE_TYPE", "CYCLE"} <= codes
    assert client.get("/api/workflows/").json() == []


@pytest.mark.parametrize("payload", [{"nodes": "not a list"}, {"nodes": [{"type": 3}]}, [1, 2], "text"])
def test_malformed_bodies_are_4xx_json(client, payload):
    response = client.post("/api/workflows/", json=payload)
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_REQUEST" and response.json()["message"]


def test_workflow_crud_keeps_versions(client):
    created = client.post("/api/workflows/", json=CLASSIFICATION)
    assert created.status_code == 201
    workflow = created.json()
    assert workflow["current_version"] == 1 and workflow["name"] == CLASSIFICATION["name"]
    changed = {**CLASSIFICATION, "name": "Renamed"}
    updated = client.put(f"/api/workflows/{workflow['id']}", json=changed).json()
    assert updated["current_version"] == 2 and updated["name"] == "Renamed"
    assert [w["id"] for w in client.get("/api/workflows/").json()] == [workflow["id"]]
    assert client.delete(f"/api/workflows/{workflow['id']}").status_code == 204
    missing = client.get(f"/api/workflows/{workflow['id']}")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert client.get("/api/workflows/no-such-id/status").status_code == 404


def test_catalog_is_grouped_as_the_seed_did(client):
    catalog = client.get("/api/tasks/available").json()
    assert {"data_nodes", "preprocessing_nodes", "training_nodes", "evaluation_nodes"} <= set(catalog)
    assert "csv_loader" in [n["type"] for n in catalog["data_nodes"]]
    assert "train_xgboost" in [n["type"] for n in catalog["training_nodes"]]
    validated = client.post("/api/workflows/validate", json=CLASSIFICATION).json()
    assert validated["valid"] is True and validated["order"][0] == "load"


@pytest.mark.usefixtures("prefect_api_url")
def test_health_checks_every_dependency(client):
    response = client.get("/health")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "prefect": "ok", "mlflow": "ok", "object_store": "ok"}
    assert client.get("/").json()["docs"] == "/docs"


def submit(client, workflow: dict) -> dict:
    response = client.post("/api/workflows/run", json=workflow)
    assert response.status_code == 200, response.text
    return response.json()


def chain(*nodes) -> dict:
    return {"name": "chain", "nodes": [{"id": n, "type": t, "parameters": p} for n, t, p in nodes],
            "connections": [{"source": a[0], "target": b[0]} for a, b in zip(nodes, nodes[1:])]}


@pytest.mark.usefixtures("flowza_worker")
def test_failed_run_reruns_from_its_failed_node(client, flowza_env, monkeypatch):
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_DATA_DIR", str(flowza_env["data"]))  # where the marker will appear
    get_settings.cache_clear()
    workflow = chain(("load", "sample_dataset", {"name": "iris"}), ("scale", "normalize", {}),
                     ("check", "fail_until_marker", {"marker": "go.marker"}), ("tail", "drop_nulls", {}))
    first = submit(client, workflow)
    failed = wait_for(client, first["workflow_id"])
    assert failed["status"] == "failed"
    assert failed["nodes"]["check"]["error"]["message"] == "go.marker is not there yet"
    assert failed["nodes"]["tail"]["status"] == "not_run"
    deadline = time.monotonic() + 20  # Prefect stores log lines a little after they are written
    while not any("go.marker is not there yet" in line["message"] for line in
                  client.get(f"/api/runs/{first['run_id']}/logs", params={"node_id": "check"}).json()):
        assert time.monotonic() < deadline, "the failed node's log line never arrived"
        time.sleep(0.5)

    (flowza_env["data"] / "go.marker").write_text("")
    rerun = client.post(f"/api/runs/{first['run_id']}/rerun")
    assert rerun.status_code == 202
    done = wait_for(client, first["workflow_id"])
    assert done["run_id"] == rerun.json()["run_id"] and done["status"] == "completed", done
    assert {n: v["cached"] for n, v in done["nodes"].items()} == {
        "load": True, "scale": True, "check": False, "tail": False}


@pytest.mark.usefixtures("flowza_worker")
def test_a_long_run_can_be_cancelled(client):
    workflow = chain(("load", "sample_dataset", {"name": "iris"}),
                     *[(f"wait{i}", "sleep_for_test", {"seconds": 1.0}) for i in range(6)])
    started = submit(client, workflow)
    deadline = time.monotonic() + 30
    while client.get(f"/api/runs/{started['run_id']}").json()["progress"]["done"] < 2:
        assert time.monotonic() < deadline, "the run did not get going"
        time.sleep(0.1)
    assert client.post(f"/api/runs/{started['run_id']}/cancel").status_code == 202
    ended = wait_for(client, started["workflow_id"], timeout=30)
    assert ended["status"] == "cancelled"
    assert ended["nodes"]["wait5"]["status"] == "cancelled"
    assert ended["progress"]["done"] < 7
    again = client.post(f"/api/runs/{started['run_id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "CONFLICT"


@pytest.mark.usefixtures("flowza_worker")
def test_seed_dataset_paths_list_and_page_through_tables(client):
    created = submit(client, chain(("load", "sample_dataset", {"name": "iris"}), ("clean", "drop_nulls", {})))
    assert wait_for(client, created["workflow_id"])["status"] == "completed"
    listed = client.get("/api/tasks/datasets/", params={"workflow_id": created["workflow_id"]}).json()
    assert [(d["node_id"], d["rows"]) for d in listed] == [("load", 150), ("clean", 150)]
    task_id = listed[1]["task_id"]
    assert client.get(f"/api/tasks/{task_id}").json()["status"] == "completed"
    page = client.get(f"/api/tasks/{task_id}/dataset", params={"offset": 140, "limit": 50}).json()
    assert page["total_rows"] == 150 and len(page["rows"]) == 10 and "target" in page["rows"][0]
    assert client.get(f"/api/tasks/{created['run_id']}:nope/dataset").status_code == 404
    assert client.get("/api/tasks/datasets/", params={"workflow_id": "missing"}).status_code == 404
    names = [t["id"] for t in client.get("/api/workflows/templates/").json()]
    assert {"classification", "xgboost", "regression", "cleaning"} <= set(names)
    assert "passengers" not in names  # it reads a file of the repository: an example, not a template


@pytest.mark.usefixtures("flowza_worker")
def test_branches_run_concurrently_on_the_worker(client):
    # Long enough that a Prefect API retry (2 s back-off when its SQLite is busy) cannot hide the overlap.
    workflow = {"name": "branches", "nodes": [
        {"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}},
        {"id": "left", "type": "sleep_for_test", "parameters": {"seconds": 4.0}},
        {"id": "right", "type": "sleep_for_test", "parameters": {"seconds": 4.0}}],
        "connections": [{"source": "load", "target": "left"}, {"source": "load", "target": "right"}]}
    created = submit(client, workflow)
    nodes = wait_for(client, created["workflow_id"])["nodes"]
    left, right = nodes["left"], nodes["right"]
    assert left["started_at"] < right["finished_at"] and right["started_at"] < left["finished_at"]
