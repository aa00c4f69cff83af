"""`flowza up` heals instead of dying (one real stack, faults in turn):

- Prefect and MLflow frozen (SIGSTOP) under 40 requests that wait on them: `/health` still answers
  within its timeout and names them as unavailable;
- the API, with an open WebSocket, a half-sent request and requests in flight, exits within the
  grace period on SIGTERM;
- every child killed (SIGKILL) is restarted, `/health` shows the restarts, and a run completes after;
- SIGTERM to `flowza up` stops everything, exit 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from flowza.supervisor import STOP_GRACE_S
from tests.benchmarks.stack import Stack, say, small_workflow

SERVICES = ("prefect", "mlflow", "worker", "api")
FINAL = ("completed", "failed", "cancelled", "crashed")
HEALTH_ANSWERS_WITHIN_S = 10  # its checks time out after 3 s; generous for a loaded CI box

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="follows processes through /proc")


def stack_state(stack: Stack) -> dict:
    return json.loads((stack.home / "run" / "stack.json").read_text())["services"]


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def descendants(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found += [int(stat.parent.name), *descendants(int(stat.parent.name))]
    return found


def wait_for(what: str, check, timeout: float = 180, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(every)
    return result


def healthy(stack: Stack) -> dict | None:
    try:
        answer = httpx.get(f"{stack.api_url}/health", timeout=15)
    except httpx.HTTPError:
        return None
    return answer.json() if answer.status_code == 200 else None


def run_to_the_end(client: httpx.Client, workflow: dict, timeout: float = 240) -> dict:
    started = client.post("/api/workflows/run", json=workflow)
    assert started.status_code == 200, started.text
    run_id = started.json()["run_id"]
    return wait_for(f"run {run_id} final", lambda: (body := client.get(f"/api/runs/{run_id}").json())["status"]
                    in FINAL and body, timeout=timeout)


def half_sent_request(port: int) -> socket.socket:
    """A request whose body never arrives: the connection uvicorn would wait for forever."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /api/workflows/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100000\r\n\r\n{")
    return sock


def test_the_stack_heals_each_child_and_stops_on_sigterm():
    with Stack(extra_env={"FLOWZA_RUNS_PER_MINUTE": "1000"}) as stack, \
            httpx.Client(base_url=stack.api_url, timeout=30) as client:
        first = run_to_the_end(client, small_workflow())
        assert first["status"] == "completed", first
        health = healthy(stack)
        assert set(health["stack"]) == set(SERVICES)
        assert all(s["status"] == "running" and s["restarts"] == 0 for s in health["stack"].values())
        pids = {name: s["pid"] for name, s in stack_state(stack).items()}
        workflow_id = client.post("/api/workflows/", json=small_workflow()).json()["id"]

        # Prefect and MLflow frozen, the default thread pool full of requests waiting on them.
        for name in ("prefect", "mlflow"):
            os.killpg(pids[name], signal.SIGSTOP)
        stuck = [threading.Thread(target=lambda path=path: _quietly(client.get, path, timeout=60), daemon=True)
                 for path in ["/api/models/", f"/api/runs/{first['run_id']}/logs"] * 20]
        try:
            for thread in stuck:
                thread.start()
            time.sleep(2)
            t0 = time.monotonic()
            answer = httpx.get(f"{stack.api_url}/health", timeout=30)
            took = time.monotonic() - t0
            say(f"/health answered {answer.status_code} in {took:.1f} s with Prefect and MLflow frozen")
            assert took < HEALTH_ANSWERS_WITHIN_S, f"/health took {took:.1f} s with Prefect and MLflow frozen"
            assert answer.status_code == 503
            checks = answer.json()["checks"]
            assert checks["prefect"] != "ok" and checks["mlflow"] != "ok" and checks["database"] == "ok", checks

            # SIGTERM to the API while a WebSocket is open and requests are in flight.
            port = int(stack.api_url.rsplit(":", 1)[1])
            with connect(f"ws://127.0.0.1:{port}/api/workflows/{workflow_id}/ws", open_timeout=30), \
                    half_sent_request(port):
                t0 = time.monotonic()
                os.kill(pids["api"], signal.SIGTERM)
                wait_for("the API to exit after SIGTERM", lambda: not alive(pids["api"]), timeout=60, every=0.1)
                stopped_in = time.monotonic() - t0
            say(f"the API stopped {stopped_in:.1f} s after SIGTERM (open WebSocket, requests in flight)")
            assert stopped_in < STOP_GRACE_S, f"the API took {stopped_in:.1f} s to stop on SIGTERM"
        finally:
            for name in ("prefect", "mlflow"):
                os.killpg(pids[name], signal.SIGCONT)
        wait_for("the API restarted", lambda: stack_state(stack)["api"]["restarts"] == 1
                 and stack_state(stack)["api"]["status"] == "running" and healthy(stack))

        # Every child killed at once: each is restarted and the stack serves again.
        pids = {name: s["pid"] for name, s in stack_state(stack).items()}
        for name in SERVICES:
            os.kill(pids[name], signal.SIGKILL)
        health = wait_for("every child restarted", lambda: (h := healthy(stack)) and all(
            s["status"] == "running" and s["pid"] != pids[name] for name, s in h["stack"].items()) and h)
        assert all(health["stack"][name]["restarts"] >= 1 for name in SERVICES), health["stack"]
        assert health["stack"]["api"]["restarts"] >= 2, health["stack"]
        for name in SERVICES:
            assert f"{name} exited (killed by SIGKILL)" in stack.log(), stack.log_tail(40)
            assert "killed by SIGKILL" in (stack.home / "logs" / f"{name}.log").read_text()
        say("every child restarted: " + ", ".join(f"{n} x{s['restarts']}" for n, s in health["stack"].items()))
        after = run_to_the_end(client, small_workflow())
        assert after["status"] == "completed", after

        # SIGTERM to `flowza up` stops every process it started, exit 0.
        children = descendants(stack.process.pid)
        stack.process.send_signal(signal.SIGTERM)
        assert stack.process.wait(timeout=60) == 0, stack.log_tail(40)
        assert "Stopped." in stack.log()
        assert [pid for pid in children if alive(pid)] == []
        assert not (stack.home / "run" / "stack.json").exists()


def _quietly(call, *args, **kwargs) -> None:
    try:
        call(*args, **kwargs)
    except httpx.HTTPError:
        pass  # these requests only have to keep the server busy
