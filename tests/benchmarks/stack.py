"""The service benchmarks' stack (``flowza up`` on a throwaway FLOWZA_HOME and free ports,
stopped on exit) and the small workflow they submit to it.

    with Stack(extra_env={"FLOWZA_RUNS_PER_MINUTE": "1000"}) as stack:
        httpx.get(f"{stack.api_url}/health")
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STOP_GRACE_S = 30  # `flowza up` itself gives each child 10 s
# Anything pointing elsewhere would make `flowza up` use it instead of starting its own.
FOREIGN = ("PREFECT_API_URL", "PREFECT_HOME", "MLFLOW_TRACKING_URI", "FLOWZA_MLFLOW_TRACKING_URI",
           "FLOWZA_MLFLOW_ARTIFACT_ROOT", "FLOWZA_DATABASE_URL", "FLOWZA_OBJECT_STORE_URL", "FLOWZA_S3_ENDPOINT_URL",
           "FLOWZA_AUTH_ENABLED")


def small_workflow(csv_path: str = "examples/data/wine.csv", target: str = "target") -> dict:
    """csv_loader -> drop_nulls -> train_test_split on a small CSV (a path under the repository)."""
    nodes = [{"id": "load", "type": "csv_loader", "parameters": {"file_path": csv_path}},
             {"id": "clean", "type": "drop_nulls", "parameters": {}},
             {"id": "split", "type": "train_test_split",
              "parameters": {"target_column": target, "test_size": 0.2, "random_state": 42}}]
    return {"name": "bench-small", "nodes": nodes,
            "connections": [{"source": "load", "target": "clean"}, {"source": "clean", "target": "split"}]}


class StackFailed(RuntimeError):
    """`flowza up` exited or did not become healthy in time."""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Direct children of a process (`flowza up` starts each service in its own session)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class Stack:
    """The whole embedded stack as `flowza up` runs it, on 127.0.0.1."""

    def __init__(self, extra_env: dict[str, str] | None = None, timeout: float = 240, cwd: Path = REPO):
        self.home = Path(tempfile.mkdtemp(prefix="flowza-bench-home-"))
        ports = {name: free_port() for name in ("api", "prefect", "mlflow")}
        self.api_url = f"http://127.0.0.1:{ports['api']}"
        self.prefect_api_url = f"http://127.0.0.1:{ports['prefect']}/api"
        self.mlflow_url = f"http://127.0.0.1:{ports['mlflow']}"
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
        self.env = {**env, "FLOWZA_HOME": str(self.home), "FLOWZA_DATA_DIR": str(REPO),
                    "FLOWZA_API_PORT": str(ports["api"]), "FLOWZA_PREFECT_PORT": str(ports["prefect"]),
                    "FLOWZA_MLFLOW_PORT": str(ports["mlflow"]), **(extra_env or {})}
        self.timeout, self.cwd, self.process, self.log_path = timeout, cwd, None, self.home / "up.log"

    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        say(f"starting `flowza up` (FLOWZA_HOME={self.home}, API {self.api_url})")
        t0 = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "flowza.cli", "up"], cwd=self.cwd, env=self.env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        # "Flowza is ready" comes after the worker has reached its poll loop; /health does not check it.
        while not ("Flowza is ready" in self.log() and self.healthy()):
            if self.process.poll() is not None:
                raise StackFailed(f"`flowza up` exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() - t0 > self.timeout:
                raise StackFailed(f"the stack was not ready within {self.timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.5)
        say(f"stack ready in {time.monotonic() - t0:.1f} s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=15) as resp:
                return resp.status == 200
        except OSError:
            return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 25) -> str:
        return "\n".join(f"    {line}" for line in self.log().rstrip().splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to `flowza up` (it stops its children); kill what is left after the grace period."""
        if self.process is not None and self.process.poll() is None:
            children = children_of(self.process.pid)
            say("stopping the stack")
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                say(f"`flowza up` did not stop within {STOP_GRACE_S} s: killing it and its services")
                for pid in [self.process.pid, *children]:  # each leads its own process group
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)
