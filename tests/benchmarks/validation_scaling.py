"""How validating a workflow scales with its size: a chain sample_dataset -> drop_nulls x (N - 1).

Times ``validate_workflow`` (parse, parameter checks, ports, order, protected columns) on chains of
100 to 5,000 nodes, best of ``--repeat``, and prints the time per node and the ratio of each size to the
100-node chain (with Python's cyclic garbage collector, as served, and without it, the algorithm alone)
next to the ratio a linear cost would give. Issue 13 measured 0.16/1.05/9.2/37.2 s for
100/200/400/600 nodes (cubic); the target is a 5,000-node chain in under a second.

A report, not a test: it exits 1 only when a chain fails to validate. From the repository root:

    .venv/bin/python tests/benchmarks/validation_scaling.py [--sizes 100,200,400,600,1000,2000,5000]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from flows.validation import validate_workflow  # noqa: E402


def chain(size: int) -> dict:
    """A valid workflow of ``size`` nodes in one line, as the editor would save it."""
    nodes = [{"id": "n0", "type": "sample_dataset", "position": {"x": 0, "y": 0}, "parameters": {"name": "iris"}}]
    edges = []
    for i in range(1, size):
        nodes.append({"id": f"n{i}", "type": "drop_nulls", "position": {"x": 220 * i, "y": 0},
                      "data": {"label": f"Drop nulls {i}"}, "parameters": {"how": "any"}})
        edges.append({"id": f"e{i}", "source": f"n{i - 1}", "target": f"n{i}", "sourceHandle": "dataset",
                      "targetHandle": "dataset"})
    return {"name": f"chain of {size}", "nodes": nodes, "connections": edges}


def best_time(workflow: dict, repeat: int, collect_garbage: bool = True) -> float:
    """Best of ``repeat``; ``collect_garbage=False`` leaves Python's cyclic GC out (the algorithm alone)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        if not collect_garbage:
            gc.disable()
        try:
            start = time.perf_counter()
            plan, problems = validate_workflow(workflow)
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
        if plan is None:
            raise SystemExit(f"the chain did not validate: {problems[:3]}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,200,400,600,1000,2000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    validate_workflow(chain(10))  # discover the catalog outside the timings
    first = sizes[0]
    baseline, baseline_no_gc = best_time(chain(first), args.repeat), best_time(chain(first), args.repeat, False)
    print(f"{'nodes':>6} {'seconds':>9} {'ms/node':>8} {'x vs ' + str(first):>10} {'no-GC x':>8} {'linear':>7}")
    for size in sizes:
        workflow = chain(size)
        seconds, no_gc = best_time(workflow, args.repeat), best_time(workflow, args.repeat, False)
        print(f"{size:>6} {seconds:>9.3f} {1000 * seconds / size:>8.3f} {seconds / baseline:>10.1f} "
              f"{no_gc / baseline_no_gc:>8.1f} {size / first:>7.1f}")


if __name__ == "__main__":
    main()
