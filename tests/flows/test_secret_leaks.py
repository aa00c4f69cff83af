"""A planted database password goes nowhere but the node that opens the connection: a real run reads a table from
PostgreSQL, trains, registers the model in MLflow and writes the table back; then the run record, the object store,
Prefect's parameters and logs, our logs, every MLflow run (params, tags, metrics, artifacts, registered versions)
and the workflow's exports are searched for it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from flows.export import export_workflow
from flowza_core.settings import get_settings
from nodes.samples import load_sample
from tests.flows.test_connections import everything_stored, prefect_logs_and_parameters, save

pytestmark = pytest.mark.usefixtures("prefect_api_url")
PLANTED = "pl4nted-DB-pa55word-7f3e"  # this machine's PostgreSQL trusts local logins, so any password connects

WORKFLOW = {
    "name": "From the warehouse",
    "nodes": [{"id": "query", "type": "sql_query", "parameters": {
                  "connection": "warehouse", "query": "SELECT * FROM iris WHERE target >= :least",
                  "parameters": {"least": 0}}},
              {"id": "split", "type": "train_test_split", "parameters": {"target_column": "target"}},
              {"id": "train", "type": "train_logreg", "parameters": {}},
              {"id": "evaluate", "type": "evaluate", "parameters": {}},
              {"id": "register", "type": "register_model", "parameters": {"name": "warehouse-iris"}},
              {"id": "write", "type": "db_write", "parameters": {"connection": "warehouse", "table": "iris_copy"}}],
    "connections": [{"source": "query", "target": "split"}, {"source": "split", "sourceHandle": "train", "target": "train"},
                    {"source": "train", "target": "evaluate"},
                    {"source": "split", "sourceHandle": "test", "target": "evaluate", "targetHandle": "test"},
                    {"source": "train", "target": "register"}, {"source": "query", "target": "write"}]}


def everything_in_mlflow() -> str:
    """Every MLflow run's params, tags, metrics and artifact files, every logged model's files, and every registered
    version, as one text."""
    client = mlflow.MlflowClient(get_settings().tracking_uri)
    found = []
    for experiment in client.search_experiments():
        for run in client.search_runs([experiment.experiment_id]):
            found.append(json.dumps({"params": run.data.params, "tags": run.data.tags,
                                     "metrics": run.data.metrics}))
            if client.list_artifacts(run.info.run_id):
                folder = Path(client.download_artifacts(run.info.run_id, "."))
                found += [p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()]
    for logged in client.search_logged_models([e.experiment_id for e in client.search_experiments()]):
        found.append(json.dumps({"params": logged.params, "tags": logged.tags, "name": logged.name}))
        folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=logged.artifact_location,
                                                          tracking_uri=get_settings().tracking_uri))
        found += [p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()]
    for model in client.search_registered_models():
        for version in client.search_model_versions(f"name='{model.name}'"):
            found.append(json.dumps({"name": version.name, "tags": version.tags, "source": version.source, "description":
                                     version.description, "run_link": version.run_link}))
    return "\n".join(found)


def test_a_planted_password_is_nowhere_after_a_run_that_used_it(flowza_env, postgres_database, caplog):
    from flows.engine import execute

    url = make_url(postgres_database).set(password=PLANTED).render_as_string(hide_password=False)
    with sa.create_engine(url).begin() as connection:
        load_sample("iris").to_sql("iris", connection, index=False)
    save(None, "warehouse", url)
    caplog.set_level(logging.DEBUG)

    record = execute(WORKFLOW, use_cache=False)

    assert record["status"] == "completed", record.get("error")
    assert record["nodes"]["evaluate"]["metrics"]["accuracy"] > 0.8
    assert record["nodes"]["write"]["outputs"]["json"]["value"]["rows_written"] == 150
    with sa.create_engine(url).connect() as connection:
        assert pd.read_sql("SELECT count(*) AS n FROM iris_copy", connection)["n"][0] == 150
    messages, parameters = prefect_logs_and_parameters(record["flow_run_id"], "Finished")
    mlflow_text = everything_in_mlflow()
    assert '"name": "warehouse-iris"' in mlflow_text and "flavors:" in mlflow_text  # versions and model files searched
    exports = [export_workflow(WORKFLOW, fmt).text for fmt in ("py", "ipynb", "json")]
    for where, text in [("run record", json.dumps(record)), ("object store", everything_stored(flowza_env["home"])),
                        ("Prefect parameters", json.dumps(parameters)), ("Prefect logs", "\n".join(messages)),
                        ("our logs", caplog.text), ("MLflow", mlflow_text), *(("export", e) for e in exports)]:
        assert PLANTED not in where, f"the planted password is in the {where}"
