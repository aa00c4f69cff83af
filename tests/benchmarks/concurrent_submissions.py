"""A burst of run submissions to the Flowza API: how fast they are accepted, and all finished.

Starts the stack as `flowza up` does (Prefect server, MLflow server, Flowza's worker, API) on a
temporary FLOWZA_HOME and free ports, with FLOWZA_RUNS_PER_MINUTE=1000 so the per-IP rate limit
does not refuse the burst. The workflow is the 3-node one of service_latency.py (csv_loader ->
drop_nulls -> train_test_split on examples/data/wine.csv), submitted with use_cache=false.

(b) baseline: --singles submissions one at a time, each run finished before the next (after
    one warm-up); then --runs submissions at once (asyncio.gather): p50/p99 time to the answer (200),
    the ratio burst p50 / single p50, and the time until every run is completed, with
    progress printed every few seconds.

A report, not a test: it exits 0 whatever the figures, 1 if a submission is refused or a run
fails or is not finished within --timeout, 2 if the stack does not start. From the
repository root:

    .venv/bin/python tests/benchmarks/concurrent_submissions.py [--runs 50] [--timeout 300] [--postgres]

--postgres puts Prefect's server and Flowza's metadata on PostgreSQL, as in the compose stack: fresh
databases on FLOWZA_TEST_POSTGRES_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres),
dropped afterwards. The goal for the drain is 30 s there, 60 s on the embedded stack (SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from stack import Stack, StackFailed, say, small_workflow  # noqa: E402

FINISHED = ("completed", "failed", "cancelled")
DRAIN_GOAL_S = {"embedded": 60.0, "postgres": 30.0}
POSTGRES_ADMIN_URL = os.environ.get("FLOWZA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class RunFailed(RuntimeError):
    pass


async def submit(client: httpx.AsyncClient, workflow: dict) -> tuple[float, httpx.Response | Exception]:
    """Seconds to the answer, and the answer (or the error that replaced it)."""
    t0 = time.perf_counter()
    try:
        resp = await client.post("/api/workflows/run", params={"use_cache": "false"}, json=workflow)
    except httpx.HTTPError as exc:
        return time.perf_counter() - t0, exc
    return time.perf_counter() - t0, resp


def refusal(answer: httpx.Response | Exception) -> str | None:
    if isinstance(answer, Exception):
        return f"{type(answer).__name__}: {answer}"
    return None if answer.status_code == 200 else f"{answer.status_code}: {answer.text[:300]}"


async def statuses(client: httpx.AsyncClient, run_ids: set[str]) -> dict[str, dict]:
    """The runs among ``run_ids``, from one listing (each unfinished run is refreshed by the API)."""
    resp = await client.get("/api/runs/", params={"limit": 500})
    resp.raise_for_status()
    return {run["run_id"]: run for run in resp.json() if run["run_id"] in run_ids}


async def wait_one(client: httpx.AsyncClient, run_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while (body := (await client.get(f"/api/runs/{run_id}")).json())["status"] not in FINISHED:
        if time.monotonic() > deadline:
            raise RunFailed(f"run {run_id} still {body['status']} after {timeout_s:.0f} s")
        await asyncio.sleep(0.1)
    if body["status"] != "completed":
        raise RunFailed(f"run {run_id} {body['status']}: {body.get('error') or body.get('nodes')}")


async def single_submissions(client: httpx.AsyncClient, workflow: dict, count: int, timeout_s: float) -> list[float]:
    """Seconds until each submission made alone is answered (200): each run finishes before the next is sent."""
    latencies = []
    for i in range(count + 1):  # the first is a warm-up
        await asyncio.sleep(1.5)  # as in service_latency.py: let Prefect's server store the last run's events
        elapsed, answer = await submit(client, workflow)
        if why := refusal(answer):
            raise RunFailed(f"a single submission was not accepted: {why}")
        await wait_one(client, answer.json()["run_id"], timeout_s)
        if i:
            latencies.append(elapsed)
        say(f"{'warm-up' if not i else f'single {i}/{count}'}: answered after {elapsed:.3f} s, run completed")
    return latencies


async def burst(client: httpx.AsyncClient, workflow: dict, args) -> dict:
    """Submit ``args.runs`` at once, then wait for the accepted runs to finish."""
    await asyncio.sleep(1.0)
    say(f"submitting {args.runs} runs at once")
    wall0, t0 = time.time(), time.perf_counter()
    pending = [asyncio.create_task(submit(client, workflow)) for _ in range(args.runs)]
    while not all(task.done() for task in pending):  # no polling yet: it would compete with the submissions
        await asyncio.wait(pending, timeout=args.progress)
        say(f"{time.perf_counter() - t0:5.1f} s: {sum(task.done() for task in pending)}/{args.runs} answered")
    answers = [task.result() for task in pending]
    accepted = time.perf_counter() - t0
    refused = [why for _, answer in answers if (why := refusal(answer))]
    run_ids = {answer.json()["run_id"] for _, answer in answers if not refusal(answer)}
    say(f"{len(run_ids)} of {args.runs} accepted, all answered {accepted:.2f} s after the burst started")
    next_report, runs = 0.0, {}
    while run_ids:
        runs = await statuses(client, run_ids)
        elapsed = time.perf_counter() - t0
        counts = Counter(run["status"] for run in runs.values())
        finished = sum(counts[s] for s in FINISHED)
        if finished == len(run_ids) or elapsed > args.timeout or elapsed >= next_report:
            say(f"{elapsed:5.1f} s: {counts['completed']} completed, {counts['failed']} failed, "
                f"{counts['running']} running, {counts['pending']} pending")
            next_report = elapsed + args.progress
        if finished == len(run_ids) or elapsed > args.timeout:
            break
        await asyncio.sleep(1.0)
    # By the engine's clock, without the polling: when the last node of any run finished.
    ends = [datetime.fromisoformat(node["finished_at"]).timestamp() - wall0
            for run in runs.values() for node in run["nodes"].values() if node.get("finished_at")]
    return {"latencies": [elapsed for elapsed, answer in answers if not refusal(answer)], "refused": refused,
            "counts": Counter(run["status"] for run in runs.values()), "elapsed": time.perf_counter() - t0,
            "recorded_last": max(ends, default=None), "accepted": accepted}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


async def measure(args, stack: Stack) -> bool:
    """Prints the figures; True if every submission was accepted and every run completed."""
    workflow = small_workflow()
    limits = httpx.Limits(max_connections=args.runs + 10, max_keepalive_connections=args.runs + 10)
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=args.timeout, limits=limits) as client:
        singles = await single_submissions(client, workflow, args.singles, args.timeout)
        outcome = await burst(client, workflow, args)
    latencies, counts, refused = outcome["latencies"], outcome["counts"], outcome["refused"]
    single_p50 = statistics.median(singles)
    print(f"(b) single submission alone -> answer: p50 {single_p50:.3f} s, max {max(singles):.3f} s "
          f"({args.singles} sequential, each run finished before the next)")
    if latencies:
        burst_p50 = statistics.median(latencies)
        print(f"(b) {args.runs} concurrent submissions -> answer: p50 {burst_p50:.2f} s, p99 {pct(latencies, 99):.2f} s, "
              f"max {max(latencies):.2f} s (all answered after {outcome['accepted']:.2f} s); "
              f"ratio burst p50 / single p50 {burst_p50 / single_p50:.1f}x")
    if refused:  # by kind: a status code, or the client's error (ReadTimeout: no answer within --timeout)
        kinds = Counter(why.split(":")[0] for why in refused)
        firsts = {kind: next(w for w in refused if w.split(":")[0] == kind) for kind in kinds}
        print(f"(b) {len(refused)} of {args.runs} submissions NOT accepted: "
              + "; ".join(f"{n} x {firsts[kind][:200]}" for kind, n in kinds.most_common()))
    all_done = not refused and counts["completed"] == args.runs
    unfinished = len(latencies) - sum(counts[s] for s in FINISHED)
    last = f" (last node finished at {outcome['recorded_last']:.1f} s)" if outcome["recorded_last"] else ""
    kind = "postgres" if args.postgres else "embedded"
    goal = DRAIN_GOAL_S[kind]
    met = all_done and outcome["elapsed"] <= goal
    print(f"(b) {args.runs} runs completed: {counts['completed']}/{args.runs} ({counts['failed']} failed, "
          f"{counts['cancelled']} cancelled, {unfinished} unfinished, {len(refused)} refused); "
          f"{'all completed' if all_done else 'stopped waiting'} {outcome['elapsed']:.1f} s after the burst "
          f"started{last}; goal <= {goal:.0f} s ({kind}) {'PASS' if met else 'MISS'}")
    return all_done


@contextmanager
def postgres_databases(*purposes: str):
    """Fresh PostgreSQL databases, one per purpose: {purpose: URL}; dropped on exit."""
    import psycopg2

    admin = psycopg2.connect(POSTGRES_ADMIN_URL, connect_timeout=5)
    admin.autocommit = True
    names = {purpose: f"flowza_bench_{purpose}_{uuid.uuid4().hex[:8]}" for purpose in purposes}
    try:
        with admin.cursor() as cur:
            for name in names.values():
                cur.execute(f'CREATE DATABASE "{name}"')
        server = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        yield {purpose: f"{server}/{name}" for purpose, name in names.items()}
    finally:
        with admin.cursor() as cur:
            for name in names.values():
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="submissions sent at once")
    parser.add_argument("--singles", type=int, default=5, help="sequential submissions for the baseline")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for all runs of the burst to finish")
    parser.add_argument("--progress", type=float, default=5, help="seconds between progress lines")
    parser.add_argument("--postgres", action="store_true",
                        help="Prefect's server and Flowza's metadata on PostgreSQL (fresh databases)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # results and progress interleave in order
    env = {"FLOWZA_RUNS_PER_MINUTE": "1000"}
    try:
        with ExitStack() as resources:
            if args.postgres:
                urls = resources.enter_context(postgres_databases("prefect", "metadata"))
                env |= {"PREFECT_SERVER_DATABASE_CONNECTION_URL":
                        urls["prefect"].replace("postgresql://", "postgresql+asyncpg://", 1),
                        "FLOWZA_DATABASE_URL": urls["metadata"]}
                say(f"Prefect's server and Flowza's metadata on PostgreSQL ({POSTGRES_ADMIN_URL.rsplit('/', 1)[0]})")
            stack = resources.enter_context(Stack(extra_env=env))
            ok = asyncio.run(measure(args, stack))
    except StackFailed as exc:
        print(f"the stack did not start: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"a run failed: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
