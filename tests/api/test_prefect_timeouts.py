"""A frozen Prefect server (a real ``prefect server start``, SIGSTOPped) makes ``/logs`` answer 503, not hang.

Real processes: a Prefect server and the API (uvicorn) each in their own process, as ``flowza up`` runs them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 3  # FLOWZA_PREFECT_TIMEOUT_S of the API under test
BOUND_S = 30  # generous for a loaded CI box; before the fix /logs hung for more than 90 s


def started(command: list[str], env: dict, log: Path, ready_url: str) -> subprocess.Popen:
    """A server in its own process group, once ``ready_url`` answers 200."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(ready_url, timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            ended(process)
            pytest.fail(f"{command[2]} did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)


def ended(process: subprocess.Popen) -> None:
    for sig in (signal.SIGCONT, signal.SIGTERM):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def frozen(process: subprocess.Popen):
    os.killpg(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGCONT)


@pytest.fixture
def stack(tmp_path):
    """A Prefect server and the API using it; yields (API URL, Prefect process, FLOWZA_HOME)."""
    prefect_port, api_port, home = free_port(), free_port(), tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FLOWZA_", "MLFLOW_"))}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "FLOWZA_HOME": str(home), "FLOWZA_PREFECT_PORT": "9"}
    prefect = started([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                       str(prefect_port), "--no-services"], env, tmp_path / "prefect.log",
                      f"http://127.0.0.1:{prefect_port}/api/health")
    try:
        api_env = env | {"PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api",
                         "FLOWZA_PREFECT_TIMEOUT_S": str(TIMEOUT_S)}
        api = started([sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
                       "--port", str(api_port)], api_env, tmp_path / "api.log",
                      f"http://127.0.0.1:{api_port}/api/workflows/")
        try:
            yield f"http://127.0.0.1:{api_port}", prefect, home
        finally:
            ended(api)
    finally:
        ended(prefect)


def a_run_with_a_flow_run(api: str, home: Path) -> str:
    """A saved workflow and a run row naming a flow run, as the API records a submitted run."""
    from sqlalchemy.orm import Session

    from metadata_db import create_run, make_engine

    workflow = requests.post(f"{api}/api/workflows/", timeout=30, json={
        "name": "logs", "nodes": [{"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}}],
        "connections": []})
    assert workflow.status_code in (200, 201), workflow.text
    engine = make_engine(f"sqlite:///{home / 'flowza.db'}")
    try:
        with Session(engine) as session:
            run = create_run(session, workflow.json()["id"], flow_run_id=str(uuid.uuid4()))
            session.commit()
            return run.id
    finally:
        engine.dispose()


def test_logs_answer_503_while_prefect_is_frozen(stack):
    api, prefect, home = stack
    run_id = a_run_with_a_flow_run(api, home)
    with frozen(prefect):
        began = time.monotonic()
        answer = requests.get(f"{api}/api/runs/{run_id}/logs", timeout=BOUND_S * 4)
        took = time.monotonic() - began
        assert answer.status_code == 503, answer.text
        error = answer.json()
        assert error["code"] == "PREFECT_UNAVAILABLE" and f"within {TIMEOUT_S} s" in error["message"], error
        assert took < BOUND_S, took
        # Meanwhile the API still serves what does not need Prefect.
        assert requests.get(f"{api}/api/workflows/", timeout=BOUND_S).status_code == 200
