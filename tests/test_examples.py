"""Every shipped example workflow validates and runs to completion, with believable metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.workflows import names_a_connection

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


# Examples that name a connection need servers (PostgreSQL, S3, an API, a model): here, with none, they could only
# fail to connect. They run through the service against local servers in tests/api/test_outside_nodes_api.py
# (integration.json) or in their own API test (retrieval.json: tests/api/test_retrieval_api.py).
SELF_CONTAINED = [path for path in EXAMPLES if not names_a_connection(json.loads(path.read_text()))]


def run_example(path: Path, monkeypatch) -> tuple[dict, dict]:
    from flows.engine import execute
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_DATA_DIR", str(ROOT))  # passengers.json reads a file of the repository
    get_settings.cache_clear()
    workflow = json.loads(path.read_text())
    record = execute(workflow)
    assert record["status"] == "completed", record
    return workflow, record


def evaluations(record: dict) -> dict:
    return {node_id: node["metrics"] for node_id, node in record["nodes"].items() if node["type"] == "evaluate"}


@pytest.mark.parametrize("path", SELF_CONTAINED, ids=[p.stem for p in SELF_CONTAINED])
def test_example_runs(path, flowza_env, prefect_api_url, monkeypatch):
    workflow, record = run_example(path, monkeypatch)
    titanic = any(n.get("parameters") == {"name": "titanic"} for n in workflow["nodes"])
    for node_id, metrics in evaluations(record).items():
        assert metrics.get("accuracy", 0) > 0.6 or metrics.get("r2", 0) > 0.3, (node_id, metrics)
        if titanic:  # the real passenger list: about four in five, as published models get
            assert 0.76 < metrics["accuracy"] < 0.86, (node_id, metrics)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_says_what_it_shows(path):
    workflow = json.loads(path.read_text())
    if path.stem == "passengers":  # a `flowza run` example of the repository, not a gallery template
        return
    assert workflow["name"] and len(workflow["description"]) > 60, path.stem
    xs = {n["id"]: n["position"]["x"] for n in workflow["nodes"]}
    for edge in workflow["connections"]:  # laid out left to right, as data flows
        assert xs[edge["source"]] < xs[edge["target"]], (path.stem, edge)


def test_house_prices_template_beats_a_guess_by_far(flowza_env, prefect_api_url, monkeypatch):
    workflow, record = run_example(ROOT / "examples" / "regression.json", monkeypatch)

    assert [n["type"] for n in workflow["nodes"]] == ["sample_dataset", "impute", "one_hot_encode",
                                                      "train_test_split", "train_xgboost", "evaluate"]
    (metrics,) = evaluations(record).values()
    assert metrics["r2"] > 0.7, metrics
    assert 0 < metrics["mae"] < metrics["rmse"] < 60_000, metrics  # dollars, on prices around 150,000
    encoded = record["nodes"]["encode"]["outputs"]["dataset"]
    assert set(encoded["null_counts"].values()) == {0}  # every gap filled before the model sees the rows
    assert "neighborhood_Old Town" in encoded["columns"] and "heating" not in encoded["columns"]


def test_model_comparison_scores_three_models_on_one_split(flowza_env, prefect_api_url, monkeypatch):
    workflow, record = run_example(ROOT / "examples" / "model_comparison.json", monkeypatch)

    assert [n["type"] for n in workflow["nodes"]].count("train_test_split") == 1
    scored = evaluations(record)
    assert set(scored) == {"evaluate_logreg", "evaluate_forest", "evaluate_xgboost"}
    assert all(record["nodes"][node_id]["status"] == "completed" for node_id in scored)
    tests = {(e["source"], e.get("sourceHandle")) for e in workflow["connections"]
             if e["target"] in scored and e.get("targetHandle") == "test"}
    assert tests == {("split", "test")}  # the same held-out rows for every model
    for node_id, metrics in scored.items():
        assert 0.76 < metrics["accuracy"] < 0.88 and 0.8 < metrics["roc_auc"] < 0.95, (node_id, metrics)
    assert len({round(m["accuracy"], 6) for m in scored.values()} | {round(m["roc_auc"], 6)
                                                                   for m in scored.values()}) > 1
