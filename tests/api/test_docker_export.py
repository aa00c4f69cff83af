"""GET /api/models/{name}/versions/{n}/docker: a build context whose server, run from a fresh virtualenv with
only its requirements (no Flowza, no MLflow), answers what Flowza's scoring answers.

Docker is not available here: the test does what the Dockerfile does, as plain processes.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import urllib.request

import pytest

from api.serving.scoring import answer, parse_body, score
from tests.api.test_mlflow_parity import post as post_json, wait_for_ping
from tests.api.test_models_api import use_registry
from tests.api.test_serving_scoring import bodies, passengers, registry  # noqa: F401
from tests.conftest import free_port

TOKEN = "docker-export-token"


@pytest.fixture(scope="module")
def context(registry, tmp_path_factory):  # noqa: F811
    """The classifier's build context as the API serves it, unpacked."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from flowza_core.settings import get_settings

    folder = tmp_path_factory.mktemp("docker-context")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FLOWZA_HOME", str(tmp_path_factory.mktemp("docker-api-home")))
        use_registry(env, registry)
        with TestClient(create_app()) as client:
            got = client.get("/api/models/titanic-survival/versions/1/docker")
            missing = client.get("/api/models/titanic-survival/versions/9/docker")
    get_settings.cache_clear()
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/gzip"
    assert 'filename="titanic-survival-1-docker.tar.gz"' in got.headers["content-disposition"]
    assert missing.status_code == 404 and missing.json()["code"] == "MODEL_NOT_FOUND"
    with tarfile.open(fileobj=io.BytesIO(got.content), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")
    return folder


def test_the_context_holds_a_dockerfile_the_server_pinned_requirements_and_the_model(context):
    assert {"Dockerfile", "server.py", "scoring.py", "requirements.txt"} <= {p.name for p in context.iterdir()}
    assert {"MLmodel", "model.pkl", "code"} <= {p.name for p in (context / "model").iterdir()}
    dockerfile = (context / "Dockerfile").read_text()
    assert f"FROM python:{sys.version_info.major}.{sys.version_info.minor}-slim" in dockerfile
    assert "EXPOSE 8080" in dockerfile and "MODEL_VERSION=1" in dockerfile
    assert 'CMD ["uvicorn", "server:app"' in dockerfile
    from importlib.metadata import version

    pinned = dict(line.split("==") for line in (context / "requirements.txt").read_text().split())
    assert pinned == {lib: version(lib) for lib in
                      ("scikit-learn", "pandas", "numpy", "cloudpickle", "pyarrow", "uvicorn")}
    assert not list(context.rglob("__pycache__"))


@pytest.fixture(scope="module")
def server(context, tmp_path_factory):
    """The context's server run as its Dockerfile says, from a fresh virtualenv holding only its requirements."""
    venv = tmp_path_factory.mktemp("docker-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(context / "requirements.txt")],
                               capture_output=True, text=True, timeout=1200)
    assert installed.returncode == 0, installed.stderr[-3000:]
    flowza_free = subprocess.run([str(python), "-c", "import mlflow"], capture_output=True, timeout=60)
    assert flowza_free.returncode != 0  # the server really runs without MLflow (and without Flowza's packages)
    port = free_port()
    log = context.parent / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWZA_", "MLFLOW_", "PYTHON"))}
    process = subprocess.Popen(
        [str(python), "-m", "uvicorn", "server:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=context, env={**env, "SERVING_TOKEN": TOKEN, "MODEL_VERSION": "1"},
        stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ping(url, process, log, 120, "the exported server")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def post(server: str, body, token: str | None = TOKEN) -> tuple[int, dict]:
    return post_json(f"{server}/invocations", body, token)


@pytest.fixture(scope="module")
def flowza_model(context):
    """The same model as Flowza loads it (MLflow, this environment's packages)."""
    import mlflow

    return mlflow.sklearn.load_model(str(context / "model"))


def test_the_exported_server_answers_what_flowza_scores_for_every_body(server, flowza_model):
    rows = passengers(flowza_model, 12)
    rows.loc[3, "embarked"] = "Atlantis"  # unseen: ignored by the one-hot step, as in Flowza
    for name, body in bodies(rows).items():
        status, got = post(server, body)
        assert status == 200, (name, got)
        frame, on_error = parse_body(body)
        expected = answer(score(flowza_model, frame, on_error))
        assert {k: got[k] for k in expected} == expected, name
        assert got["model_version"] == 1 and len(got["request_id"]) == 36


def test_the_exported_server_reports_bad_rows_and_refuses_strangers(server, flowza_model):
    rows = passengers(flowza_model, 3).astype(object)
    rows.loc[1, "age"] = "forty"
    status, got = post(server, bodies(rows)["records"])
    assert status == 422 and got["code"] == "INVALID_INPUT"
    assert got["details"]["errors"] == [{"row": 1, "column": "age", "message": "column 'age': 'forty' is not a number"}]
    status, got = post(server, {**bodies(rows)["records"], "on_error": "skip"})
    assert status == 200 and got["predictions"][1] is None and got["errors"][0]["row"] == 1
    assert post(server, b"{nope")[0] == 422
    assert post(server, {"dataframe_records": [{"age": 3}]})[1]["details"]["errors"][0]["column"] == "pclass"
    assert post(server, bodies(rows)["records"], token=None)[0] == 401
    assert post(server, bodies(rows)["records"], token="wrong")[0] == 401
    with urllib.request.urlopen(f"{server}/health", timeout=5) as resp:
        assert resp.status == 200
