"""The original design's clients work unchanged, against the product as `flowza up` runs it (SPEC §6, §9).

One stack for the module, started the way a user would but away from the repository: the working
directory and FLOWZA_DATA_DIR are two unrelated empty folders, so nothing can lean on repository paths.
It answers the seed's own validation script (`validate_day2.py`: 4 checks, 200s), runs a workflow
written with the seed's port names, and runs every template.
"""

from __future__ import annotations

import time

import httpx
import pytest
from sklearn.datasets import load_breast_cancer

from tests.benchmarks.stack import Stack
from tests.workflows import names_a_connection

READY_TIMEOUT_S = 240
RUN_TIMEOUT_S = 180
TEMPLATES = {"classification", "cleaning", "integration", "model_comparison", "regression", "retrieval", "titanic",
             "xgboost"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """`flowza up` started from an unrelated directory; yields ``(api_url, data_dir)``."""
    root = tmp_path_factory.mktemp("seed-contract")
    elsewhere, data = root / "somewhere-else", root / "data"
    elsewhere.mkdir()
    data.mkdir()
    with Stack({"FLOWZA_DATA_DIR": str(data), "FLOWZA_RUNS_PER_MINUTE": "1000"}, timeout=READY_TIMEOUT_S,
               cwd=elsewhere) as up:
        yield up.api_url, data


@pytest.fixture(scope="module")
def api(stack):
    with httpx.Client(base_url=stack[0], timeout=60) as client:
        yield client


def wait_for_run(api: httpx.Client, run_id: str) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while (run := api.get(f"/api/runs/{run_id}").json())["status"] not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']} after {RUN_TIMEOUT_S} s"
        time.sleep(0.5)
    return run


def test_the_seeds_validation_script_scores_4_of_4(api, stack):
    (stack[1] / "sample.csv").write_text("name,age,fare\nAllen,29,211.3\nBraund,22,7.25\nCumings,,71.28\n")
    loader = {"id": "load", "type": "csv_loader", "position": {"x": 100, "y": 100},
              "data": {"label": "Load CSV"}, "parameters": {"file_path": "sample.csv"}}
    clean = {"id": "clean", "type": "preprocess", "position": {"x": 300, "y": 100},
             "data": {"label": "Preprocess"}, "parameters": {"drop_nulls": True, "normalize": False}}
    checks = {}

    checks["health"] = api.get("/health").status_code == 200
    checks["tasks"] = api.get("/api/tasks/available").status_code == 200
    one = api.post("/api/workflows/run", json={"name": "day2 one node", "nodes": [loader], "connections": []})
    checks["run"] = one.status_code == 200 and api.get(
        f"/api/workflows/{one.json()['workflow_id']}/status").status_code == 200
    two = api.post("/api/workflows/run", json={"name": "day2 pipeline", "nodes": [loader, clean], "connections": [
        {"source": "load", "target": "clean", "sourceHandle": "dataset", "targetHandle": "dataset"}]})
    checks["pipeline"] = two.status_code == 200
    assert checks == dict.fromkeys(("health", "tasks", "run", "pipeline"), True), (one.text, two.text)

    for answer in (one, two):  # answered at once with the run queued, the seed's field names
        body = answer.json()
        assert set(body) >= {"workflow_id", "run_id", "status"} and body["status"] == "pending"
        assert wait_for_run(api, body["run_id"])["status"] == "completed"
    results = api.get(f"/api/workflows/{two.json()['workflow_id']}/results").json()
    assert results["results"]["clean"]["outputs"]["dataset"]["rows"] == 2

    again = api.post(f"/api/workflows/{two.json()['workflow_id']}/execute")
    assert again.status_code == 200 and again.json()["status"] == "pending"
    assert wait_for_run(api, again.json()["run_id"])["status"] == "completed"
    documented = api.get("/openapi.json").json()["paths"]
    for path in ("/api/workflows/run", "/api/workflows/{workflow_id}/execute"):
        post = documented[path]["post"]
        assert set(post["responses"]) & {"200", "202"} == {"200"} and "queued" in post["description"]


def seed_workflow() -> dict:
    """What a seed client posts with curl: the split's, the trainer's and evaluate's ports by their old names."""
    return {"name": "seed curl", "nodes": [
        {"id": "load", "type": "csv_loader", "parameters": {"file_path": "cancer.csv"}},
        {"id": "split", "type": "train_test_split", "parameters": {"target_column": "target", "test_size": 0.25}},
        {"id": "train", "type": "train_logreg", "parameters": {"max_iter": 5000}},
        {"id": "evaluate", "type": "evaluate", "parameters": {}}],
        "connections": [
            {"source": "load", "target": "split", "sourceHandle": "dataset", "targetHandle": "dataset"},
            {"source": "split", "target": "train", "sourceHandle": "train_dataset", "targetHandle": "train_dataset"},
            {"source": "train", "target": "evaluate", "sourceHandle": "model", "targetHandle": "model"},
            {"source": "split", "target": "evaluate", "sourceHandle": "test_dataset", "targetHandle": "test_dataset"}]}


def test_a_workflow_with_the_seeds_port_names_runs_and_keeps_them(api, stack):
    load_breast_cancer(as_frame=True).frame.to_csv(stack[1] / "cancer.csv", index=False)
    workflow = seed_workflow()

    validated = api.post("/api/workflows/validate", json=workflow).json()
    assert validated == {"valid": True, "problems": [], "order": ["load", "split", "train", "evaluate"]}
    columns = api.post("/api/workflows/columns", json={"workflow": workflow, "node_id": "evaluate"}).json()
    assert columns["problems"] == [] and set(columns["inputs"]) == {"model", "test"}
    assert "target" in [c["name"] for c in columns["inputs"]["test"]["columns"]]

    started = api.post("/api/workflows/run", json=workflow)
    assert started.status_code == 200, started.text
    run = wait_for_run(api, started.json()["run_id"])
    assert run["status"] == "completed", run
    assert run["metrics"]["evaluate"]["accuracy"] > 0.9
    assert set(run["nodes"]["split"]["outputs"]) == {"train", "test"}
    saved = api.get(f"/api/workflows/{started.json()['workflow_id']}").json()["definition"]
    assert saved["connections"] == workflow["connections"]  # stored as written, not rewritten


def test_every_template_runs_away_from_the_repository(api):
    templates = api.get("/api/workflows/templates/").json()
    assert {t["id"] for t in templates} == TEMPLATES
    started = {}
    # those that name a connection run against local servers in tests/api/test_{outside_nodes,retrieval}_api.py
    for template in (t for t in templates if not names_a_connection(t)):
        answer = api.post("/api/workflows/run", json=template)
        assert answer.status_code == 200, (template["id"], answer.text)
        started[template["id"]] = answer.json()["run_id"]
    runs = {name: wait_for_run(api, run_id) for name, run_id in started.items()}
    failed = {name: run.get("error") for name, run in runs.items() if run["status"] != "completed"}
    assert not failed
    # Real Titanic passengers: a logistic regression gets about four in five right, not a look-alike's 0.67.
    for name in ("classification", "titanic"):
        assert 0.76 < runs[name]["metrics"]["evaluate"]["accuracy"] < 0.86, (name, runs[name]["metrics"])
    assert runs["cleaning"]["nodes"]["encode"]["outputs"]["dataset"]["null_counts"] == dict.fromkeys(
        runs["cleaning"]["nodes"]["encode"]["outputs"]["dataset"]["columns"], 0)
