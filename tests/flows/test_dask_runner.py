"""Workflows whose nodes compute on a Dask cluster (``"runner": {"type": "dask"}``): a real
``distributed.LocalCluster`` of two worker processes, real Prefect flow runs against the test server."""

from __future__ import annotations

import pytest

from flowza_core.errors import FlowzaError, WorkflowInvalid

pytestmark = pytest.mark.usefixtures("prefect_api_url")

# What differs between two runs of one workflow however they ran: where outputs are stored, MLflow runs.
RUN_SPECIFIC = {"key", "uri", "model_uri", "mlflow_run_id", "registered"}


def branches(runner: dict | None = None) -> dict:
    """One split feeding three models (logistic regression, random forest, XGBoost), each evaluated."""
    models = {"lr": ("train_logreg", {"C": 0.5}), "rf": ("train_random_forest", {"n_estimators": 30, "max_depth": 4}),
              "xgb": ("train_xgboost", {"n_estimators": 40, "max_depth": 3})}
    nodes = [{"id": "load", "type": "sample_dataset", "parameters": {"name": "breast_cancer"}},
             {"id": "split", "type": "train_test_split", "parameters": {"target_column": "target", "stratify": True}}]
    connections = [{"source": "load", "target": "split"}]
    for model, (node_type, params) in models.items():
        nodes += [{"id": model, "type": node_type, "parameters": params},
                  {"id": f"eval_{model}", "type": "evaluate", "parameters": {}}]
        connections += [{"source": "split", "sourceHandle": "train", "target": model},
                        {"source": model, "target": f"eval_{model}", "targetHandle": "model"},
                        {"source": "split", "sourceHandle": "test", "target": f"eval_{model}", "targetHandle": "test"}]
    return {"name": "Three models", "nodes": nodes, "connections": connections} | ({"runner": runner} if runner else {})


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two Dask worker processes, started in this module's FLOWZA_* environment (workers read their own)."""
    from distributed import Client, LocalCluster

    from flowza_core.settings import get_settings

    home, data = tmp_path_factory.mktemp("dask-home"), tmp_path_factory.mktemp("dask-data")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FLOWZA_HOME", str(home))
        env.setenv("FLOWZA_DATA_DIR", str(data))
        env.delenv("FLOWZA_OBJECT_STORE_URL", raising=False)
        env.delenv("MLFLOW_TRACKING_URI", raising=False)
        get_settings.cache_clear()
        # Not the default client: prefect-dask would use that one whatever address a workflow names.
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                          preload=["flows.dask_runner"]) as local, \
                Client(local, set_as_default=False) as client:
            yield {"address": local.scheduler_address, "client": client, "home": home}
    get_settings.cache_clear()


def comparable(record: dict) -> dict:
    """Each node's status and outputs (summaries, metrics) without where they were stored."""
    return {node_id: {"status": node["status"], "metrics": node.get("metrics"),
                      "outputs": {port: {k: v for k, v in out.items() if k not in RUN_SPECIFIC}
                                  for port, out in node.get("outputs", {}).items()}}
            for node_id, node in record["nodes"].items()}


def test_branches_on_dask_give_the_default_runners_outputs_and_metrics(cluster):
    from distributed import get_task_stream

    from flows.engine import execute

    default = execute(branches(), use_cache=False)
    with get_task_stream(cluster["client"]) as stream:
        on_dask = execute(branches({"type": "dask", "address": cluster["address"]}), use_cache=False)

    assert default["status"] == on_dask["status"] == "completed"
    assert on_dask["metrics"] == default["metrics"] and set(default["metrics"]) == {"eval_lr", "eval_rf", "eval_xgb"}
    assert comparable(on_dask) == comparable(default)
    computed = [task for task in stream.data if task["key"].startswith("compute")]
    assert len(computed) == len(on_dask["nodes"])  # every node's function ran on a Dask worker
    workers = set(cluster["client"].scheduler_info()["workers"])
    assert {task["worker"] for task in computed} == workers  # the branches spread over both worker processes


