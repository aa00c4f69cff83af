"""A real ``mlflow server`` for fault tests: started in its own process group, frozen with SIGSTOP, stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest

from tests.conftest import free_port


def start_mlflow(folder) -> tuple[subprocess.Popen, str]:
    """A real MLflow server on a SQLite store in ``folder``, once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}"],
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}, start_new_session=True,
        stdout=(folder / "mlflow.log").open("wb"), stderr=subprocess.STDOUT)  # its own group: it has children
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("mlflow server did not start: " + (folder / "mlflow.log").read_text()[-2000:])
            time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    """End a server started in its own process group, with its children."""
    os.killpg(process.pid, signal.SIGCONT)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def frozen(process: subprocess.Popen):
    """The server (its whole process group) stopped inside the block: its port accepts connections, nothing answers."""
    os.killpg(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGCONT)
