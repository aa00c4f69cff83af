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

from flowza.settings import get_settings
from flows import registry
from nodes.samples import titanic_like

pytestmark = pytest.mark.usefixtures("prefect_api_url")
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "titanic.json").read_text())


def run(wf, **kwargs):
    from flows.engine import execute

    return execute(wf, **kwargs)


def mlflow_client():
    return mlflow.MlflowClient(get_settings().tracking_uri)


def predictions_of(record, node="evaluate"):
    uri = record["nodes"][node]["outputs"]["predictions"]["uri"]
    return pd.read_parquet(uri.removeprefix("file://"))


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
    artifacts = {a.path for a in mlflow_client().list_artifacts(mlrun.info.run_id, "evaluation/evaluate")}
    assert {"evaluation/evaluate/confusion_matrix.png", "evaluation/evaluate/roc_curve.png",
            "evaluation/evaluate/feature_importance.png", "evaluation/evaluate/metrics.json"} <= artifacts


def test_registered_version_predicts_raw_rows_exactly_as_evaluated(flowza_env):
    record = run(EXAMPLE)
    registered = record["nodes"]["register"]["outputs"]["model"]["registered"]
    assert registered["name"] == "titanic-survival" and registered["alias"] == "staging"
    scored = predictions_of(record)
    raw_test_rows = titanic_like().loc[scored.index].drop(columns=["Survived"])  # before any Flowza transform
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
    assert list(model.predict(titanic_like().loc[scored.index])) == list(scored["prediction"])
