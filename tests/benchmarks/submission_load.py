"""Sustained submissions from many users: every accepted run reaches a final state, none is lost.

Starts the stack as `flowza up` does (tests/benchmarks/stack.py) in multi-user mode
(FLOWZA_AUTH_ENABLED=true, FLOWZA_RUNS_PER_MINUTE=1000), registers --clients users and, from one
client per user, submits --runs runs in all, spread evenly over --window seconds (default: 200 runs
from 20 clients within 60 s). The workflow is sample_dataset (iris) -> drop_nulls, use_cache=false.

Baseline, measured first in the same run: one run alone, from submission to completed. Then the
load; it prints how many were accepted, their final states, how many were lost (accepted but not
final within --timeout, or gone), and the drain time: from the first submission until the last run
ended, with the ratio drain / (runs x baseline), i.e. how much the queue overlaps runs.

A report, not a test: exits 0 when every submission was accepted and none was lost, 1 otherwise,
2 if the stack does not start. From the repository root:

    .venv/bin/python tests/benchmarks/submission_load.py [--runs 200] [--clients 20] [--window 60]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from stack import Stack, StackFailed, say  # noqa: E402

FINISHED = ("completed", "failed", "cancelled", "crashed")
WORKFLOW = {"name": "load-bench", "nodes": [{"id": "data", "type": "sample_dataset", "parameters": {"name": "iris"}},
                                            {"id": "clean", "type": "drop_nulls"}],
            "connections": [{"source": "data", "target": "clean"}]}
PASSWORD = "correct horse battery staple"


async def user_client(stack: Stack, index: int, timeout: float) -> httpx.AsyncClient:
    """A client logged in as a new user of its own."""
    client = httpx.AsyncClient(base_url=stack.api_url, timeout=timeout)
    email = f"load{index}@example.com"
    created = await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    if created.status_code != 201:
        raise RuntimeError(f"registering {email}: {created.status_code} {created.text[:200]}")
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    return client


async def submit(client: httpx.AsyncClient) -> str:
    """The run id, or raises with the refusal."""
    answer = await client.post("/api/workflows/run", params={"use_cache": "false"}, json=WORKFLOW)
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.status_code}: {answer.text[:200]}")
    return answer.json()["run_id"]


async def statuses(clients: list[httpx.AsyncClient]) -> dict[str, str]:
    """Every run of every user, by id: each user sees their own. A pending run is ``queued`` once it has
    a flow run (handed to Prefect), ``unsubmitted`` before (still in the outbox)."""
    found: dict[str, str] = {}
    for client in clients:
        try:
            resp = await client.get("/api/runs/", params={"limit": 500})
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            say(f"listing runs failed ({type(exc).__name__}); trying again")
            continue
        found.update({run["run_id"]: run["status"] if run["status"] != "pending" else
                      "queued" if run["flow_run_id"] else "unsubmitted" for run in resp.json()})
    return found


async def baseline(client: httpx.AsyncClient, timeout: float) -> float:
    """Seconds from submission to completed for one run alone (after a warm-up run)."""
    took = 0.0
    for _ in range(2):
        t0 = time.perf_counter()
        run_id = await submit(client)
        while (status := (await client.get(f"/api/runs/{run_id}")).json()["status"]) not in FINISHED:
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"the baseline run is still {status} after {timeout:.0f} s")
            await asyncio.sleep(0.1)
        if status != "completed":
            raise RuntimeError(f"the baseline run ended {status}")
        took = time.perf_counter() - t0
    return took


async def client_load(client: httpx.AsyncClient, index: int, args, t0: float) -> tuple[list[str], list[str]]:
    """This client's share of the runs, each at its slot of the window; (accepted ids, refusals)."""
    accepted, refused = [], []
    mine = [k for k in range(args.runs) if k % args.clients == index]
    for k in mine:
        await asyncio.sleep(max(0.0, t0 + k * args.window / args.runs - time.perf_counter()))
        try:
            accepted.append(await submit(client))
        except (RuntimeError, httpx.HTTPError) as exc:
            refused.append(f"{type(exc).__name__}: {exc}")
    return accepted, refused


async def measure(args, stack: Stack) -> bool:
    clients = [await user_client(stack, i, args.timeout) for i in range(args.clients)]
    try:
        single = await baseline(clients[0], args.timeout)
        say(f"baseline: one run alone, submission to completed in {single:.2f} s")
        say(f"submitting {args.runs} runs from {args.clients} users over {args.window:.0f} s")
        t0 = time.perf_counter()
        outcomes = await asyncio.gather(*(client_load(c, i, args, t0) for i, c in enumerate(clients)))
        submitted_in = time.perf_counter() - t0
        run_ids = {run_id for accepted, _ in outcomes for run_id in accepted}
        refused = [why for _, refusals in outcomes for why in refusals]
        say(f"{len(run_ids)} accepted, {len(refused)} refused, all sent within {submitted_in:.1f} s")
        seen: dict[str, str] = {}
        next_report, all_submitted = 0.0, None
        while True:
            seen = {k: v for k, v in (await statuses(clients)).items() if k in run_ids}
            elapsed = time.perf_counter() - t0
            if all_submitted is None and len(seen) == len(run_ids) and "unsubmitted" not in seen.values():
                all_submitted = elapsed
            finished = sum(status in FINISHED for status in seen.values())
            if finished == len(run_ids) or elapsed > args.timeout or elapsed >= next_report:
                say(f"{elapsed:6.1f} s: {dict(Counter(seen.values()))}")
                next_report = elapsed + args.progress
            if finished == len(run_ids) or elapsed > args.timeout:
                break
            await asyncio.sleep(2.0)
        drain = time.perf_counter() - t0
    finally:
        for client in clients:
            await client.aclose()
    counts = Counter(seen.values())
    lost = len(run_ids) - sum(counts[s] for s in FINISHED)
    print(f"baseline: one run alone {single:.2f} s from submission to completed")
    print(f"submitted: {args.runs} from {args.clients} users in {submitted_in:.1f} s; accepted {len(run_ids)}, "
          f"refused {len(refused)}" + (f" (first: {refused[0][:200]})" if refused else ""))
    print("final states: " + ", ".join(f"{counts[s]} {s}" for s in FINISHED)
          + f"; lost {lost} (not final after {args.timeout:.0f} s, or missing)")
    print(f"handed to Prefect: every accepted run had its flow run "
          + (f"{all_submitted:.1f} s after the first submission" if all_submitted is not None else "NEVER"))
    print(f"drain time: {drain:.1f} s from the first submission until every accepted run ended "
          f"({drain - submitted_in:.1f} s after the last submission); ratio drain / ({len(run_ids)} x baseline) "
          f"{drain / (max(1, len(run_ids)) * single):.2f}  {'PASS' if not lost and not refused else 'MISS'}")
    return not lost and not refused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--window", type=float, default=60, help="seconds over which the runs are submitted")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for every run to end")
    parser.add_argument("--progress", type=float, default=10, help="seconds between progress lines")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    try:
        with Stack(extra_env={"FLOWZA_AUTH_ENABLED": "true", "FLOWZA_RUNS_PER_MINUTE": "1000"}) as stack:
            ok = asyncio.run(measure(args, stack))
    except StackFailed as exc:
        print(f"the stack did not start: {exc}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
