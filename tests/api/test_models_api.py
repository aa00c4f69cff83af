"""/api/models over a real MLflow registry: one Titanic training run registers the model for the module."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from flowza_core.settings import get_settings
from tests.conftest import free_port
from tests.workflows import scalars, two_models

ROOT = Path(__file__).resolve().parents[2]
TITANIC = json.loads((ROOT / "examples" / "titanic.json").read_text())
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained(prefect_api_url, tmp_path_factory):
    """The Titanic example run in-process once: registers titanic-survival v1 (alias staging) in SQLite MLflow."""
    trained = run_in_own_home(TITANIC, tmp_path_factory.mktemp("models-home"))
    assert trained["record"]["status"] == "completed", trained["record"]
    return trained


def run_in_own_home(workflow: dict, home) -> dict:
    """Run ``workflow`` in-process on a fresh FLOWZA_HOME (its own SQLite MLflow); its record and tracking URI."""
    from flows.engine import execute

    with pytest.MonkeyPatch.context() as env:
        env.setenv("FLOWZA_HOME", str(home))
        for name in ("FLOWZA_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI", "FLOWZA_OBJECT_STORE_URL"):
            env.delenv(name, raising=False)
        get_settings.cache_clear()
        record = execute(workflow)
        uri = get_settings().tracking_uri
    get_settings.cache_clear()
    return {"record": record, "tracking_uri": uri}


def use_registry(monkeypatch, tracking_uri: str) -> None:
    monkeypatch.setenv("FLOWZA_MLFLOW_TRACKING_URI", tracking_uri)
    get_settings.cache_clear()


@pytest.fixture
def api(client, trained, monkeypatch):
    """The single-user API client, reading the module's registry."""
    use_registry(monkeypatch, trained["tracking_uri"])
    return client


def test_list_and_detail_carry_metrics_lineage_and_no_mlflow_link_for_a_local_store(api, trained):
    record = trained["record"]
    listed = api.get("/api/models/")
    assert listed.status_code == 200, listed.text
    [model] = listed.json()
    assert model["name"] == "titanic-survival" and model["latest_version"] == 1
    assert model["aliases"] == {"staging": 1} and model["updated_at"] >= model["created_at"]

    detail = api.get("/api/models/titanic-survival").json()
    [version] = detail["versions"]
    assert version["version"] == 1 and version["aliases"] == ["staging"] and version["status"] == "READY"
    assert version["run_id"] == record["mlflow_model_runs"]["train"]  # the model's own MLflow run
    assert version["metrics"]["accuracy"] == record["nodes"]["evaluate"]["metrics"]["accuracy"]
    lineage = version["lineage"]
    assert lineage["flowza_run_id"] == record["run_id"] and lineage["workflow_name"] == "Titanic survival"
    assert lineage["prefect_flow_run_id"] == record["flow_run_id"] and lineage["node_id"] == "register"
    assert version["links"] == {}  # SQLite tracking: no MLflow UI; the run is not in this API's database

    one = api.get("/api/models/titanic-survival/versions/1").json()
    assert one["params"]["C"] == "1.0" and one["run_status"] == "FINISHED"
    assert one["metrics"] == version["metrics"] and one["lineage"] == lineage
    assert one["source"].startswith("models:/")


def test_unknown_model_or_version_is_404(api):
    for url in ("/api/models/no-such-model", "/api/models/no-such-model/versions/1",
                "/api/models/titanic-survival/versions/7", "/api/models/titanic-survival/versions/7/artifacts",
                "/api/models/titanic-survival/versions/7/download"):
        answer = api.get(url)
        assert answer.status_code == 404 and answer.json()["code"] == "MODEL_NOT_FOUND", (url, answer.text)
    moved = api.put("/api/models/no-such-model/aliases/champion", json={"version": 1})
    assert moved.status_code == 404 and moved.json()["code"] == "MODEL_NOT_FOUND"
    assert api.put("/api/models/titanic-survival/aliases/champion", json={"version": 7}).status_code == 404
    assert api.delete("/api/models/titanic-survival/aliases/never-set").status_code == 404


def test_set_and_remove_an_alias(api):
    put = api.put("/api/models/titanic-survival/aliases/champion", json={"version": 1})
    assert put.status_code == 200 and put.json() == {"name": "titanic-survival", "alias": "champion", "version": 1}
    try:
        detail = api.get("/api/models/titanic-survival").json()
        assert detail["aliases"] == {"champion": 1, "staging": 1}
        assert detail["versions"][0]["aliases"] == ["champion", "staging"]
        assert api.get("/api/models/titanic-survival/versions/1").json()["aliases"] == ["champion", "staging"]
    finally:
        removed = api.delete("/api/models/titanic-survival/aliases/champion")
    assert removed.status_code == 204
    assert api.get("/api/models/titanic-survival").json()["aliases"] == {"staging": 1}


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v3", "V12", "has space", "dot.ted", "x" * 256])
def test_bad_alias_names_are_422_naming_the_field(api, alias):
    answer = api.put(f"/api/models/titanic-survival/aliases/{alias}", json={"version": 1})
    assert answer.status_code == 422, answer.text
    assert answer.json()["details"]["problems"][0]["field"] == "path.alias"
    assert api.get("/api/models/titanic-survival").json()["aliases"] == {"staging": 1}


