"""A run whose MLflow stops answering ends ``failed`` with MLflow's error on the node, within a bounded time."""

from __future__ import annotations

import threading
import time

import pytest

from flowza_core.settings import get_settings
from tests.mlflow_server import frozen, start_mlflow, stop

pytestmark = pytest.mark.usefixtures("prefect_api_url")
WORKER_TIMEOUT_S = 3  # FLOWZA_MLFLOW_WORKER_TIMEOUT_S: each MLflow request of the run waits this long a try
BOUND_S = 150  # generous for a loaded CI box; before the fix such a run stayed `running` for 25+ minutes


def registering(alias: str) -> dict:
    return {"name": "frozen registry", "nodes": [
        {"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}},
        {"id": "split", "type": "train_test_split", "parameters": {"target_column": "target"}},
        {"id": "train", "type": "train_logreg", "parameters": {}},
        {"id": "register", "type": "register_model", "parameters": {"name": "iris-frozen", "alias": alias}}],
        "connections": [{"source": "load", "target": "split"},
                        {"source": "split", "sourceHandle": "train", "target": "train"},
                        {"source": "train", "target": "register"}]}


def run_within(workflow: dict, seconds: float) -> tuple[dict, float]:
    """Run in-process on a thread; the record and how long it took, or a failure if it outlives ``seconds``."""
    from flows.engine import execute

    outcome: dict = {}
    started = time.monotonic()

    def work():
        try:
            outcome["record"] = execute(workflow)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="frozen-mlflow-run", daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the run was still going after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["record"], time.monotonic() - started


def test_a_register_step_whose_mlflow_is_frozen_fails_the_run(flowza_env, monkeypatch, tmp_path):
    server, url = start_mlflow(tmp_path)
    try:
        monkeypatch.setenv("FLOWZA_MLFLOW_TRACKING_URI", url)
        monkeypatch.setenv("FLOWZA_MLFLOW_WORKER_TIMEOUT_S", str(WORKER_TIMEOUT_S))
        get_settings.cache_clear()
        first, _ = run_within(registering("staging"), BOUND_S)
        assert first["status"] == "completed", first.get("error")
        assert first["nodes"]["register"]["outputs"]["model"]["registered"]["version"] == 1

        # The same model (its training reused) registered again under a new alias, while MLflow is frozen.
        with frozen(server):
            record, took = run_within(registering("champion"), BOUND_S)
        assert record["status"] == "failed", record
        assert record["nodes"]["train"]["cached"]
        error = record["nodes"]["register"]["error"]
        assert record["nodes"]["register"]["status"] == "failed" and error["code"] == "MLFLOW_UNAVAILABLE", error
        assert f"did not answer within {WORKER_TIMEOUT_S} s" in error["message"] and url in error["message"]
        assert took < BOUND_S
    finally:
        stop(server)
