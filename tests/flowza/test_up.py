"""`flowza up` as a user runs it, and the declarative deployment files (prefect.yaml, docker-compose.yml)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def up_env(home: Path, **ports: int) -> dict[str, str]:
    """The user's environment minus anything that points at other servers or state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWZA_", "PREFECT_", "MLFLOW_"))}
    env.update({"FLOWZA_HOME": str(home), "FLOWZA_DATA_DIR": str(ROOT)})
    env.update({f"FLOWZA_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    return env


def descendants(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:  # gone meanwhile
            continue
        if stat and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children += [int(entry.name), *descendants(int(entry.name))]
    return children


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds child processes through /proc")
def test_up_starts_every_service_and_ctrl_c_stops_them_all(tmp_path):
    ports = {"api": free_port(), "prefect": free_port(), "mlflow": free_port()}
    proc = subprocess.Popen([sys.executable, "-m", "flowza.cli", "up"], cwd=ROOT, env=up_env(tmp_path, **ports),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, ready = [], threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Flowza is ready"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.wait(0.5) and proc.poll() is None and time.monotonic() < deadline:
            pass
        assert ready.is_set(), "flowza up did not get ready:\n" + "".join(lines)
        output = "".join(lines)
        for service in ("prefect", "mlflow", "worker", "api"):
            assert f"✓ {service} ready" in output
        assert f"http://127.0.0.1:{ports['api']}/docs" in output
        assert get(f"http://127.0.0.1:{ports['prefect']}/api/health")[0] == 200
        assert get(f"http://127.0.0.1:{ports['mlflow']}/health")[0] == 200
        status, body = get(f"http://127.0.0.1:{ports['api']}/health")
        assert status == 200 and b'"ok"' in body
        assert {p.name for p in (tmp_path / "logs").iterdir()} == {f"{s}.log" for s in ports.keys() | {"worker"}}
        children = descendants(proc.pid)
        assert len(children) >= 4
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        reader.join(timeout=5)
    assert code == 0, "".join(lines)
    assert "Stopped." in "".join(lines)
    assert [pid for pid in children if alive(pid)] == []


def test_up_refuses_a_port_that_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "flowza.cli", "up"], cwd=ROOT, capture_output=True, text=True,
                                env=up_env(tmp_path, api=port, prefect=free_port(), mlflow=free_port()), timeout=60)
    assert result.returncode == 2
    assert f"port {port} for api is already in use" in result.stderr
    assert "FLOWZA_API_PORT" in result.stderr
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_up_names_the_setting_when_two_ports_collide(tmp_path):
    port = free_port()
    result = subprocess.run([sys.executable, "-m", "flowza.cli", "up"], cwd=ROOT, capture_output=True, text=True,
                            env=up_env(tmp_path, api=port, prefect=free_port(), mlflow=port), timeout=60)
    assert result.returncode == 2
    assert f"FLOWZA_MLFLOW_PORT and FLOWZA_API_PORT are both {port}" in result.stderr


def test_up_waits_for_the_deployment_the_worker_applies():
    from deployments.runs import DEPLOYMENT_PATH
    from flowza.up import DEPLOYMENT_PATH as WAITED_FOR

    assert WAITED_FOR == DEPLOYMENT_PATH


def test_prefect_yaml_declares_the_run_workflow_deployment():
    from prefect.cli.deploy._models import PrefectYamlModel

    from deployments.runs import DEPLOYMENT, WORK_POOL

    raw = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    [deployment] = [d for d in raw["deployments"] if d["name"] == DEPLOYMENT]
    assert deployment["entrypoint"] == "flows.engine.run_workflow"  # a module path, as apply_deployment uses
    assert deployment["work_pool"]["name"] == WORK_POOL
    assert deployment["enforce_parameter_schema"] is True
    assert deployment["work_pool"] is raw["definitions"]["work_pools"]["flowza_pool"]  # shared through an anchor
    assert raw["pull"] == [{"prefect.deployments.steps.set_working_directory": {"directory": "."}}]
    import importlib

    from flows.engine import run_workflow

    module, _, name = deployment["entrypoint"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is run_workflow
    PrefectYamlModel.model_validate(raw)  # what `prefect deploy` loads


def test_docker_compose_services_are_consistent():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "minio", "minio-init", "prefect-server", "mlflow", "worker", "api"} <= services.keys()
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= services.keys() - {name}, name
        if name != "minio-init":
            assert service["healthcheck"]["test"], name
        if "build" in service:
            assert service["build"]["dockerfile"] == "infra/Dockerfile"
            assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    for name in ("worker", "api"):
        env = services[name]["environment"]
        assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
        assert env["FLOWZA_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
        assert env["FLOWZA_OBJECT_STORE_URL"] == "s3://flowza/store"
        assert env["FLOWZA_DATABASE_URL"].startswith("postgresql://")
        assert env["AWS_ACCESS_KEY_ID"] and env["FLOWZA_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert services["worker"]["command"] == ["python", "-m", "deployments.worker"]
    assert services["prefect-server"]["environment"]["PREFECT_SERVER_DATABASE_CONNECTION_URL"].startswith(
        "postgresql+asyncpg://")
    # Every FLOWZA_* variable the stack sets is a field of the settings object (or an auth setting).
    from flowza_core.settings import Settings

    known = {f"FLOWZA_{field.upper()}" for field in Settings.model_fields}
    unknown = {k for k in services["api"]["environment"] if k.startswith("FLOWZA_")} - known
    assert unknown <= {"FLOWZA_AUTH_ENABLED", "FLOWZA_SECRET_KEY"}