def test_bad_alias_body_is_422(api):
    for body in ({}, {"version": 0}, {"version": "one"}):
        answer = api.put("/api/models/titanic-survival/aliases/champion", json=body)
        assert answer.status_code == 422 and "version" in answer.json()["message"], answer.text


def test_artifacts_are_listed_and_plots_download_as_png(api):
    files = api.get("/api/models/titanic-survival/versions/1/artifacts").json()
    paths = {f["path"]: f["size"] for f in files}
    assert {"evaluation/evaluate/confusion_matrix.png", "evaluation/evaluate/roc_curve.png",
            "evaluation/evaluate/metrics.json"} <= set(paths)
    plot = api.get("/api/models/titanic-survival/versions/1/artifacts/evaluation/evaluate/roc_curve.png")
    assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
    assert plot.content.startswith(PNG_MAGIC) and len(plot.content) == paths["evaluation/evaluate/roc_curve.png"]
    metrics = api.get("/api/models/titanic-survival/versions/1/artifacts/evaluation/evaluate/metrics.json")
    assert "accuracy" in metrics.json()
    missing = api.get("/api/models/titanic-survival/versions/1/artifacts/evaluation/evaluate/nope.png")
    assert missing.status_code == 404 and missing.json()["code"] == "FILE_NOT_FOUND"
    folder = api.get("/api/models/titanic-survival/versions/1/artifacts/evaluation/evaluate")
    assert folder.status_code == 404


@pytest.mark.parametrize("path", ["..%2F..%2F..%2Fmlflow.db", "evaluation%2F..%2F..%2Fmeta.yaml",
                                  "%2Fetc%2Fpasswd", "evaluation%5C..%5Cx", "file:%2F%2F%2Fetc%2Fpasswd",
                                  "evaluation/evaluate/%2E%2E/%2E%2E/%2E%2E/meta.yaml"])
def test_artifact_path_traversal_is_refused(api, path):
    answer = api.get(f"/api/models/titanic-survival/versions/1/artifacts/{path}")
    assert 400 <= answer.status_code < 500, answer.content[:200]
    assert answer.json()["code"] == "INVALID_PATH", answer.json()


def test_model_downloads_as_a_zip_that_mlflow_loads(api, tmp_path, trained):
    import mlflow
    import pandas as pd

    answer = api.get("/api/models/titanic-survival/versions/1/download")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    assert 'filename="titanic-survival-v1.zip"' in answer.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as zf:
        assert {"MLmodel", "model.pkl"} <= set(zf.namelist())
        zf.extractall(tmp_path / "model")
    record = trained["record"]
    scored = pd.read_feather(record["nodes"]["evaluate"]["outputs"]["predictions"]["uri"].removeprefix("file://"))
    from nodes.samples import load_sample

    model = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    assert list(model.predict(load_sample("titanic").loc[scored.index])) == list(scored["prediction"])


@pytest.mark.parametrize("scheme", ["http", "postgresql+psycopg2"])
def test_mlflow_down_is_503_saying_what_to_start(client, monkeypatch, scheme):
    use_registry(monkeypatch, f"{scheme}://mlflow:secret@127.0.0.1:{free_port()}/mlflow")
    started = time.monotonic()
    for url in ("/api/models/", "/api/models/titanic-survival/versions/1/download"):
        answer = client.get(url)
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "MLFLOW_UNAVAILABLE" and "flowza up" in answer.json()["message"]
        assert "secret" not in answer.text
    assert time.monotonic() - started < 10  # not MLflow's minutes of retries


def test_a_server_that_is_not_mlflow_is_503(client, monkeypatch):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class OnlyHealth(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), OnlyHealth)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        use_registry(monkeypatch, f"http://127.0.0.1:{server.server_port}")
        for url in ("/api/models/", "/api/models/titanic-survival"):
            answer = client.get(url)
            assert answer.status_code == 503 and answer.json()["code"] == "MLFLOW_UNAVAILABLE", answer.text
            assert "did not answer" in answer.json()["message"]
    finally:
        server.shutdown()


