"""Four independent XGBoost branches from one split: Prefect's default runner vs a Dask cluster of two workers.

Generates a CSV (``--rows``, 20 numeric features, binary target), then runs one workflow
(csv_loader -> stratified split -> 4 x (train_xgboost -> evaluate), the four models differing in seed and
depth) with ``flows.engine.execute``, without the cache:

- default: the nodes compute on threads of this process (Prefect's default task runner);
- dask: the same workflow with ``"runner": {"type": "dask"}`` on a ``distributed.LocalCluster`` of two
  worker processes with one thread each, started here (Dask workers run XGBoost on one thread each).

One warm-up run of each (Dask workers import the nodes on their first task), then ``--repeat`` timed runs of
each, interleaved. Prints each run's wall time, the best and median of each, the ratio dask / default, and
whether the metrics of the two runners are equal. A report, not a test. From the repository root:

    .venv/bin/python tests/benchmarks/dask_branches.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

MODELS = {"xgb_a": {"max_depth": 6, "random_state": 1}, "xgb_b": {"max_depth": 6, "random_state": 2},
          "xgb_c": {"max_depth": 5, "random_state": 3}, "xgb_d": {"max_depth": 7, "random_state": 4}}


def make_csv(path: Path, rows: int, seed: int = 11) -> None:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 20)).round(5)
    signal = features[:, :6] @ rng.normal(size=6) + 0.5 * features[:, 6] * features[:, 7]
    table = pd.DataFrame(features, columns=[f"x{i}" for i in range(20)])
    table["label"] = (signal + rng.normal(scale=1.0, size=rows) > 0).astype(int)
    table.to_csv(path, index=False)


def workflow(runner: dict | None) -> dict:
    nodes = [{"id": "load", "type": "csv_loader", "parameters": {"file_path": "branches.csv"}},
             {"id": "split", "type": "train_test_split", "parameters": {"target_column": "label", "stratify": True}}]
    connections = [{"source": "load", "target": "split"}]
    for model, params in MODELS.items():
        nodes += [{"id": model, "type": "train_xgboost", "parameters": {"n_estimators": 200, **params}},
                  {"id": f"eval_{model}", "type": "evaluate", "parameters": {}}]
        connections += [{"source": "split", "sourceHandle": "train", "target": model},
                        {"source": model, "target": f"eval_{model}", "targetHandle": "model"},
                        {"source": "split", "sourceHandle": "test", "target": f"eval_{model}", "targetHandle": "test"}]
    return {"name": "Four XGBoost branches", "nodes": nodes, "connections": connections} \
        | ({"runner": runner} if runner else {})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the generated table")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each runner")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="flowza-dask-bench-"))
    data = root / "data"
    data.mkdir()
    # Before Flowza or Prefect is imported, and before the Dask workers start: they read the same settings.
    os.environ.update(FLOWZA_HOME=str(root / "home"), FLOWZA_DATA_DIR=str(data), PREFECT_HOME=str(root / "prefect"),
                      PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    for name in ("PREFECT_API_URL", "FLOWZA_OBJECT_STORE_URL", "MLFLOW_TRACKING_URI", "FLOWZA_DASK_ADDRESS"):
        os.environ.pop(name, None)
    try:
        make_csv(data / "branches.csv", args.rows)
        print(f"{args.rows} rows x 20 features, {len(MODELS)} XGBoost branches (200 trees each), "
              f"{os.cpu_count()} CPUs", flush=True)
        from distributed import LocalCluster
        from prefect.testing.utilities import prefect_test_harness

        from flows.engine import execute

        # Dask workers report their task runs to Prefect: a server they can reach, not an in-process one.
        with prefect_test_harness(server_startup_timeout=60), \
                LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
            runners = {"default": None, "dask": {"type": "dask", "address": cluster.scheduler_address}}
            walls: dict[str, list[float]] = {name: [] for name in runners}
            metrics: dict[str, dict] = {}
            for round_ in range(args.repeat + 1):
                for name in (runners if round_ % 2 else list(runners)[::-1]):
                    start = time.perf_counter()
                    record = execute(workflow(runners[name]), use_cache=False)
                    wall = time.perf_counter() - start
                    if record["status"] != "completed":
                        print(f"{name} run failed: {record.get('error')}")
                        return 1
                    metrics[name] = record["metrics"]
                    print(f"  {'warm-up' if round_ == 0 else f'run {round_}'} {name:8s} {wall:6.2f} s", flush=True)
                    if round_:
                        walls[name].append(wall)
        print()
        for name, times in walls.items():
            print(f"{name:8s} best {min(times):6.2f} s   median {statistics.median(times):6.2f} s")
        print(f"dask / default: best {min(walls['dask']) / min(walls['default']):.2f}x   "
              f"median {statistics.median(walls['dask']) / statistics.median(walls['default']):.2f}x")
        print(f"metrics equal: {'yes' if metrics['dask'] == metrics['default'] else 'NO'}")
        return 0 if metrics["dask"] == metrics["default"] else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
