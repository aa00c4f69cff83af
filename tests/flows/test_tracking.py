"""Training runs in MLflow: metrics, params, plots, lineage, registered versions, aliases.

Real MLflow: SQLite + local artifacts by default; PostgreSQL + artifacts on a local S3
API server (moto) in the last test.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from flowza_core.settings import get_settings
from flows import registry
from nodes.samples import load_sample
from tests.workflows import scalars, two_models

pytestmark = pytest.mark.usefixtures("prefect_api_url")
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "titanic.json").read_text())


def run(wf, **kwargs):
    from flows.engine import execute

    return execute(wf, **kwargs)


def mlflow_client():
    return mlflow.MlflowClient(get_settings().tracking_uri)


def predictions_of(record, node="evaluate"):
    uri = record["nodes"][node]["outputs"]["predictions"]["uri"]
    return pd.read_feather(uri.removeprefix("file://"))


def test_a_training_run_is_an_mlflow_run_with_lineage(flowza_env):
    record = run(EXAMPLE)
    assert record["status"] == "completed"
    metrics = record["nodes"]["evaluate"]["metrics"]
    mlrun = mlflow_client().get_run(record["mlflow_run_id"])
    assert mlrun.info.status == "FINISHED"
    for key in ("accuracy", "f1_score", "precision", "recall", "roc_auc"):
        assert mlrun.data.metrics[key] == metrics[key]
    assert mlrun.data.params["train.C"] == "1.0"
    tags = mlrun.data.tags
    assert tags["flowza.workflow_name"] == "Titanic survival"
    assert tags["flowza.run_id"] == record["run_id"]
    assert tags["prefect.flow_run_id"] == record["flow_run_id"]
    model_run = mlflow_client().get_run(record["mlflow_model_runs"]["train"])  # the model's own, nested run
    assert model_run.data.tags["mlflow.parentRunId"] == mlrun.info.run_id and model_run.info.status == "FINISHED"
    assert model_run.data.params["C"] == "1.0" and model_run.data.tags["flowza.run_id"] == record["run_id"]
    for key in ("accuracy", "f1_score", "precision", "recall", "roc_auc"):
        assert model_run.data.metrics[key] == metrics[key]
    artifacts = {a.path for a in mlflow_client().list_artifacts(model_run.info.run_id, "evaluation/evaluate")}
    assert {"evaluation/evaluate/confusion_matrix.png", "evaluation/evaluate/roc_curve.png",
            "evaluation/evaluate/feature_importance.png", "evaluation/evaluate/metrics.json"} <= artifacts
    assert not mlflow_client().list_artifacts(mlrun.info.run_id)  # the parent is a summary


def test_registered_version_predicts_raw_rows_exactly_as_evaluated(flowza_env):
    record = run(EXAMPLE)
    registered = record["nodes"]["register"]["outputs"]["model"]["registered"]
    assert registered["name"] == "titanic-survival" and registered["alias"] == "staging"
    scored = predictions_of(record)
    raw_test_rows = load_sample("titanic").loc[scored.index].drop(columns=["survived"])  # before any Flowza transform
    model = mlflow.pyfunc.load_model(f"models:/titanic-survival/{registered['version']}")
    assert list(model.predict(raw_test_rows)) == list(scored["prediction"])
    assert registry.version_by_alias("titanic-survival", "staging") == registered["version"]
    version = registry.list_versions("titanic-survival")[0]
    assert version["aliases"] == ["staging"]
    assert version["metrics"]["accuracy"] == record["nodes"]["evaluate"]["metrics"]["accuracy"]
    assert version["lineage"]["flowza.run_id"] == record["run_id"]
    assert version["lineage"]["flowza.node_id"] == "register"


def test_same_workflow_twice_gives_same_metrics_and_reuses_the_version(flowza_env):
    first = run(EXAMPLE)
    second = run(EXAMPLE, use_cache=False)
    assert second["nodes"]["evaluate"]["metrics"] == first["nodes"]["evaluate"]["metrics"]
    third = run(EXAMPLE)
    assert all(n["cached"] for n in third["nodes"].values())
    assert third["mlflow_run_id"] not in (first["mlflow_run_id"], second["mlflow_run_id"])
    assert mlflow_client().get_run(third["mlflow_run_id"]).data.metrics["accuracy"] == \
        first["nodes"]["evaluate"]["metrics"]["accuracy"]
    # A recomputed model is a new version; a reused one is the version it was registered as.
    versions = [v["version"] for v in registry.list_versions("titanic-survival")]
    assert versions == [2, 1]
    assert third["nodes"]["register"]["outputs"]["model"]["registered"]["version"] == 2


def xgboost_workflow(n_estimators: int) -> dict:
    """The XGBoost template: CSV → normalize → split → XGBoost → evaluate → register."""
    return {"name": "Wine XGBoost", "nodes": [
        {"id": "load", "type": "csv_loader", "parameters": {"file_path": "wine.csv"}},
        {"id": "norm", "type": "normalize", "parameters": {}},
        {"id": "split", "type": "train_test_split", "parameters": {"target_column": "target", "stratify": True}},
        {"id": "xgb", "type": "train_xgboost", "parameters": {"n_estimators": n_estimators}},
        {"id": "eval", "type": "evaluate", "parameters": {}},
        {"id": "reg", "type": "register_model", "parameters": {"name": "wine", "alias": "champion"}}],
        "connections": [
            {"source": "load", "target": "norm"}, {"source": "norm", "target": "split"},
            {"source": "split", "sourceHandle": "train", "target": "xgb"},
            {"source": "xgb", "target": "eval"}, {"source": "split", "sourceHandle": "test", "target": "eval"},
            {"source": "xgb", "target": "reg"}]}


def test_xgboost_template_and_moving_aliases(flowza_env):
    from sklearn.datasets import load_wine

    load_wine(as_frame=True).frame.to_csv(flowza_env["data"] / "wine.csv", index=False)
    first = run(xgboost_workflow(50))
    assert first["status"] == "completed"
    assert first["nodes"]["eval"]["metrics"]["f1_score_macro"] > 0.8
    second = run(xgboost_workflow(60))
    assert [n["cached"] for n in second["nodes"].values()] == [True, True, True, False, False, False]
    assert registry.version_by_alias("wine", "champion") == 2
    registry.set_alias("wine", "champion", 1)
    assert registry.version_by_alias("wine", "champion") == 1
    registry.remove_alias("wine", "champion")
    with pytest.raises(registry.ModelNotFound):
        registry.version_by_alias("wine", "champion")
    assert [m["name"] for m in registry.list_models()] == ["wine"]
    files = {p.name for p in registry.download_model("wine", 2, flowza_env["home"] / "dl").rglob("*")}
    assert {"MLmodel", "model.pkl"} <= files
    with pytest.raises(registry.ModelNotFound):
        registry.list_versions("no-such-model")


def test_postgres_backend_and_s3_artifacts(flowza_env, postgres_database, s3_bucket, s3_endpoint, monkeypatch):
    client, bucket = s3_bucket
    monkeypatch.setenv("FLOWZA_MLFLOW_TRACKING_URI", postgres_database.replace("postgresql://", "postgresql+psycopg2://"))
    monkeypatch.setenv("FLOWZA_MLFLOW_ARTIFACT_ROOT", f"s3://{bucket}/mlflow")
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_endpoint)
    get_settings.cache_clear()
    record = run(EXAMPLE)
    assert record["status"] == "completed"
    mlrun = mlflow_client().get_run(record["mlflow_run_id"])
    assert mlrun.info.artifact_uri.startswith(f"s3://{bucket}/mlflow/")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="mlflow/")["Contents"]]
    assert any(k.endswith("confusion_matrix.png") for k in keys)
    assert any(k.endswith("MLmodel") for k in keys)
    version = registry.list_versions("titanic-survival")[0]
    model = mlflow.pyfunc.load_model(f"models:/titanic-survival/{version['version']}")
    scored = predictions_of(record)
    assert list(model.predict(load_sample("titanic").loc[scored.index])) == list(scored["prediction"])


def test_each_registered_model_shows_only_its_own_run(flowza_env):
    from flows import registry_artifacts

    record = run(two_models())
    assert record["status"] == "completed", record.get("error")
    client = mlflow_client()
    runs = record["mlflow_model_runs"]
    assert set(runs) == {"lr", "rf"}
    for model_node, evaluation, name, param, other in (("lr", "eval_lr", "iris-logreg", "C", "n_estimators"),
                                                       ("rf", "eval_rf", "iris-forest", "n_estimators", "C")):
        own = record["nodes"][evaluation]["metrics"]
        [version] = registry.list_versions(name)
        assert version["run_id"] == runs[model_node]
        assert version["metrics"] == scalars(own)  # keyed as named, and nothing of the other model
        child = client.get_run(runs[model_node])
        assert child.data.tags["mlflow.parentRunId"] == record["mlflow_run_id"]
        assert child.data.tags["flowza.node_id"] == model_node and child.info.status == "FINISHED"
        detail = registry.describe_version(name, version["version"])
        assert param in detail["params"] and other not in detail["params"]  # its own params, keyed as named
        assert detail["lineage"]["flowza.run_id"] == record["run_id"]
        files = {f["path"] for f in registry_artifacts.list_artifacts(name, version["version"])}
        assert f"evaluation/{evaluation}/feature_importance.png" in files
        assert not any(p.startswith("evaluation/") and not p.startswith(f"evaluation/{evaluation}/") for p in files)
        logged = json.loads(Path(registry_artifacts.download_artifact(
            name, version["version"], f"evaluation/{evaluation}/metrics.json", flowza_env["home"] / model_node))
            .read_text())
        assert logged["feature_importance"] == own["feature_importance"]
    lr_acc, rf_acc = (record["nodes"][e]["metrics"]["accuracy"] for e in ("eval_lr", "eval_rf"))
    summary = client.get_run(record["mlflow_run_id"]).data  # the parent: a summary keyed by node
    assert summary.metrics["eval_lr.accuracy"] == lr_acc and summary.metrics["eval_rf.accuracy"] == rf_acc
    assert summary.params["lr.C"] == "0.5" and summary.params["rf.n_estimators"] == "20"
    plots = [Path(registry_artifacts.download_artifact(name, 1, f"evaluation/{e}/feature_importance.png",
                                                       flowza_env["home"] / f"{e}-png")).read_bytes()
             for name, e in (("iris-logreg", "eval_lr"), ("iris-forest", "eval_rf"))]
    assert plots[0] != plots[1]

    # Reused nodes land in this run's model runs: the same metrics, under the right model, no new version.
    again = run(two_models())
    assert all(n["cached"] for n in again["nodes"].values())
    assert set(again["mlflow_model_runs"]) == {"lr", "rf"}
    for model_node, evaluation in (("lr", "eval_lr"), ("rf", "eval_rf")):
        child = client.get_run(again["mlflow_model_runs"][model_node])
        assert child.data.tags["mlflow.parentRunId"] == again["mlflow_run_id"]
        assert child.data.metrics == scalars(record["nodes"][evaluation]["metrics"])
        assert child.data.tags["flowza.reused_model"] == record["nodes"][model_node]["outputs"]["model"]["model_uri"]
    assert [v["version"] for v in registry.list_versions("iris-forest")] == [1]


def refuse_inserts(table: str, reason: str) -> None:
    """Make MLflow's own database refuse new rows of ``table`` (as a read-only or broken registry would)."""
    import sqlite3

    from flows.tracking import configure_mlflow

    configure_mlflow(get_settings())  # creates the tracking database
    with sqlite3.connect(get_settings().tracking_uri.removeprefix("sqlite:///")) as db:
        db.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, '{reason}'); END")


