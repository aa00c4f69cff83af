"""Flowza answers what ``mlflow models serve`` answers: same registered models, same bodies, same JSON values.

Both servers run for real: ``mlflow models serve --env-manager local`` on each model's MLflow folder, and
the Flowza API (uvicorn) with a deployment of each model, called with a token. A Titanic classifier
(impute, one-hot, normalize, logistic regression) and a linear regression of the fare on the same chain.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api.serving.scoring import answer, parse_body, score
from tests.api.test_models_api import use_registry
from tests.api.test_serving_scoring import bodies, load_registered, passengers, registry  # noqa: F401
from tests.conftest import api_server, free_port
from tests.mlflow_server import stop

MODELS = {"titanic-survival": "survival", "titanic-fare": "fare"}  # registered name -> deployment name
# MLflow reads a list of rows as one array of the first column's type: it refuses Titanic's mixed rows.
MLFLOW_REFUSES = {"inputs_rows"}


def wait_for_ping(url: str, process: subprocess.Popen, log: Path, timeout: float, what: str) -> None:
    """Wait until a scoring server answers ``/ping``; fail with its log when it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/ping", timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start: " + log.read_text()[-3000:])
            time.sleep(0.3)


@contextmanager
def mlflow_models_serve(model_dir: Path, log: Path, workers: int = 1):
    """``mlflow models serve --env-manager local`` on a model folder, once it answers /ping; stopped after."""
    port = free_port()
    venv_bin = str(Path(sys.executable).parent)  # MLflow starts `uvicorn` from PATH
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir), "--env-manager", "local",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"},
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ping(url, process, log, 180, "mlflow models serve")
        yield url
    finally:
        stop(process)


def post(url: str, body: dict | bytes, token: str | None = None) -> tuple[int, dict]:
    """POST a scoring body (a dict, or raw bytes); the status and the JSON answer."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def models(registry, tmp_path_factory):  # noqa: F811
    """Each registered model: (FlowzaModel as deployments load it, its MLflow model folder)."""
    return {name: load_registered(registry, name, tmp_path_factory.mktemp(name)) for name in MODELS}


@pytest.fixture(scope="module")
def mlflow_urls(models, tmp_path_factory):
    """Each model served by ``mlflow models serve``."""
    logs = tmp_path_factory.mktemp("mlflow-serve")
    with mlflow_models_serve(models["titanic-survival"][1], logs / "classifier.log") as classifier, \
            mlflow_models_serve(models["titanic-fare"][1], logs / "regressor.log") as regressor:
        yield {"titanic-survival": f"{classifier}/invocations", "titanic-fare": f"{regressor}/invocations"}


@pytest.fixture(scope="module")
def endpoints(registry, tmp_path_factory):  # noqa: F811
    """A running Flowza API with a deployment of each model: {model: (invocations URL, token)}."""
    from flowza_core.settings import get_settings

    with pytest.MonkeyPatch.context() as env:
        env.setenv("FLOWZA_HOME", str(tmp_path_factory.mktemp("parity-api-home")))
        use_registry(env, registry)
        with api_server("flowza-parity-api") as url, httpx.Client(base_url=url, timeout=120) as client:
            found = {}
            for model, name in MODELS.items():
                created = client.post("/api/deployments", json={"name": name, "model": model, "version": 1})
                assert created.status_code == 201, created.text
                token = client.post(f"/api/deployments/{name}/tokens", json={"name": "parity"})
                assert token.status_code == 201, token.text
                found[model] = (created.json()["invocations_url"], token.json()["token"])
            yield found
    get_settings.cache_clear()


def request_rows(model):
    """Twenty passengers: one with no age (imputed), one from a port never seen in training (ignored)."""
    rows = passengers(model, 20).astype(object)
    rows.loc[2, "age"] = None
    rows.loc[5, "embarked"] = "Atlantis"
    return rows


@pytest.mark.parametrize("model", list(MODELS))
def test_scoring_answers_what_mlflow_models_serve_answers(models, mlflow_urls, model):
    flowza_model, _ = models[model]
    compared = 0
    for name, body in bodies(request_rows(flowza_model)).items():
        ours = answer(score(flowza_model, *parse_body(json.dumps(body).encode())))
        if name in MLFLOW_REFUSES:
            assert post(mlflow_urls[model], body)[0] == 400, name
            continue
        status, theirs = post(mlflow_urls[model], body)
        assert status == 200, (name, theirs)
        assert theirs == {"predictions": ours["predictions"]}, name
        assert [type(v) for v in theirs["predictions"]] == [type(v) for v in ours["predictions"]], name
        compared += 1
    assert compared == len(bodies(request_rows(flowza_model))) - len(MLFLOW_REFUSES)


@pytest.mark.parametrize("model", list(MODELS))
def test_the_deployment_endpoint_answers_what_mlflow_models_serve_answers(models, mlflow_urls, endpoints, model):
    flowza_model, _ = models[model]
    url, token = endpoints[model]
    for name, body in bodies(request_rows(flowza_model)).items():
        status, got = post(url, body, token)
        assert status == 200, (name, got)
        assert got["model_version"] == 1 and got["request_id"]
        ours = answer(score(flowza_model, *parse_body(json.dumps(body).encode())))
        assert {k: got[k] for k in ours} == ours, name  # probabilities too, for the classifier
        assert ("probabilities" in got) == (model == "titanic-survival")
        if name not in MLFLOW_REFUSES:
            assert post(mlflow_urls[model], body)[1] == {"predictions": got["predictions"]}, name


def test_the_endpoint_reports_bad_rows_as_422_naming_them(endpoints, models):
    url, token = endpoints["titanic-survival"]
    rows = request_rows(models["titanic-survival"][0])
    rows.loc[7, "fare"] = "free"
    status, got = post(url, bodies(rows)["records"], token)
    assert status == 422 and got["code"] == "INVALID_INPUT", got
    assert got["details"]["errors"] == [
        {"row": 7, "column": "fare", "message": "column 'fare': 'free' is not a number"}]
    assert post(url, bodies(rows)["records"], None)[0] == 401
