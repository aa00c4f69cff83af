"""No run is stranded: real processes (Prefect server, Flowza API, Flowza worker) killed mid-way.

- a worker SIGKILLed mid-run: its run becomes ``crashed`` (the Prefect flow run Crashed), and
  ``/rerun`` with a live worker completes, reusing the nodes that had finished;
- a run being cancelled when its worker dies ends ``cancelled``, not CANCELLING forever;
- a queued run whose flow run is cancelled in Prefect ends ``cancelled`` though nobody reads it;
- runs accepted while Prefect is away, then the API killed: after a restart all reach a final state
  (and one that stays unsubmittable past the deadline fails with PREFECT_UNAVAILABLE).

The processes run tests/deployments/fault_processes.py, which adds a node that waits for a marker
file: a run can be held inside a node, then let go.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

LAUNCHER = Path(__file__).resolve().parent / "fault_processes.py"
REPO = Path(__file__).resolve().parents[2]
FINAL = {"completed", "failed", "cancelled", "crashed"}


def held_workflow(marker: str) -> dict:
    """csv_loader -> wait_for_marker -> drop_nulls: the run waits in its second node until ``marker`` exists."""
    return {"name": f"held until {marker}",
            "nodes": [{"id": "load", "type": "csv_loader", "parameters": {"file_path": "table.csv"}},
                      {"id": "wait", "type": "wait_for_marker", "parameters": {"marker": marker}},
                      {"id": "clean", "type": "drop_nulls"}],
            "connections": [{"source": "load", "target": "wait"}, {"source": "wait", "target": "clean"}]}


QUICK = {"name": "quick", "nodes": [{"id": "load", "type": "csv_loader", "parameters": {"file_path": "table.csv"}},
                                    {"id": "clean", "type": "drop_nulls"}],
         "connections": [{"source": "load", "target": "clean"}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """The services as separate processes on free ports, each started, killed and restarted at will."""

    def __init__(self, tmp: Path):
        self.tmp, self.data = tmp, tmp / "data"
        self.data.mkdir()
        (self.data / "table.csv").write_text("a,b\n1,2\n3,4\n5,\n")
        self.prefect_port, self.api_port = free_port(), free_port()
        self.prefect_url = f"http://127.0.0.1:{self.prefect_port}/api"
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_", "FLOWZA_"))}
        self.env = {**env, "FLOWZA_HOME": str(tmp / "home"), "FLOWZA_DATA_DIR": str(self.data),
                    "PREFECT_HOME": str(tmp / "prefect"), "PREFECT_API_URL": self.prefect_url,
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "FLOWZA_RUNS_PER_MINUTE": "1000"}
        self.procs: dict[str, subprocess.Popen] = {}
        self.started: dict[str, datetime] = {}
        self.api = httpx.Client(base_url=self.api_url, timeout=30)

    def command(self, name: str) -> list[str]:
        return {"prefect": [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                            "--port", str(self.prefect_port)],
                "worker": [sys.executable, str(LAUNCHER), "worker"],
                "api": [sys.executable, str(LAUNCHER), "api", str(self.api_port)]}[name]

    def start(self, name: str, **env: str) -> None:
        self.started[name] = datetime.now(UTC)
        with open(self.tmp / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(self.command(name), cwd=REPO, env={**self.env, **env},
                                                stdin=subprocess.DEVNULL,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        ready = {"prefect": self._prefect_ready, "api": self._api_ready, "worker": self._worker_ready}[name]
        self.wait(ready, 180, f"{name} did not start", name)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=60)

    def stop_all(self) -> None:
        for name in list(self.procs):
            try:
                self.kill(name, signal.SIGTERM)
            except subprocess.TimeoutExpired:
                self.kill(name)
        self.api.close()

    def log_tail(self, name: str) -> str:
        return "\n".join((self.tmp / f"{name}.log").read_text(errors="replace").splitlines()[-30:])

    def wait(self, ready, timeout: float, what: str, name: str | None = None):
        deadline = time.monotonic() + timeout
        while not (found := ready()):
            if name and self.procs[name].poll() is not None:
                pytest.fail(f"{name} exited with {self.procs[name].returncode}:\n{self.log_tail(name)}")
            assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s"
            time.sleep(0.3)
        return found

    def _prefect_ready(self) -> bool:
        try:
            return httpx.get(f"{self.prefect_url}/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def _api_ready(self) -> bool:
        try:
            return self.api.get("/api/workflows/").status_code == 200
        except httpx.HTTPError:
            return False

    def _worker_ready(self) -> bool:
        """The worker has (re)applied its deployment since it started: it reached its poll loop."""
        try:
            deployment = httpx.get(f"{self.prefect_url}/deployments/name/flowza-workflow/run-workflow", timeout=5)
        except httpx.HTTPError:
            return False
        return (deployment.status_code == 200
                and datetime.fromisoformat(deployment.json()["updated"]) > self.started["worker"])

    def submit(self, workflow: dict) -> str:
        answer = self.api.post("/api/workflows/run", json=workflow)
        assert answer.status_code == 200, answer.text
        return answer.json()["run_id"]

    def run(self, run_id: str) -> dict:
        return self.api.get(f"/api/runs/{run_id}").json()

    def wait_run(self, run_id: str, done, timeout: float, what: str) -> dict:
        def ready() -> dict | None:
            run = self.run(run_id)
            return run if done(run) else None

        return self.wait(ready, timeout, f"run {run_id}: {what}")

    def flow_run_state(self, flow_run_id: str) -> str:
        return httpx.get(f"{self.prefect_url}/flow_runs/{flow_run_id}", timeout=10).json()["state"]["type"]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    processes = Processes(tmp_path_factory.mktemp("faults"))
    try:
        for name in ("prefect", "api", "worker"):
            processes.start(name)
        yield processes
    finally:
        processes.stop_all()


def test_a_killed_workers_run_crashes_and_its_rerun_resumes_from_the_finished_nodes(services):
    run_id = services.submit(held_workflow("first.marker"))
    services.wait_run(run_id, lambda r: r["nodes"].get("wait", {}).get("status") == "running", 120,
                      "its second node did not start")
    # The first node's outputs are stored in the background while the second runs: kill once they are.
    services.wait(lambda: list((services.tmp / "home").rglob("cache/*.json")), 60, "the first node was not stored")
    services.kill("worker")  # SIGKILL: no chance to record anything
    killed = time.monotonic()
    crashed = services.wait_run(run_id, lambda r: r["status"] in FINAL, 120, "not ended after its worker died")
    print(f"crashed {time.monotonic() - killed:.1f} s after the worker was killed")
    assert crashed["status"] == "crashed" and crashed["error"]["code"] == "RUN_CRASHED", crashed
    assert "rerun it" in crashed["error"]["message"]
    assert crashed["nodes"]["load"]["status"] == "completed"  # the record so far is kept
    assert crashed["nodes"]["wait"]["status"] == "failed" and crashed["nodes"]["clean"]["status"] == "not_run"
    assert services.flow_run_state(crashed["flow_run_id"]) == "CRASHED"
    refused = services.api.post(f"/api/runs/{run_id}/cancel")
    assert refused.status_code == 409, refused.text  # crashed is final

    services.start("worker")
    (services.data / "first.marker").touch()
    rerun = services.api.post(f"/api/runs/{run_id}/rerun")
    assert rerun.status_code == 202, rerun.text
    done = services.wait_run(rerun.json()["run_id"], lambda r: r["status"] in FINAL, 180, "rerun not finished")
    assert done["status"] == "completed", done
    assert done["nodes"]["load"]["cached"] is True and done["nodes"]["wait"]["cached"] is False


def test_a_run_being_cancelled_when_its_worker_dies_ends_cancelled(services):
    run_id = services.submit(held_workflow("second.marker"))
    services.wait_run(run_id, lambda r: r["nodes"].get("wait", {}).get("status") == "running", 120,
                      "its second node did not start")
    services.kill("worker")
    cancelling = services.api.post(f"/api/runs/{run_id}/cancel")  # the worker still looks alive: CANCELLING
    assert cancelling.status_code == 202, cancelling.text
    ended = services.wait_run(run_id, lambda r: r["status"] in FINAL, 120, "not ended after its worker died")
    assert ended["status"] == "cancelled", ended
    assert services.flow_run_state(ended["flow_run_id"]) == "CANCELLED"
    services.start("worker")


def test_a_queued_run_cancelled_in_prefect_ends_without_anyone_asking(services):
    services.kill("worker")  # nobody takes it: it waits in Prefect's queue
    run_id = services.submit(QUICK)
    queued = services.wait_run(run_id, lambda r: r["flow_run_id"], 60, "not handed to Prefect")
    cancelled = httpx.post(f"{services.prefect_url}/flow_runs/{queued['flow_run_id']}/set_state", timeout=10,
                           json={"state": {"type": "CANCELLED", "message": "from the Prefect UI"}, "force": True})
    assert cancelled.status_code in (200, 201), cancelled.text

    def listed() -> dict | None:  # the list does not ask Prefect: the reconciler must have ended it
        [run] = [r for r in services.api.get("/api/runs/").json() if r["run_id"] == run_id]
        return run if run["status"] in FINAL else None

    assert services.wait(listed, 60, f"run {run_id} not ended")["status"] == "cancelled"
    services.start("worker")


def test_runs_accepted_while_prefect_is_away_all_finish_after_the_api_restarts(services):
    services.kill("prefect", signal.SIGTERM)
    # Past the submission deadline, a run Prefect could not take fails and says why.
    services.kill("api")
    services.start("api", FLOWZA_SUBMISSION_DEADLINE_S="3")
    late = services.wait_run(services.submit(QUICK), lambda r: r["status"] in FINAL, 90, "not given up")
    assert late["status"] == "failed" and late["error"]["code"] == "PREFECT_UNAVAILABLE", late
    assert "could not submit the run to Prefect: it kept failing" in late["error"]["message"]
    services.kill("api")
    services.start("api")

    run_ids = [services.submit(QUICK) for _ in range(10)]  # accepted at once, Prefect or not
    time.sleep(3)  # the submitter tries, and fails, meanwhile
    waiting = [services.run(run_id) for run_id in run_ids]
    assert {(r["status"], r["flow_run_id"]) for r in waiting} == {("pending", None)}
    services.kill("api")  # as the probe's SIGINT to `flowza up`: nothing is kept in memory

    services.kill("worker")  # it lost Prefect too: start the stack again as `flowza up` would
    for name in ("prefect", "worker", "api"):
        services.start(name)
    ended = [services.wait_run(run_id, lambda r: r["status"] in FINAL, 180, "not finished after the restart")
             for run_id in run_ids]
    assert [r["status"] for r in ended] == ["completed"] * 10, [(r["status"], r["error"]) for r in ended]
    assert len({r["flow_run_id"] for r in ended}) == 10
