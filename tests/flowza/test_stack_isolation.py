"""Multi-user mode: Prefect and MLflow are no way around the API.

A real multi-user `flowza up`: user A trains and registers a model through the API; a client that
reaches the Prefect and MLflow ports directly, without the stack's service credentials, gets 401
and none of A's data, while the stack's own services (holding them) keep working. And
docker-compose.yml publishes only the API and configures the same auth for its containers.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import httpx
import yaml

from tests.benchmarks.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
FINAL = ("completed", "failed", "cancelled", "crashed")


def registering(name: str) -> dict:
    return {"name": f"register {name}", "nodes": [
        {"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}},
        {"id": "split", "type": "train_test_split", "parameters": {"target_column": "target"}},
        {"id": "train", "type": "train_logreg", "parameters": {}},
        {"id": "register", "type": "register_model", "parameters": {"name": name, "alias": "champion"}}],
        "connections": [{"source": "load", "target": "split"},
                        {"source": "split", "sourceHandle": "train", "target": "train"},
                        {"source": "train", "target": "register"}]}


def login(api_url: str, email: str, password: str = "correct horse battery") -> httpx.Client:
    client = httpx.Client(base_url=api_url, timeout=30)
    assert client.post("/api/auth/register", json={"email": email, "password": password}).status_code == 201
    token = client.post("/api/auth/login", json={"email": email, "password": password}).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def run_to_the_end(client: httpx.Client, workflow: dict, timeout: float = 240) -> dict:
    started = client.post("/api/workflows/run", json=workflow)
    assert started.status_code == 200, started.text
    run_id, deadline = started.json()["run_id"], time.monotonic() + timeout
    while (body := client.get(f"/api/runs/{run_id}").json())["status"] not in FINAL:
        assert time.monotonic() < deadline, f"run still {body['status']} after {timeout} s"
        time.sleep(0.5)
    return body


def test_prefect_and_mlflow_refuse_clients_without_the_service_credentials():
    with Stack(extra_env={"FLOWZA_AUTH_ENABLED": "true"}) as stack:
        ada = login(stack.api_url, "ada@example.com")
        done = run_to_the_end(ada, registering("iris-ada"))
        assert done["status"] == "completed", done
        assert [m["name"] for m in ada.get("/api/models/").json()] == ["iris-ada"]

        path = stack.home / "service_credentials.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "service_credentials.json" in stack.log()  # `flowza up` says where the UIs' credentials are
        credentials = json.loads(path.read_text())
        prefect, mlflow = stack.prefect_api_url, stack.mlflow_url
        flow_runs = ("POST", f"{prefect}/flow_runs/filter", {"json": {}})
        models = ("GET", f"{mlflow}/api/2.0/mlflow/registered-models/search", {})
        doors = [flow_runs, ("POST", f"{prefect}/deployments/filter", {"json": {}}),
                 ("POST", f"{prefect}/flow_runs/", {"json": {"flow_id": "00000000-0000-0000-0000-000000000000"}}),
                 models, ("GET", f"{mlflow}/ajax-api/2.0/mlflow/registered-models/search", {}),
                 ("GET", f"{mlflow}/api/2.0/mlflow/experiments/search?max_results=10", {}),
                 ("POST", f"{mlflow}/api/2.0/mlflow/users/create",
                  {"json": {"username": "eve", "password": "eve-wants-in-1234"}})]
        for method, url, kwargs in doors:
            for auth in (None, httpx.BasicAuth("flowza", "a guess")):
                answer = httpx.request(method, url, auth=auth, timeout=30, **kwargs)
                assert answer.status_code in (401, 403), (method, url, answer.status_code, answer.text[:300])
                assert "iris-ada" not in answer.text, (method, url)

        # The same doors open with the stack's credentials: the data is there to be protected.
        prefect_user, prefect_password = credentials["prefect_auth_string"].split(":", 1)
        answer = httpx.post(flow_runs[1], json={}, auth=httpx.BasicAuth(prefect_user, prefect_password), timeout=30)
        assert answer.status_code == 200 and answer.json(), answer.text[:300]
        answer = httpx.get(models[1], auth=httpx.BasicAuth(credentials["mlflow_username"],
                                                           credentials["mlflow_password"]), timeout=30)
        assert answer.status_code == 200 and "iris-ada" in answer.text, answer.text[:300]
        assert set(ada.get("/health").json()["stack"]) == {"prefect", "mlflow", "worker", "api"}


def test_docker_compose_publishes_only_the_api_and_guards_prefect_and_mlflow():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert [name for name, service in services.items() if "ports" in service] == ["api"]
    assert services["api"]["ports"] == ["8000:8000"]
    password = "${FLOWZA_SERVICE_PASSWORD:?set FLOWZA_SERVICE_PASSWORD, the password of Prefect and MLflow}"
    assert services["prefect-server"]["environment"]["PREFECT_SERVER_API_AUTH_STRING"] == f"flowza:{password}"
    mlflow = services["mlflow"]
    assert "--app-name=basic-auth" in mlflow["command"]
    assert mlflow["environment"]["MLFLOW_AUTH_ADMIN_USERNAME"] == "flowza"
    assert mlflow["environment"]["MLFLOW_AUTH_ADMIN_PASSWORD"] == password
    assert "default_permission = NO_PERMISSIONS" in compose["configs"]["mlflow-auth"]["content"]
    for name in ("worker", "api"):
        env = services[name]["environment"]
        assert env["PREFECT_API_AUTH_STRING"] == f"flowza:{password}", name
        assert (env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"]) == ("flowza", password), name
    # The worker's healthcheck reads the deployment from Prefect: it must send the auth string.
    assert "PREFECT_API_AUTH_STRING" in " ".join(services["worker"]["healthcheck"]["test"])
    ui = yaml.safe_load((ROOT / "infra" / "compose.ui.yml").read_text())["services"]
    assert all(port.startswith("127.0.0.1:") for service in ui.values() for port in service["ports"])


def test_service_credentials_are_created_once_and_readable_by_their_owner_only(tmp_path):
    from flowza_core import service_credentials

    first = service_credentials.load_or_create(tmp_path)
    assert service_credentials.load_or_create(tmp_path) == first  # kept across starts
    path = service_credentials.credentials_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.mlflow_password) >= 24 and first.prefect_auth_string.startswith("flowza:")
    ini = service_credentials.mlflow_auth_config(tmp_path, first)
    assert stat.S_IMODE(ini.stat().st_mode) == 0o600
    assert "default_permission = NO_PERMISSIONS" in ini.read_text()
    assert first.mlflow_password in ini.read_text()


def test_a_local_client_finds_the_stacks_auth_string_in_flowza_home(tmp_path, monkeypatch):
    """`flowza run` on the machine of a multi-user stack: the local Prefect server wants the auth string."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from flows.prefect_env import configure_prefect
    from flowza_core import service_credentials
    from flowza_core.settings import get_settings

    class PrefectHealth(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's protocol
            self.send_response(200 if self.path == "/api/health" else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), PrefectHealth)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        credentials = service_credentials.load_or_create(tmp_path)
        for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
        monkeypatch.setenv("FLOWZA_HOME", str(tmp_path))
        monkeypatch.setenv("FLOWZA_PREFECT_PORT", str(server.server_address[1]))
        get_settings.cache_clear()
        configure_prefect()
        assert os.environ["PREFECT_API_URL"] == f"http://127.0.0.1:{server.server_address[1]}/api"
        assert os.environ["PREFECT_API_AUTH_STRING"] == credentials.prefect_auth_string
    finally:
        server.shutdown()
        get_settings.cache_clear()