def test_links_and_artifacts_through_an_mlflow_server(client, trained, monkeypatch, tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", trained["tracking_uri"]],
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        stdout=(tmp_path / "mlflow.log").open("wb"), stderr=subprocess.STDOUT)
    try:
        ui = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{ui}/health", timeout=2)
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "mlflow.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "mlflow server did not start"
                time.sleep(0.5)
        use_registry(monkeypatch, ui)
        run_id = trained["record"]["mlflow_model_runs"]["train"]
        [version] = client.get("/api/models/titanic-survival").json()["versions"]
        assert version["links"]["mlflow_run"] == f"{ui}/#/runs/{run_id}"
        assert version["links"]["mlflow_model_version"] == f"{ui}/#/models/titanic-survival/versions/1"
        detail = client.get("/api/models/titanic-survival/versions/1").json()
        assert detail["links"]["mlflow_run"].startswith(f"{ui}/#/experiments/")
        assert detail["links"]["mlflow_run"].endswith(f"/runs/{run_id}")
        plot = client.get("/api/models/titanic-survival/versions/1/artifacts/evaluation/evaluate/roc_curve.png")
        assert plot.status_code == 200 and plot.content.startswith(PNG_MAGIC)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_flowza_run_link_and_login_in_multi_user_mode(multi_user, trained, monkeypatch):
    from sqlalchemy.orm import Session

    from metadata_db import runs as run_rows
    from api.deps import engine_for

    alice, bob = multi_user("alice@example.com"), multi_user("bob@example.com")
    use_registry(monkeypatch, trained["tracking_uri"])
    workflow = alice.post("/api/workflows/", json={k: TITANIC[k] for k in ("name", "nodes", "connections")})
    assert workflow.status_code in (200, 201), workflow.text
    # The run as the API would have recorded it had Alice started it there: same id as the engine's.
    run_id = trained["record"]["run_id"]
    with Session(engine_for(get_settings().metadata_db_url)) as session:
        run_rows.create_run(session, workflow.json()["id"], run_id=run_id, owner_id=alice.get(
            "/api/auth/me").json()["user"]["id"])
        session.commit()

    assert alice.get("/api/models/titanic-survival").json()["versions"][0]["links"] == {
        "flowza_run": f"/api/runs/{run_id}"}
    seen_by_bob = bob.get("/api/models/titanic-survival").json()["versions"][0]
    # Registered before models had owners: readable by all, but the run behind it stays Alice's.
    assert seen_by_bob["links"] == {} and seen_by_bob["lineage"]["flowza_run_id"] is None
    assert seen_by_bob["lineage"]["tags"] == {} and seen_by_bob["metrics"]
    assert bob.delete("/api/models/titanic-survival/aliases/staging").status_code == 403
    bob.headers.pop("Authorization")
    for method, url in (("get", "/api/models/"), ("get", "/api/models/titanic-survival/versions/1/download"),
                        ("delete", "/api/models/titanic-survival/aliases/staging")):
        assert getattr(bob, method)(url).status_code == 401, url
    assert alice.get("/api/models/").json()[0]["aliases"] == {"staging": 1}


@pytest.fixture(scope="module")
def two_trained(prefect_api_url, tmp_path_factory):
    """Two models of one run registered under two names (iris-logreg v1, iris-forest v1) in their own MLflow."""
    trained = run_in_own_home(two_models(), tmp_path_factory.mktemp("two-models-home"))
    assert trained["record"]["status"] == "completed", trained["record"].get("error")
    return trained


def test_each_version_shows_only_its_own_models_figures(client, two_trained, monkeypatch):
    use_registry(monkeypatch, two_trained["tracking_uri"])
    record, plots = two_trained["record"], {}
    for name, model_node, evaluation, param, other in (("iris-logreg", "lr", "eval_lr", "C", "n_estimators"),
                                                       ("iris-forest", "rf", "eval_rf", "n_estimators", "C")):
        own = record["nodes"][evaluation]["metrics"]
        [version] = client.get(f"/api/models/{name}").json()["versions"]
        assert version["run_id"] == record["mlflow_model_runs"][model_node]
        assert version["metrics"] == scalars(own)  # as named: no other model's figures, no node prefixes
        detail = client.get(f"/api/models/{name}/versions/1").json()
        assert detail["metrics"] == version["metrics"] and detail["run_status"] == "FINISHED"
        assert param in detail["params"] and other not in detail["params"]
        files = {f["path"] for f in client.get(f"/api/models/{name}/versions/1/artifacts").json()}
        assert f"evaluation/{evaluation}/feature_importance.png" in files
        assert {p.split("/")[1] for p in files if p.startswith("evaluation/")} == {evaluation}
        logged = client.get(f"/api/models/{name}/versions/1/artifacts/evaluation/{evaluation}/metrics.json").json()
        assert logged["feature_importance"] == own["feature_importance"]
        plot = client.get(f"/api/models/{name}/versions/1/artifacts/evaluation/{evaluation}/feature_importance.png")
        assert plot.status_code == 200 and plot.content.startswith(PNG_MAGIC)
        plots[name] = plot.content
    assert plots["iris-logreg"] != plots["iris-forest"]