def test_the_register_node_completes_once_the_version_exists(flowza_env):
    from flows.engine import execute

    seen = {}

    def on_event(event):
        if event["event"] == "node_finished" and event["node_id"] == "register":
            versions = mlflow_client().search_model_versions("name = 'titanic-survival'")
            seen["versions"] = [int(v.version) for v in versions]
            seen["alias"] = mlflow_client().get_registered_model("titanic-survival").aliases

    record = execute(EXAMPLE, on_event=on_event)
    assert record["status"] == "completed" and "error" not in record
    assert seen == {"versions": [1], "alias": {"staging": 1}}
    registered = record["nodes"]["register"]["outputs"]["model"]["registered"]
    assert registered["run_id"] == record["mlflow_model_runs"]["train"]


def test_a_refused_registration_fails_the_register_node_and_the_run(flowza_env):
    refuse_inserts("model_versions", "the registry is read-only")
    record = run(EXAMPLE)
    assert record["status"] == "failed"
    register = record["nodes"]["register"]
    assert register["status"] == "failed" and register["error"]["code"] == "REGISTRY_ERROR"
    # MLflow's own words (it retries the refused insert, then gives up).
    assert register["error"]["message"].startswith("MLflow could not register the model as 'titanic-survival': ")
    assert "Model Version creation error" in register["error"]["message"]
    assert record["error"] == {"code": "REGISTRY_ERROR", "message": register["error"]["message"],
                               "node_id": "register"}
    assert record["nodes"]["train"]["status"] == record["nodes"]["evaluate"]["status"] == "completed"
    # Nothing half-done is reused: the next run registers again (and succeeds once the registry accepts it).
    with __import__("sqlite3").connect(get_settings().tracking_uri.removeprefix("sqlite:///")) as db:
        db.execute("DROP TRIGGER refuse_model_versions")
    again = run(EXAMPLE)
    assert again["status"] == "completed" and not again["nodes"]["register"]["cached"]
    assert again["nodes"]["train"]["cached"]
    assert again["nodes"]["register"]["outputs"]["model"]["registered"]["version"] == 1


