"""Interactive latency of the Flowza API: how soon a submitted run shows progress, and ends.

Starts the stack as `flowza up` does (Prefect server, MLflow server, Flowza's worker, API) on a
temporary FLOWZA_HOME and free ports, then submits a 3-node workflow (csv_loader -> drop_nulls
-> train_test_split on examples/data/wine.csv) with ``POST /api/workflows/run?use_cache=false``
and polls ``GET /api/runs/{run_id}`` to time:

(1) submission -> the first node seen running or done (target <= 2 s);
(2) submission -> the run seen completed, against the reference baseline measured in the same
    run: the same workflow by ``flows.engine.execute()`` in this process, on the same Prefect
    server (what `flowza run` does).

One warm-up of each, then --repeat runs of each, interleaved; p50 and max. A report, not a
test: it exits 0 whatever the figures, 1 if a run fails, 2 if the stack does not start.
From the repository root:

    .venv/bin/python tests/benchmarks/service_latency.py [--repeat 10] [--poll 0.025]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from stack import REPO, Stack, StackFailed, say, small_workflow  # noqa: E402

FIRST_NODE_TARGET_S = 2.0
FINISHED = ("completed", "failed", "cancelled")
STARTED = ("running", "completed")


class RunFailed(RuntimeError):
    pass


def service_run(client: httpx.Client, workflow: dict, poll_s: float, timeout_s: float) -> dict:
    """Submit through the API and poll until the run ends; seconds from just before the POST."""
    wall0, t0 = time.time(), time.perf_counter()
    resp = client.post("/api/workflows/run", params={"use_cache": "false"}, json=workflow)
    accepted = time.perf_counter() - t0
    if resp.status_code != 200:
        raise RunFailed(f"submission answered {resp.status_code}: {resp.text[:500]}")
    run_id, first = resp.json()["run_id"], None
    while True:
        body = client.get(f"/api/runs/{run_id}").json()
        elapsed = time.perf_counter() - t0
        if first is None and (body.get("status") == "completed"
                              or any(n.get("status") in STARTED for n in body.get("nodes", {}).values())):
            first = elapsed
        if body.get("status") in FINISHED:
            break
        if elapsed > timeout_s:
            raise RunFailed(f"run {run_id} still {body.get('status')} after {timeout_s:.0f} s")
        time.sleep(poll_s)
    if body["status"] != "completed":
        raise RunFailed(f"run {run_id} {body['status']}: {body.get('error') or body.get('nodes')}")
    # The engine's own timestamp of the first node start: without the polling and the record's
    # save throttle (progress is saved at most every 0.25 s).
    starts = [datetime.fromisoformat(n["started_at"]).timestamp()
              for n in body["nodes"].values() if n.get("started_at")]
    return {"accepted": accepted, "first": first, "done": elapsed, "recorded_first": min(starts) - wall0}


def in_process_run(workflow: dict) -> float:
    from flows.engine import execute

    t0 = time.perf_counter()
    record = execute(workflow, use_cache=False)
    elapsed = time.perf_counter() - t0
    if record["status"] != "completed":
        raise RunFailed(f"in-process run {record['status']}: {record['nodes']}")
    return elapsed


def use_stack_in_process(stack: Stack) -> None:
    """Point this process's engine at the stack's Prefect, MLflow, store and data, as the worker is."""
    os.environ.update(FLOWZA_HOME=str(stack.home), FLOWZA_DATA_DIR=str(REPO), PREFECT_API_URL=stack.prefect_api_url,
                      PREFECT_HOME=str(stack.home / "bench-client"), FLOWZA_MLFLOW_TRACKING_URI=stack.mlflow_url)
    for name in ("FLOWZA_OBJECT_STORE_URL", "FLOWZA_DATABASE_URL", "MLFLOW_TRACKING_URI"):
        os.environ.pop(name, None)
    from flows.prefect_env import configure_prefect

    configure_prefect(quiet_console=True)  # as the CLI does: node logs go to the API, not the console


def drain_prefect() -> None:
    """Send this process's pending Prefect logs and events while the server still answers: left
    for exit, they are retried against the stopped server for a minute or more."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=15)


def p50_max(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.2f} s, max {max(values):.2f} s"


def measure(args, stack: Stack) -> None:
    workflow = small_workflow(args.csv, args.target)
    use_stack_in_process(stack)
    service: list[dict] = []
    local: list[float] = []
    with httpx.Client(base_url=stack.api_url, timeout=60) as client:
        say("warm-up: one run through the API, one in-process (imports the engine here)")
        warm = service_run(client, workflow, args.poll, args.timeout)
        say(f"warm-up through the API: first node {warm['first']:.2f} s, completed {warm['done']:.2f} s")
        say(f"warm-up in-process: {in_process_run(workflow):.2f} s")
        for rep in range(args.repeat):
            # Quiet first, as between a user's clicks: Prefect's server is still storing the last run's
            # events, and on SQLite a flow run created meanwhile gets a 503 and is retried ~2 s later.
            time.sleep(args.pause)
            service.append(service_run(client, workflow, args.poll, args.timeout))
            time.sleep(args.pause)
            local.append(in_process_run(workflow))
            s = service[-1]
            say(f"rep {rep + 1}/{args.repeat}: API answer {s['accepted']:.3f} s, first node {s['first']:.2f} s "
                f"(recorded start {s['recorded_first']:.2f} s), completed {s['done']:.2f} s; "
                f"in-process {local[-1]:.2f} s")
    drain_prefect()
    first = [s["first"] for s in service]
    done = [s["done"] for s in service]
    met = max(first) <= FIRST_NODE_TARGET_S
    print(f"(a) submit -> first node: {p50_max(first)} (target <= {FIRST_NODE_TARGET_S:g} s) "
          f"{'PASS' if met else 'MISS'}")
    ratio = statistics.median(done) / statistics.median(local)
    print(f"(a) submit -> completed: {p50_max(done)}; in-process execute() {p50_max(local)}; "
          f"ratio {ratio:.2f}x (service p50 / in-process p50)")
    print(f"    diagnostics: POST -> answer {p50_max([s['accepted'] for s in service])}; first node start "
          f"by the engine's clock {p50_max([s['recorded_first'] for s in service])}; "
          f"{sum(s['accepted'] > 1 for s in service)} of {args.repeat} answers took > 1 s; "
          f"{args.repeat} runs each after a warm-up, polled every {args.poll * 1000:.0f} ms")
    print(f"    the warm-up, the first run after `flowza up` (not counted): first node {warm['first']:.2f} s, "
          f"completed {warm['done']:.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="measured runs of each kind, after one warm-up")
    parser.add_argument("--poll", type=float, default=0.025, help="seconds between GET /api/runs/{id} polls")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds of quiet before each run")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a run may take before it counts as failed")
    parser.add_argument("--csv", default="examples/data/wine.csv", help="CSV, relative to the repository root")
    parser.add_argument("--target", default="target", help="the CSV's target column (for the split)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # results and progress interleave in order
    try:
        with Stack() as stack:
            measure(args, stack)
    except StackFailed as exc:
        print(f"the stack did not start: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"a run failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