def test_the_settings_address_serves_a_workflow_that_names_none(cluster, monkeypatch):
    from flows.engine import execute
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_DASK_ADDRESS", cluster["address"])
    get_settings.cache_clear()
    workflow = {"name": "one node", "nodes": [{"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}}],
                "runner": {"type": "dask"}}
    record = execute(workflow, use_cache=False)
    assert record["status"] == "completed" and record["nodes"]["load"]["outputs"]["dataset"]["rows"] == 150


def test_a_node_failing_on_dask_fails_with_its_own_message(cluster):
    from flows.engine import execute

    workflow = {"name": "bad column", "runner": {"type": "dask", "address": cluster["address"]}, "nodes": [
        {"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}},
        {"id": "drop", "type": "drop_columns", "parameters": {"columns": ["no_such_column"]}}],
        "connections": [{"source": "load", "target": "drop"}]}
    default = execute({k: v for k, v in workflow.items() if k != "runner"}, use_cache=False)
    on_dask = execute(workflow, use_cache=False)
    assert on_dask["status"] == "failed" and on_dask["error"] == default["error"]
    assert "no_such_column" in on_dask["error"]["message"]


def test_a_worker_with_other_settings_than_the_run_refuses_its_nodes(cluster, monkeypatch):
    from flows.engine import execute
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", "true")  # here, not on the Dask workers
    get_settings.cache_clear()
    workflow = {"name": "one node", "nodes": [{"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}}],
                "runner": {"type": "dask", "address": cluster["address"]}}
    record = execute(workflow, use_cache=False)
    assert record["status"] == "failed" and record["error"]["code"] == "DASK_WORKER_SETTINGS"
    assert "differ from the run's: FLOWZA_HTTP_ALLOW_PRIVATE;" in record["error"]["message"]


def test_an_unreachable_scheduler_stops_the_run_with_what_to_do(cluster):
    from tests.conftest import free_port
    from flows.engine import execute

    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(FlowzaError) as failed:
        execute(branches({"type": "dask", "address": address}))
    message = str(failed.value)
    assert f"could not reach the Dask scheduler at {address}" in message and "dask worker" in message
    assert "Traceback" not in message


def test_a_multi_user_server_refuses_any_scheduler_but_its_own(monkeypatch):
    from flows.validation import compile_plan
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_AUTH_ENABLED", "true")
    monkeypatch.setenv("FLOWZA_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    get_settings.cache_clear()
    try:
        with pytest.raises(WorkflowInvalid) as refused:
            compile_plan(branches({"type": "dask", "address": "tcp://203.0.113.9:8786"}))
        assert "FLOWZA_DASK_ADDRESS (only tcp://10.0.0.5:8786)" in str(refused.value)
        assert compile_plan(branches({"type": "dask"})).spec.runner.scheduler() == "tcp://10.0.0.5:8786"
        assert compile_plan(branches({"type": "dask", "address": "10.0.0.5:8786"})).spec.runner.scheduler() \
            == "tcp://10.0.0.5:8786"
        monkeypatch.delenv("FLOWZA_DASK_ADDRESS")
        get_settings.cache_clear()
        with pytest.raises(WorkflowInvalid, match="FLOWZA_DASK_ADDRESS is not set"):
            compile_plan(branches({"type": "dask", "address": "tcp://10.0.0.5:8786"}))
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("runner, says", [
    ({"type": "spark"}, "runner.type: Input should be 'default' or 'dask'"),
    ({"type": "dask", "address": "http://10.0.0.5:8786"}, "is not a Dask scheduler address"),
    ({"type": "dask", "address": "tcp://10.0.0.5"}, "give tcp://host:port"),
    ({"type": "dask", "address": "tcp://10.0.0.5:8786/x"}, "is not a Dask scheduler address"),
    ({"type": "default", "address": "tcp://10.0.0.5:8786"}, "an address goes only with the runner type 'dask'"),
    ({"type": "dask", "workers": 3}, "runner.workers: Extra inputs are not permitted"),
    ({"type": "dask"}, "give runner.address (tcp://host:8786) or set FLOWZA_DASK_ADDRESS"),
])
def test_a_malformed_runner_is_a_workflow_problem(runner, says, monkeypatch):
    from flows.validation import validate_workflow
    from flowza_core.settings import get_settings

    monkeypatch.delenv("FLOWZA_DASK_ADDRESS", raising=False)
    get_settings.cache_clear()
    plan, problems = validate_workflow(branches(runner))
    assert plan is None and any(says in p.message and p.code == "INVALID_WORKFLOW" for p in problems), problems


def test_the_runner_survives_the_sdk_and_the_api(flowza_env):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from flowza import Workflow

    runner = {"type": "dask", "address": "tcp://10.0.0.5:8786"}
    assert Workflow.from_json(branches(runner)).to_json()["runner"] == runner
    with TestClient(create_app()) as client:
        saved = client.post("/api/workflows/", json=branches(runner))
        assert saved.status_code == 201, saved.text
        workflow_id = saved.json()["id"]
        assert client.get(f"/api/workflows/{workflow_id}").json()["definition"]["runner"] == runner
        moved = runner | {"address": "tcp://10.0.0.6:8786"}
        assert client.put(f"/api/workflows/{workflow_id}", json=branches(moved)).status_code == 200
        assert client.get(f"/api/workflows/{workflow_id}").json()["definition"]["runner"] == moved
        refused = client.put(f"/api/workflows/{workflow_id}", json=branches({"type": "dask", "address": "nowhere"}))
        assert refused.status_code == 422 and "'nowhere' is not a Dask scheduler address" in refused.json()["message"]