def test_a_model_mlflow_cannot_store_fails_its_training_node(flowza_env):
    refuse_inserts("logged_models", "no room for models")
    record = run(EXAMPLE)
    assert record["status"] == "failed"
    train = record["nodes"]["train"]
    assert train["status"] == "failed" and train["error"]["code"] == "TRACKING_ERROR"
    assert "no room for models" in train["error"]["message"]
    assert record["error"]["node_id"] == "train" and record["error"]["code"] == "TRACKING_ERROR"
    assert record["nodes"]["evaluate"]["status"] == record["nodes"]["register"]["status"] == "not_run"
    assert mlflow_client().get_run(record["mlflow_model_runs"]["train"]).info.status == "FAILED"


def test_mlflow_unreachable_fails_the_training_node_saying_so(flowza_env, monkeypatch):
    from tests.conftest import free_port

    port = free_port()
    monkeypatch.setenv("FLOWZA_MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    get_settings.cache_clear()
    record = run(EXAMPLE)  # Flowza bounds MLflow's retries: seconds, not MLflow's minutes
    assert record["status"] == "failed"
    assert record["error"]["node_id"] == "train" and record["error"]["code"] == "MLFLOW_UNAVAILABLE"
    assert record["error"]["message"].startswith(f"MLflow is not reachable at http://127.0.0.1:{port} ")
    assert record["nodes"]["clean"]["status"] == "completed"  # nodes that need no MLflow are not held up
    assert record["nodes"]["register"]["status"] == "not_run" and "mlflow_run_id" not in record
